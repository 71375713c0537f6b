/**
 * A minimal Server-Sent Events reader on `http.get`: just enough of the event-stream format
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream)
 * to read our streams, so that a reader costs the load generator as little as possible and
 * a polyfill's overhead does not end up in the server's figures.
 */
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface StreamEvent {
  event: string;
  data: string;
  id: string | undefined;
}

export interface EventStream {
  /** Bytes this stream's socket has read so far, headers and chunk framing included. */
  bytesRead(): number;
  /** Comment-only blocks (heartbeats) read so far. */
  comments(): number;
  close(): void;
  /** Settles when the server ends the stream or `close` is called. */
  readonly ended: Promise<void>;
}

/**
 * Opens `url` as an event stream and calls `onEvent` for each complete event. Resolves once
 * the response headers arrived with status 200; rejects on any other status or a failure
 * before then.
 */
export function openEventStream(
  url: string,
  onEvent: (event: StreamEvent) => void,
  headers: Record<string, string> = {},
): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    let socket: Socket | undefined;
    let request: ClientRequest;
    let endStream = () => {};
    const ended = new Promise<void>((settle) => (endStream = settle));

    request = get(url, { agent: false, headers: { Accept: 'text/event-stream', ...headers } });
    request.on('socket', (assigned) => (socket = assigned));
    request.on('error', (error) => {
      endStream();
      reject(error);
    });
    request.on('response', (response: IncomingMessage) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`event stream ${url} answered ${response.statusCode}`));
        return;
      }
      const counts = readEvents(response, onEvent);
      response.on('close', endStream);
      resolve({
        bytesRead: () => socket?.bytesRead ?? 0,
        comments: () => counts.comments,
        close: () => request.destroy(),
        ended,
      });
    });
  });
}

function readEvents(
  response: IncomingMessage,
  onEvent: (event: StreamEvent) => void,
): { comments: number } {
  const counts = { comments: 0 };
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk.includes('\r') ? chunk.replace(/\r\n?/g, '\n') : chunk;
    let boundary = buffer.indexOf('\n\n');
    while (boundary !== -1) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const event = parseBlock(block);
      if (event) onEvent(event);
      else if (block.startsWith(':')) counts.comments += 1;
      boundary = buffer.indexOf('\n\n');
    }
  });
  // Errors after the response started end the stream; `ended` reports it.
  response.on('error', () => {});
  return counts;
}

function parseBlock(block: string): StreamEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  let data: string | undefined;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
  }
  return data === undefined ? undefined : { event, data, id };
}
