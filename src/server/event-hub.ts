/**
 * Server-Sent Events fan-out.
 *
 * Per session, one store subscription (a channel) feeds every stream of that session open on
 * this instance. Each event is formatted and encoded once and the same bytes are enqueued to
 * every stream: the fan-out loop allocates nothing per stream, which matters when one write
 * reaches hundreds of readers. On Node the bytes go straight to each response (see
 * `stream-sinks.ts`). One timer sends the heartbeat to all streams.
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
import { NodeResponseSink, WebStreamSink } from './stream-sinks.js';
import type { NodeResponse, StreamSink } from './stream-sinks.js';

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(': heartbeat\n\n');
const UNAVAILABLE = encodeEvent('unavailable', {
  detail: 'The store cannot be reached; changes resume when it is back.',
});

/** Formats one SSE event. Its JSON holds no raw line breaks, so one `data:` line suffices. */
function encodeEvent(event: string, data: unknown, id?: number): Uint8Array {
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  return encoder.encode(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function snapshotEvent(version: number, state: Json, peers: Peer[]): Uint8Array {
  const data: SnapshotEventData = { version, state, peers };
  return encodeEvent('snapshot', data, version);
}

/** All streams of one session on this instance, fed by one store subscription. */
class Channel {
  readonly streams = new Set<StreamSink>();
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
    // Measured before this event, so one event larger than the limit does not cut everyone.
    const limit = this.hub.streamBufferMaxBytes + bytes.byteLength;
    for (const stream of this.streams) {
      if (version <= stream.floor) continue;
      stream.write(bytes);
      if (stream.buffered() > limit) this.#cut(stream);
    }
  }

  /** Ends every stream and the subscription; the session is gone or the server closes. */
  end(): void {
    if (this.ended) return;
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
   * Opens a stream of a session's events as a web stream, for any fetch-style host.
   *
   * @param since - the last version the client holds (from `Last-Event-ID` or `?since=`): it
   *   gets exactly the changes after it, or a snapshot when the history no longer reaches back
   * @returns the response body, or undefined when the session does not exist
   */
  async open(key: string, since?: number): Promise<ReadableStream<Uint8Array> | undefined> {
    let body: ReadableStream<Uint8Array> | undefined;
    const attached = await this.#attach(key, since, (channel, chunks, floor) => {
      let sink!: WebStreamSink;
      body = new ReadableStream<Uint8Array>(
        {
          start: (controller) => {
            sink = new WebStreamSink(controller, floor);
            for (const chunk of chunks) controller.enqueue(chunk);
          },
          cancel: () => channel.detach(sink),
        },
        { highWaterMark: 0, size: (chunk) => chunk.byteLength },
      );
      return sink;
    });
    return attached ? body : undefined;
  }

  /**
   * Opens a stream of a session's events written straight to a Node response: the head, the
   * catch-up, then every event as it comes.
   *
   * @returns false when the session does not exist (nothing was written then)
   */
  openNode(
    key: string,
    since: number | undefined,
    response: NodeResponse,
    headers: Record<string, string>,
  ): Promise<boolean> {
    return this.#attach(key, since, (channel, chunks, floor) => {
      if (response.destroyed) return undefined;
      response.writeHead(200, headers);
      for (const chunk of chunks) response.write(chunk);
      const sink = new NodeResponseSink(response, floor);
      response.once('close', () => channel.detach(sink));
      return sink;
    });
  }

  /**
   * Works out what a new stream must be sent first, then connects it, in the channel's queue
   * so that no event is sent between the catch-up and the stream's joining.
   */
  async #attach(
    key: string,
    since: number | undefined,
    connect: (channel: Channel, chunks: Uint8Array[], floor: number) => StreamSink | undefined,
  ): Promise<boolean> {
    let channel = this.#channels.get(key);
    if (!channel) {
      channel = new Channel(key, this);
      this.#channels.set(key, channel);
    }
    const joined = channel;
    joined.pendingOpens++;
    try {
      const outcome = await joined.run(async () => {
        if (joined.ended) return 'retry' as const;
        const start = await this.#catchUp(joined, since);
        if (!start) return false;
        const sink = connect(joined, start.chunks, start.floor);
        if (sink) joined.streams.add(sink);
        return true;
      });
      if (outcome === 'retry') return this.#attach(key, since, connect);
      if (outcome) this.#startHeartbeat();
      return outcome;
    } finally {
      joined.pendingOpens--;
      if (joined.streams.size === 0 && joined.pendingOpens === 0) joined.end();
    }
  }

  /** The events a new stream starts with, and the version they bring it to. */
  async #catchUp(channel: Channel, since: number | undefined) {
    const { store } = this;
    if (channel.version < 0) {
      const session = await store.get(channel.key);
      if (!session) return undefined;
      channel.version = session.version;
    }

    const chunks: Uint8Array[] = [];
    const outcome = since === undefined ? undefined : await store.changesSince(channel.key, since);
    if (outcome?.kind === 'changes') {
      for (const change of outcome.changes) {
        chunks.push(encodeEvent('change', change, change.version));
      }
      chunks.push(encodeEvent('presence', { peers: await store.peers(channel.key) }));
      return { chunks, floor: outcome.version };
    }
    const session = outcome ?? (await store.get(channel.key));
    if (!session) return undefined;
    chunks.push(snapshotEvent(session.version, session.state, await store.peers(channel.key)));
    return { chunks, floor: session.version };
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
