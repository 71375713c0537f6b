/**
 * Our server under test, as published: the build in `dist/server` (what `npx
 * session-sync-server` runs), so the figures include nothing the TypeScript loader adds to the
 * sources. In-memory store unless `BENCH_REDIS_URL` names a Redis (then the Redis store under
 * `BENCH_REDIS_PREFIX`). `npm run bench` builds first.
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

// Typed from the sources, loaded from the build, so type-checking the bench needs no build.
type ServerModule = typeof import('../../src/server/index.js');
type RedisModule = typeof import('../../src/server/redis-store.js');
const BUILT = '../../dist/server';

await serveAsChild(async () => {
  const { startServer } = (await import(`${BUILT}/index.js`)) as ServerModule;
  const redisUrl = process.env.BENCH_REDIS_URL;
  let store: SyncStore | undefined;
  if (redisUrl) {
    const { RedisStore } = (await import(`${BUILT}/redis-store.js`)) as RedisModule;
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
