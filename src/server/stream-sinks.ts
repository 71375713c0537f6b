/**
 * Where the event hub writes a stream's bytes.
 *
 * Any host gets a web `ReadableStream` as the response body. On Node the hub writes straight
 * to the `ServerResponse` instead: the same bytes go to each socket with one `write` call, and
 * none of the per-chunk promises and reads a web stream costs on the way out, which roughly
 * halves the server's work when one write fans out to hundreds of readers. Under
 * `startServer` the events go one step further down, to the socket itself, framed once for
 * every stream (see `NodeResponseSink`).
 */

/** One open event stream, as the hub sees it. */
export interface StreamSink {
  /** Versions up to this one reached the stream already (snapshot or catch-up). */
  floor: number;
  write(bytes: Uint8Array): void;
  /** Bytes written but not yet taken by the reader. */
  buffered(): number;
  /** Ends the stream after what was written. */
  end(): void;
  /** Ends the stream at once, dropping what is buffered (a reader too far behind). */
  cut(): void;
}

/** A stream whose reader is the response body of a fetch-style host. */
export class WebStreamSink implements StreamSink {
  floor: number;
  readonly #controller: ReadableStreamDefaultController<Uint8Array>;

  constructor(controller: ReadableStreamDefaultController<Uint8Array>, floor: number) {
    this.#controller = controller;
    this.floor = floor;
  }

  write(bytes: Uint8Array): void {
    this.#controller.enqueue(bytes);
  }

  buffered(): number {
    // The queue's high-water mark is 0, so its desired size is minus the bytes queued.
    return -(this.#controller.desiredSize ?? 0);
  }

  end(): void {
    try {
      this.#controller.close();
    } catch {
      // The reader cancelled first.
    }
  }

  cut(): void {
    this.#controller.error(new Error('The reader fell too far behind; it may resume.'));
  }
}

/** The parts of Node's `ServerResponse` the hub uses; typed here so no Node import is needed. */
export interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  flushHeaders(): void;
  once(event: 'close', listener: () => void): unknown;
  readonly writableLength: number;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  readonly headersSent: boolean;
  /** Set by Node once it chose chunked transfer coding for this response (HTTP/1.1 only). */
  readonly chunkedEncoding?: boolean;
  readonly socket?: {
    write(chunk: Uint8Array): boolean;
    readonly writableLength: number;
  } | null;
}

const encoder = new TextEncoder();
const CRLF = encoder.encode('\r\n');
let lastEvent: Uint8Array | undefined;
let lastChunk: Uint8Array | undefined;

/**
 * `bytes` framed as one HTTP/1.1 chunk: size in hex, CRLF, the bytes, CRLF. A fan-out writes
 * the same bytes to every stream in turn, so the last framing is kept and reused (which holds
 * on to one event's bytes between fan-outs).
 */
function httpChunk(bytes: Uint8Array): Uint8Array {
  if (bytes !== lastEvent) {
    const size = encoder.encode(`${bytes.byteLength.toString(16)}\r\n`);
    const chunk = new Uint8Array(size.byteLength + bytes.byteLength + CRLF.byteLength);
    chunk.set(size);
    chunk.set(bytes, size.byteLength);
    chunk.set(CRLF, size.byteLength + bytes.byteLength);
    lastEvent = bytes;
    lastChunk = chunk;
  }
  return lastChunk!;
}

/**
 * A stream written straight to a Node response.
 *
 * With `socketWrites`, each event goes to the socket itself as a ready-made HTTP chunk, one
 * `write` each, sent at once. Through the response instead, Node frames every event for every
 * stream again and holds the bytes until the end of the tick, so the first reader waits for the
 * last to be framed; at 200 readers the socket path brought the median delivery about 0.8 ms
 * sooner. Node still writes the head and the terminating chunk, so the connection stays valid
 * for its next request. Only `startServer` asks for it: in a server of your own, middleware may
 * wrap the response (compression, for one) and must see every byte.
 */
export class NodeResponseSink implements StreamSink {
  floor: number;
  readonly #response: NodeResponse;
  readonly #socketWrites: boolean;

  constructor(response: NodeResponse, floor: number, socketWrites = false) {
    this.#response = response;
    this.floor = floor;
    this.#socketWrites = socketWrites;
  }

  write(bytes: Uint8Array): void {
    const response = this.#response;
    // After the end, bytes on the socket would land in the connection's next response.
    if (response.writableEnded || response.destroyed) return;
    const socket = response.socket;
    if (this.#socketWrites && socket && response.chunkedEncoding) {
      if (!response.headersSent) response.flushHeaders();
      socket.write(httpChunk(bytes));
    } else {
      response.write(bytes);
    }
  }

  buffered(): number {
    const socket = this.#response.socket;
    return this.#socketWrites && socket ? socket.writableLength : this.#response.writableLength;
  }

  end(): void {
    this.#response.end();
  }

  cut(): void {
    this.#response.destroy();
  }
}

/**
 * Key of the host binding that lets `/events` write to the Node response itself. Its value is
 * the response the host must then leave alone (`@hono/node-server`'s "already sent" marker).
 */
export const ALREADY_SENT = Symbol.for('session-sync.already-sent');

/** The header of `@hono/node-server`'s "already sent" marker response. */
export const ALREADY_SENT_HEADER = 'x-hono-already-sent';

/**
 * Key of the host binding that lets `/events` write events to the socket itself, under the
 * response (see `NodeResponseSink`); `startServer` sets it to true.
 */
export const SOCKET_WRITES = Symbol.for('session-sync.socket-writes');

export interface DirectStream {
  response: NodeResponse;
  /** Returned from the route, so the host sends nothing more on its own. */
  alreadySent: Response;
  /** Events may go to the socket itself. */
  socketWrites: boolean;
}

/** The Node response to write to, when the host offers one; undefined on other hosts. */
export function directStreamOf(env: unknown): DirectStream | undefined {
  if (typeof env !== 'object' || env === null) return undefined;
  const bindings = env as {
    outgoing?: NodeResponse;
    [ALREADY_SENT]?: Response;
    [SOCKET_WRITES]?: boolean;
  };
  const response = bindings.outgoing;
  const alreadySent = bindings[ALREADY_SENT];
  if (!response || !alreadySent || typeof response.writeHead !== 'function') return undefined;
  return { response, alreadySent, socketWrites: bindings[SOCKET_WRITES] === true };
}
