/**
 * Yjs with y-websocket doing the same work: one writer sets a key of a shared Y.Map, each
 * reader is a full Y.Doc behind its own WebsocketProvider and reports when its map shows the
 * new value. Awareness (Yjs's presence) is switched off on every client, because our readers
 * announce no presence either; with it on, each client re-broadcasts its awareness every
 * 15 s to all others, which would add N² messages to Yjs's side of the work.
 */
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { startServerChild, type ServerChild } from '../lib/children.js';
import type { DeliveryListener, PropagationTarget } from './transport.js';

const SYNC_TIMEOUT_MS = 30_000;

interface Client {
  doc: Y.Doc;
  provider: WebsocketProvider;
}

/** A Y.Doc connected to `room`, without awareness or cross-tab channels. */
export function connectYjsClient(url: string, room: string): Client {
  // Every y-websocket provider in Node adds a process 'exit' listener (removed by destroy());
  // hundreds at once are expected here, not a leak.
  const exitListeners = process.listenerCount('exit') + 1;
  if (exitListeners >= process.getMaxListeners()) process.setMaxListeners(exitListeners + 100);
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  provider.awareness.setLocalState(null);
  return { doc, provider };
}

/** Resolves when `provider` has finished its first sync with the server. */
export function synced(provider: WebsocketProvider): Promise<void> {
  if (provider.synced) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('y-websocket did not sync')), SYNC_TIMEOUT_MS);
    provider.once('sync', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class YjsTarget implements PropagationTarget {
  readonly name = 'Yjs + y-websocket';
  #server?: ServerChild;
  #writer?: Client;
  #readers: Client[] = [];
  #rooms = 0;

  async start(): Promise<void> {
    this.#server = await startServerChild('yjs-websocket');
  }

  async openReaders(count: number, onDelivery: DeliveryListener): Promise<void> {
    const url = this.#server!.url;
    const room = `bench-${process.pid}-${(this.#rooms += 1)}`;
    this.#writer = connectYjsClient(url, room);

    for (let reader = 0; reader < count; reader += 1) {
      const client = connectYjsClient(url, room);
      const map = client.doc.getMap<number>('state');
      map.observe(() => onDelivery(reader, map.get('seq') ?? -1));
      this.#readers.push(client);
    }
    await Promise.all([this.#writer, ...this.#readers].map(({ provider }) => synced(provider)));
  }

  async write(seq: number): Promise<void> {
    // A Yjs write is local and sent at once; there is no acknowledgement to wait for.
    this.#writer!.doc.getMap<number>('state').set('seq', seq);
  }

  async closeReaders(): Promise<void> {
    for (const { provider, doc } of [this.#writer!, ...this.#readers]) {
      provider.destroy();
      doc.destroy();
    }
    this.#readers = [];
  }

  async stop(): Promise<void> {
    await this.#server?.stop();
  }
}
