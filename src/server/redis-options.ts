/**
 * The options of the Redis store, their defaults in one place, and the check that refuses
 * values that cannot work at construction rather than on the first request.
 */
import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_OPTIONS } from './options.js';

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. Unused with `redis`. */
  url: string;
  /**
   * An ioredis client to use instead of `url`: a `Redis` (Sentinel, custom TLS) or a `Cluster`.
   * `close()` leaves it open. Create it with `enableOfflineQueue: false`,
   * `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false` (for a cluster, the
   * last two in `redisOptions`), or a call may wait for Redis instead of failing, and a write
   * cut off by a disconnect may be sent again.
   */
  redis: Redis | Cluster;
  /** Put before every key and channel name, so several deployments can share one Redis. */
  keyPrefix: string;
  /** A session nobody wrote to (or announced presence in) for this long expires. */
  sessionTtlMs: number;
  /** Changes kept per session for catch-up; older readers get a snapshot instead. */
  historyLimit: number;
  /**
   * How often the sessions streamed from this instance are checked for expired peers, and the
   * connection to Redis for a stall.
   */
  sweepIntervalMs: number;
  /** A Redis call unanswered for this long fails as unavailable. */
  commandTimeoutMs: number;
  /** The `Retry-After` given to clients while Redis is unavailable. */
  retryAfterSeconds: number;
  /** Receives connection errors (each failed reconnect, for one); by default they are dropped. */
  onError: (error: Error) => void;
}

/** The defaults of every option but `url` and `redis`. */
export const REDIS_STORE_DEFAULTS = Object.freeze({
  keyPrefix: 'session-sync:',
  sessionTtlMs: DEFAULT_OPTIONS.sessionTtlMs,
  historyLimit: DEFAULT_OPTIONS.historyLimit,
  sweepIntervalMs: DEFAULT_OPTIONS.sweepIntervalMs,
  commandTimeoutMs: 5000,
  retryAfterSeconds: 1,
});

/** The options a store runs with: every default filled in, no client or callbacks. */
export type ResolvedRedisStoreOptions = Omit<RedisStoreOptions, 'url' | 'redis' | 'onError'>;

/**
 * Fills in defaults and checks the values.
 * @throws TypeError naming the option and the value received
 */
export function resolveRedisStoreOptions(
  options: Partial<ResolvedRedisStoreOptions>,
): ResolvedRedisStoreOptions {
  const resolved = { ...REDIS_STORE_DEFAULTS, ...definedOnly(options) };
  checkOptions(resolved);
  return resolved;
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

const WHOLE_NUMBER_OPTIONS = [
  'sessionTtlMs',
  'historyLimit',
  'sweepIntervalMs',
  'commandTimeoutMs',
] as const;

/** Rejects options that cannot work, and rounds counts and milliseconds up to whole ones. */
function checkOptions(options: ResolvedRedisStoreOptions): void {
  for (const name of [...WHOLE_NUMBER_OPTIONS, 'retryAfterSeconds'] as const) {
    const value = options[name];
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw new TypeError(`session-sync: RedisStore option ${name} must be positive, got ${value}`);
    }
  }
  for (const name of WHOLE_NUMBER_OPTIONS) options[name] = Math.ceil(options[name]);
  // A brace in the prefix would become every key's hash tag, one Cluster slot for all sessions.
  if (typeof options.keyPrefix !== 'string' || /[{}]/.test(options.keyPrefix)) {
    throw new TypeError(
      'session-sync: RedisStore option keyPrefix must be a string without braces',
    );
  }
}
