/**
 * A session store in Redis, so that several server instances share one truth.
 *
 * Every write is one Lua script (see `redis-scripts.ts`): version check, new state, history
 * entry, TTLs and the pub/sub message happen in one atomic step, so two instances can never
 * hand out the same version. Events reach the other instances through pub/sub, which is at
 * most once; the event hub repairs gaps from the history by version. Session and presence
 * TTLs are Redis expiries; a periodic sweep of the sessions streamed from this instance turns
 * a peer's expiry into a `presence` event. How failures surface is `redis-connection.ts`'s job.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Json, Peer } from '../protocol.js';
import { RedisConnection } from './redis-connection.js';
import { resolveRedisStoreOptions } from './redis-options.js';
import type { RedisStoreOptions, ResolvedRedisStoreOptions } from './redis-options.js';
import * as scripts from './redis-scripts.js';
import { StoreUnavailableError } from './store.js';
import type {
  ChangesOutcome,
  NextWrite,
  SessionListener,
  StoredSession,
  SyncStore,
  WriteOutcome,
} from './store.js';

export { REDIS_STORE_DEFAULTS } from './redis-options.js';
export type { RedisStoreOptions } from './redis-options.js';

/** Sessions swept per batch of concurrent calls. */
const SWEEP_BATCH = 200;

/**
 * Sessions in Redis, shared by every instance pointed at the same Redis.
 *
 * @example
 * import { startServer } from 'session-sync/server';
 * import { RedisStore } from 'session-sync/server/redis';
 *
 * const store = new RedisStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'myapp:' });
 * await store.ready();
 * const server = await startServer({ store });
 */
export class RedisStore implements SyncStore {
  readonly options: ResolvedRedisStoreOptions;
  readonly #connection: RedisConnection;
  readonly #sweepTimer: ReturnType<typeof setInterval>;
  #sweeping = false;

  /** @param options - `url` or `redis`, and any option to change from its default */
  constructor(
    options: Partial<RedisStoreOptions> & ({ url: string } | { redis: Redis | Cluster }),
  ) {
    const { url, redis, onError, ...rest } = options as Partial<RedisStoreOptions>;
    this.options = resolveRedisStoreOptions(rest);
    this.#connection = new RedisConnection({
      url,
      redis,
      commandTimeoutMs: this.options.commandTimeoutMs,
      retryAfterSeconds: this.options.retryAfterSeconds,
      onError: onError ?? (() => {}),
    });

    this.#sweepTimer = setInterval(() => {
      void this.#connection.checkHealth();
      void this.#sweep();
    }, this.options.sweepIntervalMs);
    (this.#sweepTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Resolves once Redis is connected and the store can deliver events; a server may await it
   * before it starts listening. Calls made earlier wait a few seconds for the connection anyway.
   *
   * @param timeoutMs - how long to wait
   * @throws StoreUnavailableError when Redis did not answer within `timeoutMs`
   */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (await this.#connection.whenAvailable(timeoutMs)) return;
    throw new StoreUnavailableError(
      `Redis did not answer within ${timeoutMs} ms.`,
      this.options.retryAfterSeconds,
    );
  }

  async create(session: StoredSession): Promise<boolean> {
    const keys = this.#keys(session.key);
    const created = await this.#connection.eval(
      scripts.CREATE,
      [keys.session, keys.history, keys.peers, keys.peerExpiry],
      [
        session.tokenHash,
        session.version,
        JSON.stringify(session.state),
        session.updatedAt,
        this.options.sessionTtlMs,
      ],
    );
    return created === 1;
  }

  async get(key: string): Promise<StoredSession | undefined> {
    const keys = await this.#settledKeys(key);
    const fields = ['tokenHash', 'version', 'state', 'updatedAt'];
    const [tokenHash, version, state, updatedAt] = await this.#connection.call((redis) =>
      redis.hmget(keys.session, ...fields),
    );
    if (tokenHash == null || version == null || state == null || updatedAt == null) return;
    return {
      key,
      tokenHash,
      version: Number(version),
      state: JSON.parse(state) as Json,
      updatedAt: Number(updatedAt),
    };
  }

  async compareAndWrite(key: string, expected: number, next: NextWrite): Promise<WriteOutcome> {
    const keys = await this.#settledKeys(key);
    const [status, version] = (await this.#connection.eval(
      scripts.COMPARE_AND_WRITE,
      [keys.session, keys.history],
      [
        expected,
        JSON.stringify(next.state),
        JSON.stringify(next.change),
        next.updatedAt,
        this.options.sessionTtlMs,
        this.options.historyLimit,
        keys.channel,
      ],
    )) as [number, number?];

    if (status === 1) return { ok: true, version: version!, updatedAt: next.updatedAt };
    if (status === -1) return { ok: false, reason: 'conflict', version: version! };
    return { ok: false, reason: 'not-found' };
  }

  async changesSince(key: string, since: number): Promise<ChangesOutcome | undefined> {
    const keys = await this.#settledKeys(key);
    const args = [since];
    const reply = (await this.#connection.eval(
      scripts.CHANGES_SINCE,
      [keys.session, keys.history],
      args,
    )) as [number, number, string?] | null;
    if (!reply) return undefined;

    const [kind, version, json] = reply;
    if (kind === 1) return { kind: 'changes', version, changes: json ? JSON.parse(json) : [] };
    return { kind: 'reset', version, state: JSON.parse(json!) as Json };
  }

  async delete(key: string): Promise<boolean> {
    const keys = await this.#settledKeys(key);
    const deleted = await this.#connection.eval(
      scripts.DELETE,
      [keys.session, keys.history, keys.peers, keys.peerExpiry],
      [keys.channel],
    );
    return deleted === 1;
  }

  async putPresence(key: string, clientId: string, data: Json, ttlMs: number) {
    const keys = await this.#settledKeys(key);
    const list = await this.#connection.eval(
      scripts.PUT_PRESENCE,
      [keys.session, keys.history, keys.peers, keys.peerExpiry],
      [clientId, JSON.stringify(data), ttlMs, this.options.sessionTtlMs, keys.channel],
    );
    return typeof list === 'string' ? (JSON.parse(list) as Peer[]) : undefined;
  }

  async removePresence(key: string, clientId: string): Promise<Peer[] | undefined> {
    const keys = await this.#settledKeys(key);
    const list = await this.#connection.eval(
      scripts.REMOVE_PRESENCE,
      [keys.session, keys.peers, keys.peerExpiry],
      [clientId, keys.channel],
    );
    return typeof list === 'string' ? (JSON.parse(list) as Peer[]) : undefined;
  }

  async peers(key: string): Promise<Peer[]> {
    const keys = await this.#settledKeys(key);
    const presence = [keys.session, keys.peers, keys.peerExpiry];
    // Expired peers are dropped on the way, and their subscribers told.
    const list = await this.#connection.eval(scripts.LIVE_PEERS, presence, [keys.channel]);
    return typeof list === 'string' ? (JSON.parse(list) as Peer[]) : [];
  }

  subscribe(key: string, listener: SessionListener): () => void {
    const unsubscribe = this.#connection.subscriptions.add(key, this.#keys(key).channel, listener);
    // Registered during an outage: say so now; the `resync` after reconnecting follows.
    if (this.#connection.inOutage) {
      queueMicrotask(() => this.#connection.available || listener({ type: 'unavailable' }));
    }
    return unsubscribe;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    await this.#connection.close();
  }

  /**
   * Expires the peers of the sessions streamed here, which publishes their `presence` event,
   * and tells local subscribers of sessions that expired in Redis that they are gone.
   */
  async #sweep(): Promise<void> {
    if (!this.#connection.available || this.#sweeping) return;
    this.#sweeping = true;
    try {
      const sessions = this.#connection.subscriptions.sessions;
      for (let start = 0; start < sessions.length; start += SWEEP_BATCH) {
        const batch = sessions.slice(start, start + SWEEP_BATCH);
        await Promise.all(batch.map((key) => this.#sweepOne(key)));
      }
    } finally {
      this.#sweeping = false;
    }
  }

  async #sweepOne(key: string): Promise<void> {
    const keys = this.#keys(key);
    const presence = [keys.session, keys.peers, keys.peerExpiry];
    // A failed sweep is retried on the next tick; the outage itself is reported elsewhere.
    const exists = await this.#connection
      .eval(scripts.SWEEP_PEERS, presence, [keys.channel])
      .catch(() => 1);
    if (exists === 0) this.#connection.subscriptions.emit(key, { type: 'deleted' });
  }

  #keys(key: string): scripts.SessionKeys {
    return scripts.sessionKeys(this.options.keyPrefix, key);
  }

  /**
   * The keys of a session, once a `SUBSCRIBE` of its channel in flight has landed. A subscriber
   * that reads after subscribing then sees every version: the older ones in what it read, the
   * newer ones as events; and a write through this store reaches its own subscribers.
   */
  async #settledKeys(key: string): Promise<scripts.SessionKeys> {
    const keys = this.#keys(key);
    await this.#connection.subscribed(keys.channel);
    return keys;
  }
}
