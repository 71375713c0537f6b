/**
 * Where the event hub writes a stream's bytes.
 *
 * Any host gets a web `ReadableStream` as the response body. On Node the hub writes straight
 * to the `ServerResponse` instead: the same bytes go to each socket with one `write` call, and
 * none of the per-chunk promises and reads a web stream costs on the way out, which roughly
 * halves the server's work when one write fans out to hundreds of readers.
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
  once(event: 'close', listener: () => void): unknown;
  readonly writableLength: number;
  readonly destroyed: boolean;
}

/** A stream written straight to a Node response. */
export class NodeResponseSink implements StreamSink {
  floor: number;
  readonly #response: NodeResponse;

  constructor(response: NodeResponse, floor: number) {
    this.#response = response;
    this.floor = floor;
  }

  write(bytes: Uint8Array): void {
    this.#response.write(bytes);
  }

  buffered(): number {
    return this.#response.writableLength;
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

export interface DirectStream {
  response: NodeResponse;
  /** Returned from the route, so the host sends nothing more on its own. */
  alreadySent: Response;
}

/** The Node response to write to, when the host offers one; undefined on other hosts. */
export function directStreamOf(env: unknown): DirectStream | undefined {
  if (typeof env !== 'object' || env === null) return undefined;
  const bindings = env as { outgoing?: NodeResponse; [ALREADY_SENT]?: Response };
  const response = bindings.outgoing;
  const alreadySent = bindings[ALREADY_SENT];
  if (!response || !alreadySent || typeof response.writeHead !== 'function') return undefined;
  return { response, alreadySent };
}
