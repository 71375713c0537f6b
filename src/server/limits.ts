/**
 * Abuse limits: request rates per client address and per session, and ceilings on open
 * streams. A refused request answers `429 rate-limited` with `Retry-After`.
 *
 * Per-address limits count every request of their kind before any work is done, so a flood
 * costs the server a Map lookup. Per-session limits count only requests the session accepted
 * (a `2xx` answer): otherwise anyone who knows a view-only key could spend a session's write
 * budget with wrong tokens and lock its real writers out. Concurrent requests may therefore
 * overshoot a session's burst by the number in flight, which the per-address limit bounds.
 */
import { getPath } from 'hono/utils/url';
import { HttpProblem } from './problems.js';
import { OpenCounter, RateLimiter } from './rate-limiter.js';
import type { RateDecision } from './rate-limiter.js';

/**
 * The options this module reads; their defaults live with all others in `options.ts`. A rate,
 * burst or ceiling of 0 turns that limit off.
 */
export interface LimitOptions {
  /**
   * A header that a proxy you run in front of the server sets to the client's address
   * (`x-forwarded-for`, `cf-connecting-ip`...), or null to use the connection's address.
   * Name one only behind such a proxy: clients can send any header themselves.
   */
  trustProxyHeader: string | null;
  /** Sustained writes (`PATCH`, `PUT`, `DELETE` of a session) per client address. */
  writesPerSecondPerAddress: number;
  /** Writes a client address may make at once before the sustained rate applies. */
  writeBurstPerAddress: number;
  /** Sustained accepted writes per session, whoever makes them. */
  writesPerSecondPerSession: number;
  writeBurstPerSession: number;
  /** Sustained session creations per client address. */
  sessionsPerMinutePerAddress: number;
  sessionBurstPerAddress: number;
  /** Sustained presence announcements and removals per client address. */
  presencePerSecondPerAddress: number;
  presenceBurstPerAddress: number;
  /** Sustained accepted presence announcements per session. */
  presencePerSecondPerSession: number;
  presenceBurstPerSession: number;
  /** Event streams and held long-polls open at once per client address. */
  maxStreamsPerAddress: number;
  /** Event streams and held long-polls open at once per session. */
  maxStreamsPerSession: number;
}

/** What `trustProxyHeader` accepts: a header name. */
export const HEADER_NAME_PATTERN = /^[A-Za-z0-9-]+$/;

/** Most client addresses and sessions each limiter remembers (least recently used go). */
const MAX_TRACKED_KEYS = 100_000;

export type RequestKind = 'create' | 'write' | 'presence' | 'stream' | 'other';

/**
 * What a request under `/sessions` is, for the limits; `key` is the session key if any.
 *
 * @param url - the request's URL; its path is read as the router reads it, and the query only
 *   for a long-poll, so most requests cost no URL parsing here
 */
export function classify(method: string, url: string): { kind: RequestKind; key?: string } {
  const [root, key, sub, , extra] = getPath({ url } as Request)
    .split('/')
    .slice(1);
  if (root !== 'sessions') return { kind: 'other' };
  if (key === undefined || key === '') return { kind: method === 'POST' ? 'create' : 'other' };
  if (sub === undefined) {
    const writes = method === 'PATCH' || method === 'PUT' || method === 'DELETE';
    return { kind: writes ? 'write' : 'other', key };
  }
  if (sub === 'presence' && extra === undefined && (method === 'PUT' || method === 'DELETE')) {
    return { kind: 'presence', key };
  }
  if (
    method === 'GET' &&
    (sub === 'events' || (sub === 'changes' && new URL(url).searchParams.has('wait')))
  ) {
    return { kind: 'stream', key };
  }
  return { kind: 'other', key };
}

/** The limiters of one handler. Create one per handler, not per request. */
export class AbuseLimits {
  readonly #writesByAddress: RateLimiter;
  readonly #writesBySession: RateLimiter;
  readonly #createsByAddress: RateLimiter;
  readonly #presenceByAddress: RateLimiter;
  readonly #presenceBySession: RateLimiter;
  readonly #streamsByAddress: OpenCounter;
  readonly #streamsBySession: OpenCounter;

  /** @param now - clock in milliseconds; tests pass their own */
  constructor(
    readonly options: LimitOptions,
    now?: () => number,
  ) {
    checkLimitOptions(options);
    const limiter = (perSecond: number, burst: number) =>
      new RateLimiter({ perSecond, burst }, MAX_TRACKED_KEYS, now);
    this.#writesByAddress = limiter(
      options.writesPerSecondPerAddress,
      options.writeBurstPerAddress,
    );
    this.#writesBySession = limiter(
      options.writesPerSecondPerSession,
      options.writeBurstPerSession,
    );
    this.#createsByAddress = limiter(
      options.sessionsPerMinutePerAddress / 60,
      options.sessionBurstPerAddress,
    );
    this.#presenceByAddress = limiter(
      options.presencePerSecondPerAddress,
      options.presenceBurstPerAddress,
    );
    this.#presenceBySession = limiter(
      options.presencePerSecondPerSession,
      options.presenceBurstPerSession,
    );
    this.#streamsByAddress = new OpenCounter(options.maxStreamsPerAddress);
    this.#streamsBySession = new OpenCounter(options.maxStreamsPerSession);
  }

  /**
   * Checks a request before it is handled and counts it against its address.
   * @returns what to do once the answer is known: count an accepted request against its
   *   session, or end a stream when its response ends
   * @throws HttpProblem 429 `rate-limited` with `Retry-After` when a limit is reached
   */
  admit(kind: RequestKind, address: string | undefined, key: string | undefined): Admission {
    switch (kind) {
      case 'create':
        if (address !== undefined) refuseUnless(this.#createsByAddress.take(address), 'sessions');
        return NOTHING_TO_DO;
      case 'write':
        return this.#admitRate(
          this.#writesByAddress,
          this.#writesBySession,
          address,
          key,
          'writes',
        );
      case 'presence':
        return this.#admitRate(
          this.#presenceByAddress,
          this.#presenceBySession,
          address,
          key,
          'presence updates',
        );
      case 'stream':
        return this.#admitStream(address, key);
      default:
        return NOTHING_TO_DO;
    }
  }

  #admitRate(
    byAddress: RateLimiter,
    bySession: RateLimiter,
    address: string | undefined,
    key: string | undefined,
    what: string,
  ): Admission {
    if (key !== undefined) refuseUnless(bySession.check(key), `${what} to this session`);
    if (address !== undefined) refuseUnless(byAddress.take(address), what);

    return {
      answered: (status) => {
        if (key !== undefined && status >= 200 && status < 300) bySession.take(key);
      },
    };
  }

  #admitStream(address: string | undefined, key: string | undefined): Admission {
    if (address !== undefined && !this.#streamsByAddress.hasRoom(address)) {
      throw tooMany('Too many open streams from this address; close one first.', 5_000);
    }
    if (key !== undefined && !this.#streamsBySession.hasRoom(key)) {
      throw tooMany('Too many open streams on this session; try again later.', 5_000);
    }

    const closeForAddress = address !== undefined ? this.#streamsByAddress.open(address) : noop;
    const closeForSession = key !== undefined ? this.#streamsBySession.open(key) : noop;
    return {
      answered: noop,
      ended: () => {
        closeForAddress();
        closeForSession();
      },
    };
  }

  /** Open streams now, for tests and metrics. */
  openStreams(by: { address?: string; key?: string }): number {
    if (by.address !== undefined) return this.#streamsByAddress.count(by.address);
    return by.key !== undefined ? this.#streamsBySession.count(by.key) : 0;
  }
}

const LIMIT_NUMBERS = [
  'writesPerSecondPerAddress',
  'writeBurstPerAddress',
  'writesPerSecondPerSession',
  'writeBurstPerSession',
  'sessionsPerMinutePerAddress',
  'sessionBurstPerAddress',
  'presencePerSecondPerAddress',
  'presenceBurstPerAddress',
  'presencePerSecondPerSession',
  'presenceBurstPerSession',
  'maxStreamsPerAddress',
  'maxStreamsPerSession',
] as const;

/**
 * Rejects limits that cannot work, at start-up rather than on the first request.
 * @throws TypeError naming the option and the value received
 */
function checkLimitOptions(options: LimitOptions): void {
  for (const name of LIMIT_NUMBERS) {
    const value = options[name];
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new TypeError(`session-sync: option ${name} must be a number, 0 or more, got ${value}`);
    }
  }
  const header = options.trustProxyHeader;
  if (header !== null && (typeof header !== 'string' || !HEADER_NAME_PATTERN.test(header))) {
    throw new TypeError(`session-sync: option trustProxyHeader must be a header name or null`);
  }
}

/** What the middleware does after the route answered. */
export interface Admission {
  /** Called with the response status. */
  answered(status: number): void;
  /** For streams: called once the response body has ended, however it ended. */
  ended?: () => void;
}

function noop(): void {}

const NOTHING_TO_DO: Admission = { answered: noop };

function refuseUnless(decision: RateDecision, what: string): void {
  if (!decision.allowed) throw tooMany(`Too many ${what}; slow down.`, decision.retryAfterMs);
}

function tooMany(detail: string, retryAfterMs: number): HttpProblem {
  const retryAfter = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  return new HttpProblem(429, 'rate-limited', detail, { headers: { 'Retry-After': retryAfter } });
}
