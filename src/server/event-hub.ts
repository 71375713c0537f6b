/**
 * Server-Sent Events fan-out.
 *
 * Per session, one store subscription (a channel) feeds every stream of that session open on
 * this instance. Each event is formatted and encoded once and the same bytes are enqueued to
 * every stream: the fan-out loop allocates nothing per stream, which matters when one write
 * reaches hundreds of readers. One timer sends the heartbeat to all streams.
 *
 * Stores deliver events at most once and, across instances, maybe late: the channel tracks
 * the last version it sent and repairs any gap from `changesSince`, so every stream sees each
 * version once, in order. A stream that falls `streamBufferMaxBytes` behind is cut; its client
 * reconnects with `Last-Event-ID` and catches up from the history.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import type { Change, Json, Peer, SnapshotEventData } from '../protocol.js';
import type { Logger } from './log.js';
import type { SessionEvent, SyncStore } from './store.js';

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(': heartbeat\n\n');

/** Formats one SSE event. Its JSON holds no raw line breaks, so one `data:` line suffices. */
function encodeEvent(event: string, data: unknown, id?: number): Uint8Array {
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  return encoder.encode(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function snapshotEvent(version: number, state: Json, peers: Peer[]): Uint8Array {
  const data: SnapshotEventData = { version, state, peers };
  return encodeEvent('snapshot', data, version);
}

interface Stream {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Versions up to this one reached the stream already (snapshot or catch-up). */
  floor: number;
}

/** All streams of one session on this instance, fed by one store subscription. */
class Channel {
  readonly streams = new Set<Stream>();
  /** Last version sent to the streams; -1 until the channel has read the session. */
  version = -1;
  /** Opens waiting in the queue; the channel stays while any is pending. */
  pendingOpens = 0;
  ended = false;
  #tail: Promise<void> = Promise.resolve();
  readonly #unsubscribe: () => void;

  constructor(
    readonly key: string,
    private readonly hub: EventHub,
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

  /** Sends bytes to every stream that has not seen `version` yet. The hot path. */
  broadcast(bytes: Uint8Array, version = Infinity): void {
    const limit = this.hub.streamBufferMaxBytes;
    for (const stream of this.streams) {
      if (version <= stream.floor) continue;
      stream.controller.enqueue(bytes);
      if (stream.controller.desiredSize! < -limit) this.#cut(stream);
    }
  }

  /** Ends every stream and the subscription; the session is gone or the server closes. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.#unsubscribe();
    for (const stream of this.streams) {
      try {
        stream.controller.close();
      } catch {
        // Already closed by its reader.
      }
    }
    this.streams.clear();
    this.hub.forget(this);
  }

  detach(stream: Stream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.pendingOpens === 0) this.end();
  }

  #cut(stream: Stream): void {
    this.streams.delete(stream);
    stream.controller.error(new Error('The reader fell too far behind; it may resume.'));
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
        // Streams stay open on heartbeats; the store's `resync` that follows repairs the gap.
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
      stream.controller.enqueue(bytes);
      stream.floor = outcome.version;
    }
    this.version = outcome.version;
  }
}

/** Opens and feeds the event streams of every session on this instance. */
export class EventHub {
  readonly #channels = new Map<string, Channel>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly store: SyncStore,
    readonly logger: Logger,
    readonly heartbeatMs: number,
    readonly streamBufferMaxBytes: number,
  ) {}

  /** Streams open now, across all sessions. */
  get streamCount(): number {
    let count = 0;
    for (const channel of this.#channels.values()) count += channel.streams.size;
    return count;
  }

  /**
   * Opens a stream of a session's events.
   *
   * @param since - the last version the client holds (from `Last-Event-ID` or `?since=`): it
   *   gets exactly the changes after it, or a snapshot when the history no longer reaches back
   * @returns the stream's body, or undefined when the session does not exist
   */
  async open(key: string, since?: number): Promise<ReadableStream<Uint8Array> | undefined> {
    let channel = this.#channels.get(key);
    if (!channel) {
      channel = new Channel(key, this);
      this.#channels.set(key, channel);
    }
    channel.pendingOpens++;
    try {
      const body = await channel.run(() => this.#attach(channel, since));
      if (body === 'retry') return this.open(key, since);
      return body;
    } finally {
      channel.pendingOpens--;
      if (channel.streams.size === 0 && channel.pendingOpens === 0) channel.end();
    }
  }

  async #attach(channel: Channel, since: number | undefined) {
    if (channel.ended) return 'retry' as const;
    const { store } = this;
    if (channel.version < 0) {
      const session = await store.get(channel.key);
      if (!session) return undefined;
      channel.version = session.version;
    }

    const chunks: Uint8Array[] = [];
    let floor: number;
    const outcome = since === undefined ? undefined : await store.changesSince(channel.key, since);
    if (outcome?.kind === 'changes') {
      for (const change of outcome.changes)
        chunks.push(encodeEvent('change', change, change.version));
      chunks.push(encodeEvent('presence', { peers: await store.peers(channel.key) }));
      floor = outcome.version;
    } else {
      const session = outcome ?? (await store.get(channel.key));
      if (!session) return undefined;
      chunks.push(snapshotEvent(session.version, session.state, await store.peers(channel.key)));
      floor = session.version;
    }

    let stream: Stream;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          stream = { controller, floor };
          for (const chunk of chunks) controller.enqueue(chunk);
          channel.streams.add(stream);
        },
        cancel: () => channel.detach(stream),
      },
      { highWaterMark: 0, size: (chunk) => chunk.byteLength },
    );
    this.#startHeartbeat();
    return body;
  }

  /** Called by a channel that ended. */
  forget(channel: Channel): void {
    if (this.#channels.get(channel.key) === channel) this.#channels.delete(channel.key);
    if (this.#channels.size === 0) this.#stopHeartbeat();
  }

  /** Ends every stream; used when the server shuts down. */
  close(): void {
    for (const channel of [...this.#channels.values()]) channel.end();
    this.#stopHeartbeat();
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      for (const channel of this.#channels.values()) channel.broadcast(HEARTBEAT);
    }, this.heartbeatMs);
    (this.#heartbeat as { unref?: () => void }).unref?.();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
