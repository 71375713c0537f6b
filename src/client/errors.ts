/**
 * The one error type of the client. Every failure the client reports, whether the server
 * refused a request, the network is down, or a write was not allowed, is a `SyncError` with a
 * stable `code` from the wire contract, so a page can act on the cause rather than a message.
 */
import type { ErrorCode, Problem } from '../protocol.js';

/** Codes used when a response carries no problem document (a proxy's bare 502, say). */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'session-not-found',
  405: 'method-not-allowed',
  412: 'version-conflict',
  413: 'too-large',
  415: 'unsupported-media-type',
  429: 'rate-limited',
  507: 'store-full',
};

/**
 * A failure with a code the page can act on.
 *
 * @example
 * el.addEventListener('error', (e) => {
 *   if (e.detail.code === 'session-not-found') showJoinForm();
 * });
 */
export class SyncError extends Error {
  override name = 'SyncError';

  /**
   * @param code - what went wrong, from the wire contract's `ErrorCode`
   * @param message - a sentence for people
   * @param status - the HTTP status, or 0 when no response came
   * @param retryAfterMs - how long the server asked us to wait, if it did
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status = 0,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** True for failures that may pass by themselves: network, overload, server hiccups. */
  get transient(): boolean {
    return !this.status || this.status == 429 || this.status >= 500;
  }
}

/** Reads the problem document (RFC 9457) of a failed response into a `SyncError`. */
export async function errorFromResponse(response: Response): Promise<SyncError> {
  const { status } = response;
  let problem: Partial<Problem> = {};
  try {
    problem = await response.json();
  } catch {
    // Not JSON: a gateway's own page. The status alone tells the cause.
  }
  const seconds = Number(response.headers.get('Retry-After'));
  return new SyncError(
    problem.code ?? CODE_BY_STATUS[status] ?? (status < 500 ? 'bad-request' : 'unavailable'),
    problem.detail ?? problem.title ?? `The sync server answered ${status}`,
    status,
    seconds > 0 ? seconds * 1000 : undefined,
  );
}
