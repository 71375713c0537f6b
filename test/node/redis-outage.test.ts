/**
 * RedisStore while Redis is missing or restarting, on a private Redis the test crashes (the
 * shared one is never touched): calls fail fast with StoreUnavailableError, subscribers hear
 * `unavailable` and then `resync`, and nothing is thrown at the process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { RedisStore } from '../../src/server/redis-store.js';
import { StoreFullError, StoreUnavailableError } from '../../src/server/store.js';
import type { SessionEvent, StoredSession } from '../../src/server/store.js';
import { randomId } from '../../src/server/tokens.js';
import { startPrivateRedis } from './fixtures/private-redis.js';
import type { PrivateRedis } from './fixtures/private-redis.js';
import { eventually } from './server-helpers.js';

function session(): StoredSession {
  return { key: randomId(), tokenHash: 'd'.repeat(64), version: 0, state: {}, updatedAt: 0 };
}

/** Resolves with how long `promise` took to reject with StoreUnavailableError. */
async function rejectionTime(promise: Promise<unknown>): Promise<number> {
  const started = Date.now();
  await assert.rejects(promise, StoreUnavailableError);
  return Date.now() - started;
}

describe('RedisStore without Redis', { timeout: 60_000 }, () => {
  test('calls fail with StoreUnavailableError, and the later ones at once', async (t) => {
    const errors: Error[] = [];
    // Port 1 on loopback: nothing listens there, the connection is refused.
    const store = new RedisStore({ url: 'redis://127.0.0.1:1', onError: (e) => errors.push(e) });
    t.after(() => store.close());

    await assert.rejects(store.ready(500), StoreUnavailableError);
    await rejectionTime(store.get(randomId()));
    const later = await rejectionTime(
      store.compareAndWrite(randomId(), 0, {
        state: {},
        change: { patch: {}, by: null },
        updatedAt: 0,
      }),
    );
    assert.ok(later < 1000, `the second call took ${later} ms`);
    assert.ok(errors.length > 0, 'connection errors were not reported');
  });
});

describe('RedisStore through a Redis restart', { timeout: 60_000 }, () => {
  let redis: PrivateRedis;
  before(async () => {
    redis = await startPrivateRedis({ persistent: true });
  });
  after(() => redis?.remove());

  async function makeStore(t: TestContext) {
    const store = new RedisStore({ url: redis.url, sweepIntervalMs: 50 });
    t.after(() => store.close());
    await store.ready();
    return store;
  }

  test('subscribers hear unavailable, calls fail fast, then resync and work again', async (t) => {
    const store = await makeStore(t);
    const created = session();
    await store.create(created);
    const events: SessionEvent['type'][] = [];
    t.after(store.subscribe(created.key, (event) => events.push(event.type)));

    await redis.crash();
    await eventually(() => events.includes('unavailable'));
    const during = await rejectionTime(store.get(created.key));
    assert.ok(during < 1000, `a call during the outage took ${during} ms`);

    const late: SessionEvent['type'][] = [];
    t.after(store.subscribe(created.key, (event) => late.push(event.type)));
    await eventually(() => late.includes('unavailable'));

    await redis.restart();
    await eventually(() => events.includes('resync') && late.includes('resync'), 20_000);
    assert.deepEqual(events, ['unavailable', 'resync']);
    const outcome = await store.compareAndWrite(created.key, 0, {
      state: { after: true },
      change: { patch: { after: true }, by: null },
      updatedAt: 1,
    });
    assert.deepEqual(outcome, { ok: true, version: 1, updatedAt: 1 });
    await eventually(() => events.at(-1) === 'change');
  });
});

describe('RedisStore on a Redis that stalls', { timeout: 60_000 }, () => {
  let redis: PrivateRedis;
  before(async () => {
    redis = await startPrivateRedis({ persistent: false });
  });
  after(() => redis?.remove());

  test('a stall reads as an outage: unavailable, fast failures, then resync', async (t) => {
    const store = new RedisStore({ url: redis.url, commandTimeoutMs: 300, sweepIntervalMs: 100 });
    t.after(() => store.close());
    await store.ready();
    const created = session();
    await store.create(created);
    const events: SessionEvent['type'][] = [];
    t.after(store.subscribe(created.key, (event) => events.push(event.type)));

    redis.pause();
    t.after(() => redis.resume());
    await eventually(() => events.includes('unavailable'), 10_000);
    const during = await rejectionTime(store.get(created.key));
    assert.ok(during < 1000, `a call during the stall took ${during} ms`);

    redis.resume();
    await eventually(() => events.includes('resync'), 20_000);
    assert.equal((await store.get(created.key))?.version, 0);
  });
});

describe('RedisStore on a full Redis', { timeout: 60_000 }, () => {
  let redis: PrivateRedis;
  before(async () => {
    const limits = ['--maxmemory', '3mb', '--maxmemory-policy', 'noeviction'];
    redis = await startPrivateRedis({ persistent: false, extraArgs: limits });
  });
  after(() => redis?.remove());

  test('a write past maxmemory fails with StoreFullError and leaves the session as it was', async (t) => {
    const store = new RedisStore({ url: redis.url });
    t.after(() => store.close());
    await store.ready();
    const big = 'x'.repeat(100_000);
    const created = session();
    await store.create(created);

    let version = 0;
    let error: unknown;
    while (version < 200 && !error) {
      const state = { big, version };
      const outcome = await store
        .compareAndWrite(created.key, version, {
          state,
          change: { patch: state, by: null },
          updatedAt: 0,
        })
        .catch((caught: unknown) => (error = caught));
      if (!error) version++;
      assert.ok(error || (outcome as { ok: boolean }).ok);
    }

    assert.ok(error instanceof StoreFullError, `the write failed with ${error}`);
    const stored = await store.get(created.key);
    assert.equal(stored?.version, version);
    assert.deepEqual(stored?.state, version === 0 ? {} : { big, version: version - 1 });
  });
});
