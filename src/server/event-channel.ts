/**
 * One session's event streams on this instance: a channel holds them, takes the session's
 * events from one store subscription, and writes each version to every stream once, in order.
 *
 * Stores deliver events at most once and, across instances, maybe late: the channel tracks
 * the last version it sent and repairs any gap from `changesSince`, so every stream sees each
 * version once, in order. A stream that falls `streamBufferMaxBytes` behind is cut; its client
 * reconnects with `Last-Event-ID` and catches up from the history.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import type { Change, Json, Peer, SnapshotEventData } from '../protocol.js';
import { EventBatcher, joinEvents } from './event-batch.js';
import type { OutgoingEvent } from './event-batch.js';
import type { Logger } from './log.js';
import type { SessionEvent, SyncStore } from './store.js';
import type { StreamSink } from './stream-sinks.js';

/** What a channel needs from the hub that holds it. */
export interface ChannelOwner {
  readonly store: SyncStore;
  readonly logger: Logger;
  readonly streamBufferMaxBytes: number;
  /** Called once the channel has ended. */
  forget(channel: Channel): void;
}

const encoder = new TextEncoder();
export const HEARTBEAT = encoder.encode(': heartbeat\n\n');
const UNAVAILABLE = encodeEvent('unavailable', {
  detail: 'The store cannot be reached; changes resume when it is back.',
});

/** Formats one SSE event. Its JSON holds no raw line breaks, so one `data:` line suffices. */
export function encodeEvent(event: string, data: unknown, id?: number): Uint8Array {
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  return encoder.encode(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function snapshotEvent(version: number, state: Json, peers: Peer[]): Uint8Array {
  const data: SnapshotEventData = { version, state, peers };
  return encodeEvent('snapshot', data, version);
}

/** All streams of one session on this instance, fed by one store subscription. */
export class Channel {
  readonly streams = new Set<StreamSink>();
  /** Last version sent to the streams; -1 until the channel has read the session. */
  version = -1;
  /** Opens waiting in the queue; the channel stays while any is pending. */
  pendingOpens = 0;
  ended = false;
  #tail: Promise<void> = Promise.resolve();
  readonly #batcher = new EventBatcher((events) => this.#deliver(events));
  readonly #unsubscribe: () => void;

  constructor(
    readonly key: string,
    private readonly hub: ChannelOwner,
  ) {
    this.#unsubscribe = hub.store.subscribe(key, (event) => this.#onEvent(event));
  }

  /** Runs tasks one at a time, in order, so events and opens never interleave. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => undefined,
      (error: unknown) => this.hub.logger.error(error, { route: '/sessions/:key/events' }),
    );
    return result;
  }

  /** Sends bytes to every stream that has not seen `version` yet, at once or this turn. */
  broadcast(bytes: Uint8Array, version = Infinity): void {
    this.#batcher.push({ bytes, version });
  }

  /** Writes events to every stream, each only those it has not seen. The hot path. */
  #deliver(events: OutgoingEvent[]): void {
    const { bytes, lowest } = joinEvents(events);
    // Measured before these events, so one chunk larger than the limit does not cut everyone.
    const limit = this.hub.streamBufferMaxBytes + bytes.byteLength;
    for (const stream of this.streams) {
      if (lowest > stream.floor) {
        stream.write(bytes);
      } else {
        // A stream that joined after some of these (its catch-up had them already).
        for (const event of events) if (event.version > stream.floor) stream.write(event.bytes);
      }
      if (stream.buffered() > limit) this.#cut(stream);
    }
  }

  /** Ends every stream and the subscription; the session is gone or the server closes. */
  end(): void {
    if (this.ended) return;
    this.#batcher.drain();
    this.ended = true;
    this.#unsubscribe();
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    this.hub.forget(this);
  }

  detach(stream: StreamSink): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.pendingOpens === 0) this.end();
  }

  #cut(stream: StreamSink): void {
    this.streams.delete(stream);
    stream.cut();
  }

  #onEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'change':
        void this.run(() => this.#applyChange(event.change));
        break;
      case 'presence': {
        const bytes = encodeEvent('presence', { peers: event.peers });
        void this.run(() => this.broadcast(bytes));
        break;
      }
      case 'deleted':
        void this.run(() => this.end());
        break;
      case 'resync':
        void this.run(() => this.repair());
        break;
      case 'unavailable':
        // Streams stay open and say so; the store's `resync` that follows repairs the gap.
        void this.run(() => this.broadcast(UNAVAILABLE));
        break;
    }
  }

  async #applyChange(change: Change): Promise<void> {
    if (this.ended || this.version < 0 || change.version <= this.version) return;
    if (change.version === this.version + 1) {
      this.broadcast(encodeEvent('change', change, change.version), change.version);
      this.version = change.version;
      return;
    }
    await this.repair();
  }

  /** Brings every stream up to the store's version from the history, or by a snapshot. */
  async repair(): Promise<void> {
    if (this.ended || this.version < 0) return;
    const outcome = await this.hub.store.changesSince(this.key, this.version);
    if (!outcome) return this.end();

    if (outcome.kind === 'changes') {
      for (const change of outcome.changes) {
        if (change.version !== this.version + 1) continue;
        this.broadcast(encodeEvent('change', change, change.version), change.version);
        this.version = change.version;
      }
      return;
    }
    const peers = await this.hub.store.peers(this.key);
    const bytes = snapshotEvent(outcome.version, outcome.state, peers);
    for (const stream of this.streams) {
      stream.write(bytes);
      stream.floor = outcome.version;
    }
    this.version = outcome.version;
  }
}
