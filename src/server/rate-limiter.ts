/**
 * Token buckets keyed by a name (a client address, a session key), with bounded memory.
 *
 * A bucket holds up to `burst` tokens and gains `perSecond` tokens a second; each request
 * takes one. Buckets live in a Map kept in least-recently-used order: a bucket that refilled
 * completely carries no information and is dropped when met, and when the map reaches
 * `maxKeys` the least recently used bucket goes, so a flood of fresh addresses cannot grow
 * memory without bound. The price of that bound: under such a flood an evicted client starts
 * again with a full bucket, which is no more than it would have after waiting.
 */

/** One limit: sustained rate and burst. A rate or a burst of 0 turns the limit off. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** The answer to a request for a token. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  /** Milliseconds (of the limiter's clock) when `tokens` was last brought up to date. */
  updatedAt: number;
}

const ALLOWED: RateDecision = Object.freeze({ allowed: true });

export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #enabled: boolean;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  /**
   * @param limit - rate and burst; a rate or burst of 0 allows everything
   * @param maxKeys - most buckets kept at once
   * @param now - the clock in milliseconds (tests pass their own)
   */
  constructor(limit: RateLimit, maxKeys = 100_000, now: () => number = () => performance.now()) {
    // A burst below one token would refuse every request for ever.
    this.#limit = { perSecond: limit.perSecond, burst: Math.max(1, limit.burst) };
    this.#enabled = limit.perSecond > 0 && limit.burst > 0;
    this.#maxKeys = maxKeys;
    this.#now = now;
  }

  /** Whether the limit is in force at all. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Number of buckets held now, for tests and metrics. */
  get size(): number {
    return this.#buckets.size;
  }

  /** What `take(key)` would answer, without taking anything. */
  check(key: string): RateDecision {
    if (!this.enabled) return ALLOWED;
    const tokens = this.#tokens(key);
    return tokens >= 1 ? ALLOWED : { allowed: false, retryAfterMs: this.#waitFor(tokens) };
  }

  /** Takes one token for `key` if there is one. */
  take(key: string): RateDecision {
    if (!this.enabled) return ALLOWED;
    const tokens = this.#tokens(key);
    if (tokens < 1) return { allowed: false, retryAfterMs: this.#waitFor(tokens) };

    this.#store(key, tokens - 1);
    return ALLOWED;
  }

  /** Tokens `key` holds now, after refilling for the time that passed. */
  #tokens(key: string): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return this.#limit.burst;
    const elapsedMs = Math.max(0, this.#now() - bucket.updatedAt);
    const tokens = Math.min(
      this.#limit.burst,
      bucket.tokens + (elapsedMs * this.#limit.perSecond) / 1000,
    );
    if (tokens >= this.#limit.burst) this.#buckets.delete(key);
    return tokens;
  }

  #store(key: string, tokens: number): void {
    // Delete first so the key moves to the end: the Map's order is the LRU order.
    this.#buckets.delete(key);
    this.#buckets.set(key, { tokens, updatedAt: this.#now() });
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
  }

  #waitFor(tokens: number): number {
    return Math.ceil(((1 - tokens) * 1000) / this.#limit.perSecond);
  }
}

/**
 * Counts open long-lived requests (event streams, held long-polls) per key, with a ceiling.
 * Keys with nothing open are forgotten, so memory follows the number of open requests.
 */
export class OpenCounter {
  readonly #max: number;
  readonly #open = new Map<string, number>();

  /** @param max - most open at once per key; 0 turns the ceiling off */
  constructor(max: number) {
    this.#max = max;
  }

  /** Open requests of `key` now. */
  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }

  /** Whether one more may open for `key`. */
  hasRoom(key: string): boolean {
    return this.#max <= 0 || this.count(key) < this.#max;
  }

  /**
   * Counts one more open request for `key`.
   * @returns a function that ends it; calling it more than once has no further effect
   */
  open(key: string): () => void {
    this.#open.set(key, this.count(key) + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = this.count(key) - 1;
      if (left > 0) this.#open.set(key, left);
      else this.#open.delete(key);
    };
  }
}
