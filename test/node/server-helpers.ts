/**
 * Helpers for the server tests: a handler that closes itself after the test, requests in
 * one line, and a reader of Server-Sent Events with a timeout on every wait.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { createSyncHandler } from '../../src/server/index.js';
import type { SyncHandler, SyncHandlerOptions } from '../../src/server/index.js';
import type { Json, SessionCreated } from '../../src/protocol.js';

export const BASE = 'http://sync.test';

/** A handler with logging off, closed when the test ends. */
export function testHandler(
  t: TestContext,
  options: Partial<SyncHandlerOptions> = {},
): SyncHandler {
  const handler = createSyncHandler({ log: false, ...options });
  t.after(() => handler.close());
  return handler;
}

export interface Call {
  headers?: Record<string, string>;
  /** A value to send as JSON, or a string sent as it is. */
  body?: unknown;
  signal?: AbortSignal;
}

/** Sends one request through the handler, or over the network when `target` is a URL. */
export function call(
  target: SyncHandler | string,
  method: string,
  path: string,
  { headers = {}, body, signal }: Call = {},
): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers }, signal };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const hasType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
    if (!hasType) (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  if (typeof target === 'string') return fetch(target + path, init);
  return target(new Request(BASE + path, init));
}

/** Creates a session and returns what the server answered. */
export async function newSession(target: SyncHandler | string, state: Json = {}) {
  const response = await call(target, 'POST', '/sessions', { body: { state } });
  if (response.status !== 201) throw new Error(`POST /sessions answered ${response.status}`);
  return (await response.json()) as SessionCreated;
}

/** Headers of a write with the session's token. */
export function writer(session: SessionCreated, extra: Record<string, string> = {}) {
  return { Authorization: `Bearer ${session.writeToken}`, ...extra };
}

/** A merge-patch write. */
export function patch(
  target: SyncHandler | string,
  session: SessionCreated,
  body: unknown,
  extra: Record<string, string> = {},
): Promise<Response> {
  return call(target, 'PATCH', `/sessions/${session.key}`, {
    headers: writer(session, { 'Content-Type': 'application/merge-patch+json', ...extra }),
    body,
  });
}

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: any;
}

/** Reads SSE events from a response body; every wait fails after a timeout. */
export class EventReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  comments = 0;

  constructor(body: ReadableStream<Uint8Array> | null) {
    if (!body) throw new Error('The response has no body.');
    this.#reader = body.getReader();
  }

  /** The next event, or undefined when the stream ended. */
  async next(timeoutMs = 5000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event) return event;
        this.comments++;
        continue;
      }
      // A read that timed out stays pending; the next call takes it over so no chunk is lost.
      this.#pending ??= this.#reader.read();
      const chunk = await withTimeout(this.#pending, deadline - Date.now());
      this.#pending = undefined;
      if (chunk.done) return undefined;
      this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
    }
  }

  /** The next event that is not of the types given (skips presence, for example). */
  async nextExcept(types: string[], timeoutMs = 5000): Promise<SseEvent | undefined> {
    for (;;) {
      const event = await this.next(timeoutMs);
      if (!event || !types.includes(event.event)) return event;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { event, id, data: JSON.parse(data.join('\n')) };
}

/** Resolves with the promise, or rejects once `ms` have passed. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No answer within ${ms} ms`)), Math.max(ms, 0));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens an event stream over the network; abort the controller to drop it. */
export async function openEvents(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  assert.equal(response.status, 200);
  return { events: new EventReader(response.body), drop: () => controller.abort() };
}
