/**
 * Redis for the cross-instance figures: whether it can run here, and a key prefix per run
 * that is removed afterwards (the shared Redis on 6379 is never flushed or stopped).
 */
import { connect } from 'node:net';
import { Redis } from 'ioredis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when a Redis answers PING. */
export async function redisAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const { hostname, port } = new URL(REDIS_URL);
  const answered = await new Promise<boolean>((resolve) => {
    const socket = connect(Number(port || 6379), hostname);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
  return answered ? { ok: true } : { ok: false, reason: `no Redis answers at ${REDIS_URL}` };
}

/** Environment for server children sharing one Redis under a fresh prefix, and its clean-up. */
export function redisBenchEnv(): { vars: Record<string, string>; cleanUp(): Promise<void> } {
  const prefix = `session-sync-bench:${process.pid}:${Date.now()}:`;
  return {
    vars: { BENCH_REDIS_URL: REDIS_URL, BENCH_REDIS_PREFIX: prefix },
    cleanUp: () => deleteByPrefix(prefix),
  };
}

async function deleteByPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
