/**
 * Our server under test, from the TypeScript sources, in-memory store unless
 * `BENCH_REDIS_URL` names a Redis (then the Redis store under `BENCH_REDIS_PREFIX`).
 *
 * The abuse limits stay switched on but are raised beyond what the benchmarks reach: every
 * reader and writer here comes from 127.0.0.1, which the default per-address limits would
 * (rightly) refuse long before the figures mean anything. The limiter's bookkeeping still
 * runs on every request.
 */
import type { SyncStore } from '../../src/server/store.js';
import { serveAsChild } from './child-protocol.js';

const BEYOND_REACH = 1e9;

const RAISED_LIMITS = {
  writesPerSecondPerAddress: BEYOND_REACH,
  writeBurstPerAddress: BEYOND_REACH,
  writesPerSecondPerSession: BEYOND_REACH,
  writeBurstPerSession: BEYOND_REACH,
  sessionsPerMinutePerAddress: BEYOND_REACH,
  sessionBurstPerAddress: BEYOND_REACH,
  presencePerSecondPerAddress: BEYOND_REACH,
  presenceBurstPerAddress: BEYOND_REACH,
  presencePerSecondPerSession: BEYOND_REACH,
  presenceBurstPerSession: BEYOND_REACH,
  maxStreamsPerAddress: BEYOND_REACH,
  maxStreamsPerSession: BEYOND_REACH,
  maxSessions: 1_000_000,
};

await serveAsChild(async () => {
  const { startServer } = await import('../../src/server/index.js');
  const redisUrl = process.env.BENCH_REDIS_URL;
  let store: SyncStore | undefined;
  if (redisUrl) {
    // Named through a variable: the Redis store may not exist in every checkout yet.
    const redisStoreModule = '../../src/server/redis-store.js';
    const { RedisStore } = (await import(redisStoreModule)) as {
      RedisStore: new (options: { url: string; keyPrefix?: string }) => SyncStore & {
        ready(): Promise<void>;
      };
    };
    const redisStore = new RedisStore({ url: redisUrl, keyPrefix: process.env.BENCH_REDIS_PREFIX });
    await redisStore.ready();
    store = redisStore;
  }
  const extra = JSON.parse(process.env.BENCH_SERVER_OPTIONS ?? '{}') as Record<string, unknown>;
  const server = await startServer({
    ...RAISED_LIMITS,
    ...extra,
    port: 0,
    host: '127.0.0.1',
    log: false,
    store,
  });
  return { url: server.url, close: () => server.close() };
});
