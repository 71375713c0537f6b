/**
 * Server-Sent Events fan-out.
 *
 * Per session, one store subscription (a channel, `event-channel.ts`) feeds every stream of
 * that session open on this instance. Each event is formatted and encoded once and the same
 * bytes are enqueued to every stream: the fan-out loop allocates nothing per stream, which
 * matters when one write reaches hundreds of readers. While the server is busy, events are
 * gathered into one write per stream per turn of the event loop (`event-batch.ts`). On Node
 * the bytes go straight to each response (see `stream-sinks.ts`). This module opens streams,
 * sends each its catch-up, and keeps one heartbeat timer for all of them.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import { Channel, HEARTBEAT, encodeEvent, snapshotEvent } from './event-channel.js';
import type { ChannelOwner } from './event-channel.js';
import type { Logger } from './log.js';
import type { SyncStore } from './store.js';
import { NodeResponseSink, WebStreamSink } from './stream-sinks.js';
import type { DirectStream, StreamSink } from './stream-sinks.js';

/** Opens and feeds the event streams of every session on this instance. */
export class EventHub implements ChannelOwner {
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
    { response, socketWrites }: DirectStream,
    headers: Record<string, string>,
  ): Promise<boolean> {
    return this.#attach(key, since, (channel, chunks, floor) => {
      if (response.destroyed) return undefined;
      response.writeHead(200, headers);
      for (const chunk of chunks) response.write(chunk);
      const sink = new NodeResponseSink(response, floor, socketWrites);
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
