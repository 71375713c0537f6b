/**
 * The server command with `--redis`: it loads the Redis store, keeps sessions in Redis under
 * the default prefix with the TTL it was given, and still shuts down cleanly on SIGTERM.
 * Only the keys of the session this test creates are touched.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { REDIS_STORE_DEFAULTS } from '../../src/server/redis-store.js';
import { REDIS_URL } from './fixtures/redis.js';
import { call, newSession, patch, withTimeout } from './server-helpers.js';

describe('session-sync-server --redis', { timeout: 60_000 }, () => {
  test('it keeps sessions in Redis with the TTL it was given, and exits 0 on SIGTERM', async (t) => {
    const args = ['--import', 'tsx', 'src/server/cli.ts', '--port', '0', '--ttl', '90s'];
    const child = spawn(process.execPath, [...args, '--redis', REDIS_URL], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await withTimeout(
      new Promise<string>((resolve) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg: string; url: string };
          if (entry.msg === 'listening') resolve(entry.url);
        });
      }),
      20_000,
    );

    const redis = new Redis(REDIS_URL);
    const session = await newSession(url, { n: 0 });
    const base = `${REDIS_STORE_DEFAULTS.keyPrefix}{${session.key}}`;
    t.after(async () => {
      await redis.del(`${base}:session`, `${base}:history`, `${base}:peers`, `${base}:peer-expiry`);
      await redis.quit();
    });
    assert.equal((await patch(url, session, { n: 1 })).status, 200);

    assert.equal(await redis.hget(`${base}:session`, 'version'), '1');
    const ttl = await redis.pttl(`${base}:session`);
    assert.ok(ttl > 80_000 && ttl <= 90_000, `PTTL ${ttl}`);
    assert.equal((await call(url, 'GET', `/sessions/${session.key}`)).status, 200);

    child.kill('SIGTERM');
    assert.equal(await withTimeout(exited, 15_000), 0);
  });
});
