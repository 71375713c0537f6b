/**
 * Errors as the server answers them: RFC 9457 problem documents with a stable `type`.
 *
 * Handlers throw `HttpProblem`; `problemResponse` is the one funnel that turns anything thrown
 * (including store errors and bugs) into an `application/problem+json` response.
 * https://www.rfc-editor.org/rfc/rfc9457
 */
import { PROBLEM_TYPE, PROBLEM_TYPE_PREFIX } from '../protocol.js';
import type { ErrorCode, Problem } from '../protocol.js';
import { StoreFullError, StoreUnavailableError } from './store.js';

/** The title of each problem, by code; every code appears once. */
export const PROBLEM_TITLES: Readonly<Record<ErrorCode, string>> = {
  'bad-request': 'Bad request',
  unauthorized: 'Write token required',
  forbidden: 'Write token does not match',
  'not-found': 'Not found',
  'session-not-found': 'Session not found',
  'method-not-allowed': 'Method not allowed',
  'version-conflict': 'Version conflict',
  'too-large': 'Too large',
  'unsupported-media-type': 'Unsupported media type',
  'rate-limited': 'Too many requests',
  'store-full': 'Store full',
  unavailable: 'Service unavailable',
  'streams-unsupported': 'Event streams not supported here',
  internal: 'Internal server error',
  network: 'Network error',
};

export interface ProblemExtras {
  /** Response headers the problem needs (`Allow`, `Accept-Patch`, `Retry-After`...). */
  headers?: Record<string, string>;
  /** On 412: the version the session is at now. */
  version?: number;
}

/** An error that becomes one HTTP problem response. Throw it from any route. */
export class HttpProblem extends Error {
  override name = 'HttpProblem';

  /**
   * @param status - the HTTP status
   * @param code - the stable error code; the problem's `type` ends with it
   * @param detail - a sentence for the developer reading the response
   */
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extras: ProblemExtras = {},
  ) {
    super(detail ?? PROBLEM_TITLES[code]);
  }

  /** The problem document this error answers with. */
  toJSON(): Problem {
    const problem: Problem = {
      type: PROBLEM_TYPE_PREFIX + this.code,
      title: PROBLEM_TITLES[this.code],
      status: this.status,
      code: this.code,
    };
    if (this.detail !== undefined) problem.detail = this.detail;
    if (this.extras.version !== undefined) problem.version = this.extras.version;
    return problem;
  }
}

/** Maps anything thrown to the problem it answers with; unknown errors become 500. */
export function toHttpProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof StoreFullError) {
    return new HttpProblem(507, 'store-full', 'The server has no room for this session now.');
  }
  if (error instanceof StoreUnavailableError) {
    const retryAfter = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
    return new HttpProblem(
      503,
      'unavailable',
      'The store cannot be reached; the write was not confirmed. Retry it with If-Match.',
      {
        headers: { 'Retry-After': retryAfter },
      },
    );
  }
  return new HttpProblem(500, 'internal', 'The server failed to answer this request.');
}

/** The one place error responses are made. */
export function problemResponse(error: unknown): Response {
  const problem = toHttpProblem(error);
  const headers = new Headers(problem.extras.headers);
  headers.set('Content-Type', PROBLEM_TYPE);
  headers.set('Cache-Control', 'no-store');
  return new Response(JSON.stringify(problem.toJSON()), { status: problem.status, headers });
}
