/**
 * The two Redis connections of a Redis store (commands, and pub/sub), and what the store's
 * callers learn when they fail.
 *
 * Failure is loud and fast. The command connection has no offline queue and never re-sends a
 * command cut off by a disconnect (a re-sent write could apply twice), so while Redis is away
 * every call throws `StoreUnavailableError` (503 with `Retry-After`) at once. Subscribers get
 * `unavailable` when either connection drops and `resync` once both are back and every channel
 * is subscribed again. Connection errors go to `onError`, never to the process.
 *
 * A call cut off in flight is ambiguous: Redis may have run it before the connection died. It
 * still fails as unavailable, so a 503 means "not confirmed" rather than "not applied"; a
 * client retrying with `If-Match` learns which from the 412.
 *
 * A Redis that stops answering without closing its connections (paused, or behind a network
 * partition) would show only as calls timing out. `checkHealth`, called periodically, pings the
 * subscriber connection and re-opens both connections when the ping times out, which turns a
 * stall into an outage like any other: fast 503s, `unavailable`, and `resync` when it ends.
 */
import { createHash } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { RedisScript } from './redis-scripts.js';
import { RedisSubscriptions } from './redis-subscriptions.js';
import { StoreFullError, StoreUnavailableError } from './store.js';

/** A connection to one Redis, or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export interface ConnectionOptions {
  /** Where to connect, unless `redis` is given. */
  url?: string;
  /** A client to use for commands; it stays open on `close()`. */
  redis?: RedisClient;
  commandTimeoutMs: number;
  retryAfterSeconds: number;
  onError: (error: Error) => void;
}

/** Until the first connection succeeds, calls wait this long for it instead of failing. */
const FIRST_CONNECT_WAIT_MS = 3000;
/** Redis replies that mean "not now" rather than "wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

const ignore = (): void => {};
const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

export class RedisConnection {
  readonly subscriptions: RedisSubscriptions;
  readonly #redis: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #ownsClient: boolean;
  readonly #retryAfterSeconds: number;
  readonly #shas = new Map<RedisScript, string>();
  readonly #firstReady: Promise<void>;
  readonly #firstAvailable: Promise<void>;
  #resolveFirstAvailable: () => void = ignore;
  #available = false;
  #wasAvailable = false;
  #connectedOnce: boolean;
  #startupOver = false;
  #generation = 0;
  #closed = false;
  #checking = false;

  constructor(options: ConnectionOptions) {
    const settings = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      commandTimeout: options.commandTimeoutMs,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
    };
    if (!options.redis && !options.url) {
      throw new TypeError('session-sync: RedisStore needs a url or a redis client');
    }
    this.#ownsClient = !options.redis;
    this.#redis = options.redis ?? new Redis(options.url!, settings);
    // A cluster client keeps the options it was made with; see `RedisStoreOptions.redis`.
    this.#subscriber =
      this.#redis instanceof Cluster ? this.#redis.duplicate() : this.#redis.duplicate(settings);
    this.subscriptions = new RedisSubscriptions(this.#subscriber);
    this.#retryAfterSeconds = options.retryAfterSeconds;

    this.#connectedOnce = this.#redis.status === 'ready';
    this.#firstReady = new Promise((resolve) => this.#redis.once('ready', () => resolve()));
    this.#firstAvailable = new Promise((resolve) => (this.#resolveFirstAvailable = resolve));
    this.#redis.on('ready', () => (this.#connectedOnce = true));
    for (const client of [this.#redis, this.#subscriber]) {
      // A client made with `lazyConnect` would otherwise wait for a first command forever.
      if (client.status === 'wait') client.connect().catch(ignore);
      client.on('error', (error: Error) => options.onError(error));
      for (const event of ['ready', 'close', 'end']) client.on(event, () => this.#check());
    }
  }

  /** Both connections are up and every channel is subscribed. */
  get available(): boolean {
    return this.#available;
  }

  /** Connected once and lost it since: an outage, rather than a start. */
  get inOutage(): boolean {
    return this.#wasAvailable && !this.#available;
  }

  /**
   * Resolves once both connections are up and subscribed for the first time.
   * @returns whether that happened within `timeoutMs`
   */
  async whenAvailable(timeoutMs: number): Promise<boolean> {
    await withTimeout(this.#firstAvailable, timeoutMs);
    return this.#available;
  }

  /**
   * Settles once the local listeners of `channel` hear everything Redis publishes on it from
   * now on: when its `SUBSCRIBE` is confirmed, or, while the store is still starting, when it is
   * up. Bounded in time; a call that goes ahead anyway is repaired by the `resync` that follows.
   */
  async subscribed(channel: string): Promise<void> {
    const pending = this.subscriptions.pending(channel);
    if (pending) await pending;
    else if (!this.#wasAvailable && !this.#startupOver) {
      await withTimeout(this.#firstAvailable, FIRST_CONNECT_WAIT_MS);
      this.#startupOver = true;
    }
  }

  /** Runs a script by its SHA, loading it when Redis does not have it (after a restart). */
  eval(script: RedisScript, keys: string[], args: unknown[]): Promise<unknown> {
    let sha = this.#shas.get(script);
    if (!sha) this.#shas.set(script, (sha = sha1(script.source)));
    const argv = args.map(String);
    return this.call(async (redis) => {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...argv);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await redis.eval(script.source, keys.length, ...keys, ...argv);
      }
    });
  }

  /** Runs Redis calls, turning connection trouble into `StoreUnavailableError`. */
  async call<T>(run: (redis: RedisClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('session-sync: the Redis store is closed.');
    if (this.#redis.status !== 'ready') await this.#waitForFirstConnection();
    try {
      return await run(this.#redis);
    } catch (error) {
      throw this.#storeError(error);
    }
  }

  /** Pings the subscriber connection; when it does not answer in time, reconnects. */
  async checkHealth(): Promise<void> {
    if (this.#closed || this.#checking || this.#subscriber.status !== 'ready') return;
    this.#checking = true;
    try {
      await this.#subscriber.ping();
    } catch {
      if (this.#closed) return;
      this.#subscriber.disconnect(true);
      if (this.#ownsClient && this.#redis.status === 'ready') this.#redis.disconnect(true);
    } finally {
      this.#checking = false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const clients = this.#ownsClient ? [this.#subscriber, this.#redis] : [this.#subscriber];
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  }

  /** Tracks whether both connections are up, and tells subscribers when that changes. */
  #check(): void {
    if (this.#closed) return;
    if (this.#redis.status === 'ready' && this.#subscriber.status === 'ready') {
      if (!this.#available) void this.#recover();
      return;
    }
    this.#generation++;
    if (this.#available) {
      this.#available = false;
      this.subscriptions.emitAll({ type: 'unavailable' });
    }
  }

  async #recover(): Promise<void> {
    const generation = ++this.#generation;
    try {
      await this.subscriptions.resubscribeAll();
    } catch {
      return; // The connection dropped again; its next `ready` retries.
    }
    if (generation !== this.#generation || this.#closed) return;
    this.#available = true;
    this.#wasAvailable = true;
    this.#resolveFirstAvailable();
    this.subscriptions.emitAll({ type: 'resync' });
  }

  async #waitForFirstConnection(): Promise<void> {
    const status = this.#redis.status;
    if (!this.#connectedOnce && !this.#startupOver && status !== 'end') {
      if (status === 'wait') this.#redis.connect().catch(ignore);
      await withTimeout(this.#firstReady, FIRST_CONNECT_WAIT_MS);
      if (this.#redis.status === 'ready') return;
      // Redis is down at start-up: later calls fail at once instead of each waiting again.
      this.#startupOver = true;
    }
    throw new StoreUnavailableError(
      `Redis is unavailable (connection ${this.#redis.status}).`,
      this.#retryAfterSeconds,
    );
  }

  #storeError(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    if (message.startsWith('OOM')) return new StoreFullError('Redis has no memory left.');
    const replied = error instanceof Error && error.name === 'ReplyError';
    if (replied && !TRANSIENT_REPLY.test(message)) return error;
    return new StoreUnavailableError(`Redis is unavailable: ${message}`, this.#retryAfterSeconds);
  }
}

/** Waits for `promise`, or for `ms` to pass, whichever comes first. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([promise, timeout]);
  clearTimeout(timer);
}
