/**
 * Reading request bodies safely: a byte limit that holds without `Content-Length`, strict
 * UTF-8, JSON parsing, and a nesting limit measured without recursion so that a body of
 * 100,000 opening brackets costs one pass over the text and cannot overflow the stack.
 */
import type { Json } from '../protocol.js';
import { HttpProblem } from './problems.js';

/**
 * Reads the body as text, refusing it with 413 as soon as it passes `maxBytes`.
 *
 * @returns the body text; empty when there is no body
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const declared = declaredLength(request);
  if (declared !== undefined) {
    if (declared > maxBytes) throw tooLarge(maxBytes);
    // A body with a declared length ends there (an HTTP parser holds it to that), so it can be
    // read in one piece: on Node that skips building a web stream over the socket, which costs
    // more than the rest of a small write. The length is checked again for hosts that hand
    // over a body already buffered, whose header nobody held it to.
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    return decodeUtf8(bytes);
  }
  if (!request.body) return '';

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await discardRest(reader);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }

  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decodeUtf8(bytes);
}

/** The body's `Content-Length`, when the request has a well-formed one. */
function declaredLength(request: Request): number | undefined {
  const value = request.headers.get('Content-Length')?.trim();
  return value && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new HttpProblem(400, 'bad-request', 'The body is not valid UTF-8.');
  }
}

/** How much of an oversized body is read and dropped, at most, before the answer. */
const DISCARD_MAX_BYTES = 1024 * 1024;
const DISCARD_MAX_MS = 1000;

/**
 * Reads and drops the rest of an oversized body (within a budget) before the 413 goes out.
 * A server that closes a connection with unread bytes makes the kernel reset it, and the
 * client then loses the answer and sees a network error instead of our problem document
 * (RFC 9112, section 9.6). Past the budget the body is cancelled and the connection ends.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  const cancel = () => reader.cancel().catch(() => undefined);
  const deadline = setTimeout(cancel, DISCARD_MAX_MS);
  try {
    for (let left = DISCARD_MAX_BYTES; left > 0;) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
    }
    await cancel();
  } catch {
    // The body ended badly or was cancelled by the deadline: the 413 is still the answer.
  } finally {
    clearTimeout(deadline);
  }
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, 'too-large', `The body is larger than ${maxBytes} bytes.`);
}

/**
 * The deepest nesting of arrays and objects in a JSON text, found in one pass that skips
 * strings. It stops counting once `limit` is passed.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // backslash: the next character is escaped
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b || char === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (char === 0x5d || char === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Parses a JSON body after checking its nesting. `JSON.parse` keeps keys such as `__proto__`
 * as own data properties, so the result is safe to merge.
 *
 * @throws HttpProblem 413 when nested deeper than `maxDepth`, 400 when not JSON
 */
export function parseJsonBody(text: string, maxDepth: number): Json {
  if (text.trim() === '') {
    throw new HttpProblem(400, 'bad-request', 'A JSON body is required.');
  }
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new HttpProblem(413, 'too-large', `The body is nested deeper than ${maxDepth} levels.`);
  }
  try {
    return JSON.parse(text, refuseNonFinite) as Json;
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    const reason = error instanceof Error ? error.message : 'invalid JSON';
    throw new HttpProblem(400, 'bad-request', `The body is not valid JSON: ${reason}`);
  }
}

/**
 * `JSON.parse` turns a number beyond a double's range (`1e999`) into Infinity, which
 * `JSON.stringify` writes as null: accepted, it would be stored as one value and served as
 * another. Refuse it instead.
 */
function refuseNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new HttpProblem(400, 'bad-request', 'The body holds a number too large for JSON.');
  }
  return value;
}

/** Reads and parses a JSON body with the limits given. */
export async function readJsonBody(
  request: Request,
  limits: { maxBytes: number; maxDepth: number },
): Promise<Json> {
  return parseJsonBody(await readBodyText(request, limits.maxBytes), limits.maxDepth);
}

/** Length of a string in UTF-8 bytes, without allocating the encoding. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4; // a surrogate pair: one four-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether the request's `Content-Type` is one of `types` (parameters such as charset ignored). */
export function hasMediaType(request: Request, types: readonly string[]): boolean {
  const value = request.headers.get('Content-Type');
  if (!value) return false;
  const essence = value.split(';')[0]!.trim().toLowerCase();
  return types.includes(essence) || (types.includes('+json') && essence.endsWith('+json'));
}
