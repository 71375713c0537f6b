/**
 * HTTP/1.1 over a raw TCP socket, for requests `fetch` refuses to send: broken headers,
 * chunked bodies of any size, bytes dripped slowly.
 */
import net from 'node:net';

export interface RawAnswer {
  /** The status of the first response, or 0 when the server closed without answering. */
  status: number;
  /** The response head (status line and headers), lower-cased header names. */
  head: string;
  headers: Map<string, string>;
  body: string;
  /** Milliseconds from connecting to the server closing the connection (or our timeout). */
  ms: number;
  /** True when the server closed the connection; false when our own timeout ended it. */
  closedByServer: boolean;
}

export interface RawOptions {
  /** Sent one after another, `gapMs` apart. */
  gapMs?: number;
  /** Give up (and close) after this long. */
  timeoutMs?: number;
}

/**
 * Connects to `url`'s host and port, writes `parts` (strings or bytes) in turn and reads until
 * the server closes the connection. Send `Connection: close` to make it close after answering.
 */
export function rawRequest(
  url: string,
  parts: Array<string | Uint8Array>,
  options: RawOptions = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    let closedByServer = true;
    let writing: NodeJS.Timeout | undefined;
    const timeout = setTimeout(() => {
      closedByServer = false;
      socket.destroy();
    }, options.timeoutMs ?? 10_000);

    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timeout);
      clearTimeout(writing);
      resolve(
        parse(
          Buffer.concat(received).toString('latin1'),
          performance.now() - startedAt,
          closedByServer,
        ),
      );
    });
    socket.on('connect', () => {
      let index = 0;
      const writeNext = () => {
        if (index >= parts.length || socket.destroyed) return;
        socket.write(parts[index++]!);
        writing = setTimeout(writeNext, options.gapMs ?? 0);
      };
      writeNext();
    });
  });
}

function parse(text: string, ms: number, closedByServer: boolean): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const status = Number(head.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, head, headers, body: end >= 0 ? text.slice(end + 4) : '', ms, closedByServer };
}

/** A request head with `Connection: close`, ready to send. */
export function requestHead(
  method: string,
  path: string,
  url: string,
  headers: Record<string, string> = {},
): string {
  const host = new URL(url).host;
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** `body` as one HTTP/1.1 chunk followed by the last chunk. */
export function chunked(body: string | Uint8Array): Array<string | Uint8Array> {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  return [`${size.toString(16)}\r\n`, body, '\r\n0\r\n\r\n'];
}
