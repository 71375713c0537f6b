/**
 * A small Server-Sent Events reader over `fetch`, for tests and benchmarks in Node: it can
 * send `Last-Event-ID`, be dropped at any moment with an AbortSignal, and reports events as
 * they are parsed.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export interface SseOpenOptions {
  lastEventId?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/**
 * Opens `url` as an event stream and calls `onEvent` for each event until the stream ends,
 * fails or is aborted.
 *
 * @returns the response status, and a promise that settles when the stream is over
 */
export async function openEventStream(
  url: string,
  onEvent: (event: SseEvent) => void,
  options: SseOpenOptions = {},
): Promise<{ status: number; ended: Promise<void> }> {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...options.headers };
  if (options.lastEventId !== undefined) headers['Last-Event-ID'] = options.lastEventId;
  const response = await fetch(url, { headers, signal: options.signal });
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status, ended: Promise.resolve() };
  }
  return { status: 200, ended: readEvents(response.body, onEvent) };
}

async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: SseEvent) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const event = parseBlock(block);
        if (event) onEvent(event);
      }
    }
  } catch {
    // Aborted or dropped: the caller decides whether to reconnect.
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  return data.length > 0 ? { event, data: data.join('\n'), id } : undefined;
}
