/**
 * What every route needs: options, store, stream hub and logger, plus the small checks the
 * routes share (key format, write token, client id, JSON responses).
 */
import { CLIENT_HEADER, CLIENT_ID_PATTERN, KEY_PATTERN, TOKEN_PATTERN } from '../protocol.js';
import type { EventHub } from './event-hub.js';
import type { Logger } from './log.js';
import type { ResolvedOptions } from './options.js';
import { HttpProblem } from './problems.js';
import type { StoredSession, SyncStore } from './store.js';
import { tokenMatches } from './tokens.js';

export interface RouteContext {
  options: ResolvedOptions;
  store: SyncStore;
  hub: EventHub;
  logger: Logger;
  /** Aborted when the handler closes. */
  closing: AbortSignal;
  /**
   * Wake-ups of held long-polls, called when the handler closes so they answer at once. A set
   * rather than listeners on `closing`: hundreds of waiters are normal, not a leak.
   */
  heldRequests: Set<() => void>;
}

/** The 404 for unknown and malformed keys alike, so a probe cannot tell them apart. */
export function sessionNotFound(): HttpProblem {
  return new HttpProblem(404, 'session-not-found', 'No session has this key (or it expired).');
}

/** Returns the key when it is well-formed; otherwise answers 404 like an unknown key. */
export function checkKey(key: string | undefined): string {
  if (key === undefined || !KEY_PATTERN.test(key)) throw sessionNotFound();
  return key;
}

/** The bearer token of the request, or undefined when there is none. */
export function bearerToken(request: Request): string | undefined {
  const match = request.headers.get('Authorization')?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
  return match?.[1];
}

/**
 * Checks that the request carries the session's write token.
 *
 * @throws HttpProblem 401 without a token, 403 with a wrong one
 */
export function authorize(request: Request, session: StoredSession): void {
  const token = bearerToken(request);
  if (token === undefined) {
    throw new HttpProblem(401, 'unauthorized', 'Send the write token as Authorization: Bearer.', {
      headers: { 'WWW-Authenticate': 'Bearer realm="session-sync"' },
    });
  }
  if (!TOKEN_PATTERN.test(token) || !tokenMatches(token, session.tokenHash)) {
    throw new HttpProblem(403, 'forbidden', 'This write token does not belong to the session.');
  }
}

/** The writer's `Sync-Client` id, echoed as `by`; null when absent. */
export function clientIdOf(request: Request): string | null {
  const id = request.headers.get(CLIENT_HEADER);
  if (id === null) return null;
  if (!CLIENT_ID_PATTERN.test(id)) {
    throw new HttpProblem(400, 'bad-request', `${CLIENT_HEADER} must match ${CLIENT_ID_PATTERN}.`);
  }
  return id;
}

/** A JSON response with the given status and extra headers. */
export function jsonResponse(
  data: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  });
}

/** Whether a value is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
