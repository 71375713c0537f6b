/**
 * session-sync over long-poll: each reader loops on `GET /sessions/{key}/changes?since=V&wait=S`,
 * the fallback the element uses where streams are blocked. A write wakes every held request;
 * changes that land while a reader is reconnecting come in its next answer.
 */
import type { Agent } from 'node:http';
import type { ServerChild } from '../lib/children.js';
import { startServerChild } from '../lib/children.js';
import {
  createSession,
  keepAliveAgent,
  patchSession,
  send,
  type Session,
} from '../lib/sync-api.js';
import type { DeliveryListener, PropagationTarget } from './transport.js';

/** Seconds a poll may be held; the server caps it further if it wants. */
const WAIT_SECONDS = 20;

interface ChangesAnswer {
  version: number;
  changes?: { version: number; patch: { seq?: number } }[];
  reset?: true;
}

export class LongPollTarget implements PropagationTarget {
  readonly name = 'session-sync long-poll';
  #server?: ServerChild;
  #writer: Agent = keepAliveAgent(16);
  #readers?: Agent;
  #session?: Session;
  #running = false;
  #loops: Promise<void>[] = [];

  async start(): Promise<void> {
    this.#server = await startServerChild('session-sync');
  }

  async openReaders(count: number, onDelivery: DeliveryListener): Promise<void> {
    const url = this.#server!.url;
    const session = await createSession(this.#writer, url, { seq: 0 });
    this.#session = session;
    this.#readers = keepAliveAgent(count);
    this.#running = true;

    // The first poll of each reader is answered at once (nothing newer than the current
    // version exists, so it is held): wait until every reader has sent it.
    const held: Promise<void>[] = [];
    for (let reader = 0; reader < count; reader += 1) {
      let sent!: () => void;
      held.push(new Promise<void>((resolve) => (sent = resolve)));
      this.#loops.push(this.#poll(reader, session, onDelivery, sent));
    }
    await Promise.all(held);
    // A sent request is not yet a held one; give the server a moment to park them all.
    await new Promise((resolve) => setTimeout(resolve, 200 + count * 2));
  }

  async #poll(
    reader: number,
    session: Session,
    onDelivery: DeliveryListener,
    sent: () => void,
  ): Promise<void> {
    let since = session.version;
    const base = `${this.#server!.url}/sessions/${session.key}/changes`;
    while (this.#running) {
      const answer = send(this.#readers!, 'GET', `${base}?since=${since}&wait=${WAIT_SECONDS}`);
      sent();
      let reply;
      try {
        reply = await answer;
      } catch {
        if (this.#running) await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (reply.status === 304) continue;
      if (reply.status !== 200)
        throw new Error(`long-poll answered ${reply.status}: ${reply.body}`);
      const body = JSON.parse(reply.body) as ChangesAnswer;
      for (const change of body.changes ?? []) {
        if (typeof change.patch.seq === 'number') onDelivery(reader, change.patch.seq);
      }
      since = body.version;
    }
  }

  async write(seq: number): Promise<void> {
    const { status } = await patchSession(
      this.#writer,
      this.#server!.url,
      this.#session!,
      `{"seq":${seq}}`,
    );
    if (status !== 200) throw new Error(`PATCH answered ${status}`);
  }

  async closeReaders(): Promise<void> {
    this.#running = false;
    // Held polls end when their sockets go.
    this.#readers?.destroy();
    await Promise.allSettled(this.#loops);
    this.#loops = [];
  }

  async stop(): Promise<void> {
    this.#writer.destroy();
    await this.#server?.stop();
  }
}
