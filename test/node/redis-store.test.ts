/**
 * RedisStore against the real Redis: the shared store suite first, then what only a shared,
 * networked store has to get right (layout, pub/sub across stores, history bounds).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { Json } from '../../src/protocol.js';
import { RedisStore } from '../../src/server/redis-store.js';
import type { RedisStoreOptions } from '../../src/server/redis-store.js';
import type { NextWrite, SessionEvent, StoredSession } from '../../src/server/store.js';
import { randomId } from '../../src/server/tokens.js';
import { REDIS_URL, removeKeys, runPrefix } from './fixtures/redis.js';
import { eventually, sleep } from './server-helpers.js';
import { STORE_SUITE_OPTIONS, describeStoreSuite } from './store-suite.js';

const prefix = runPrefix();
after(() => removeKeys(prefix));

describeStoreSuite('RedisStore', async () => {
  const store = new RedisStore({
    url: REDIS_URL,
    keyPrefix: prefix,
    ...STORE_SUITE_OPTIONS,
    sweepIntervalMs: 50,
  });
  await store.ready();
  return store;
});

function session(state: Json = {}): StoredSession {
  return { key: randomId(), tokenHash: 'e'.repeat(64), version: 0, state, updatedAt: Date.now() };
}

function change(patch: Json, state: Json): NextWrite {
  return { state, change: { patch, by: null }, updatedAt: Date.now() };
}

async function makeStore(t: TestContext, options: Partial<RedisStoreOptions> = {}) {
  const store = new RedisStore({
    url: REDIS_URL,
    keyPrefix: prefix,
    sweepIntervalMs: 50,
    ...options,
  });
  t.after(() => store.close());
  await store.ready();
  return store;
}

async function inspector(t: TestContext): Promise<Redis> {
  const redis = new Redis(REDIS_URL);
  t.after(() => redis.quit());
  return redis;
}

/** Waits until Redis counts `count` subscriptions to the session's channel. */
async function subscribers(t: TestContext, key: string, count: number): Promise<void> {
  const redis = await inspector(t);
  const channel = `${prefix}{${key}}:events`;
  await eventually(async () => {
    const [, subscribed] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
    return subscribed === count;
  });
}

describe('RedisStore in Redis', () => {
  test('all keys of a session share one hash tag under the prefix, so one Cluster slot', async (t) => {
    const store = await makeStore(t);
    const created = session();
    await store.create(created);
    await store.compareAndWrite(created.key, 0, change({ a: 1 }, { a: 1 }));
    await store.putPresence(created.key, 'ann', {}, 10_000);

    const keys = await (await inspector(t)).keys(`${prefix}*${created.key}*`);
    assert.equal(keys.length, 4);
    for (const name of keys) assert.ok(name.startsWith(`${prefix}{${created.key}}:`), name);
  });

  test('the history list never holds more than historyLimit changes', async (t) => {
    const store = await makeStore(t, { historyLimit: 3 });
    const created = session();
    await store.create(created);
    for (let v = 0; v < 10; v++) await store.compareAndWrite(created.key, v, change({ v }, { v }));

    const redis = await inspector(t);
    assert.equal(await redis.llen(`${prefix}{${created.key}}:history`), 3);
    const recent = await store.changesSince(created.key, 7);
    assert.deepEqual(
      recent?.kind === 'changes' && recent.changes.map((c) => c.version),
      [8, 9, 10],
    );
  });

  test('session and presence keys carry Redis expiries', async (t) => {
    const store = await makeStore(t, { sessionTtlMs: 60_000 });
    const created = session();
    await store.create(created);
    await store.putPresence(created.key, 'ann', {}, 5_000);

    const redis = await inspector(t);
    const ttl = (suffix: string) => redis.pttl(`${prefix}{${created.key}}:${suffix}`);
    const sessionTtl = await ttl('session');
    assert.ok(sessionTtl > 50_000 && sessionTtl <= 60_000, `session PTTL ${sessionTtl}`);
    for (const suffix of ['peers', 'peer-expiry']) {
      const presenceTtl = await ttl(suffix);
      assert.ok(presenceTtl > 0 && presenceTtl <= 65_000, `${suffix} PTTL ${presenceTtl}`);
    }
  });

  test('JSON comes back exactly as it went in: odd keys, empty containers, numbers, text', async (t) => {
    const store = await makeStore(t);
    const state = JSON.parse(
      '{"__proto__":{"x":1},"constructor":[],"e":{},"n":[1.5,-0.25,12345678901234567,1e-7],' +
        '"s":"\\u00e9\\ud83d\\ude00 \\"quoted\\" \\\\ \\n","t":[true,false,null]}',
    ) as Json;
    const created = session(state);
    await store.create(created);
    const events: SessionEvent[] = [];
    t.after(store.subscribe(created.key, (event) => events.push(event)));
    await store.compareAndWrite(created.key, 0, change(state, state));

    assert.deepEqual((await store.get(created.key))?.state, state);
    const changes = await store.changesSince(created.key, 0);
    assert.deepEqual(changes?.kind === 'changes' && changes.changes[0]?.patch, state);
    await eventually(() => events.length > 0);
    assert.deepEqual(events[0], { type: 'change', change: { version: 1, patch: state, by: null } });
    assert.equal(Object.getPrototypeOf((await store.get(created.key))!.state), Object.prototype);
  });

  test('a write through one store reaches the subscribers of another', async (t) => {
    const writer = await makeStore(t);
    const reader = await makeStore(t);
    const created = session();
    await writer.create(created);
    const events: SessionEvent[] = [];
    t.after(reader.subscribe(created.key, (event) => events.push(event)));
    await subscribers(t, created.key, 1);

    await writer.compareAndWrite(created.key, 0, change({ a: 1 }, { a: 1 }));
    await writer.putPresence(created.key, 'ann', { name: 'Ann' }, 10_000);
    await writer.delete(created.key);

    await eventually(() => events.length >= 3);
    assert.deepEqual(events, [
      { type: 'change', change: { version: 1, patch: { a: 1 }, by: null } },
      { type: 'presence', peers: [{ clientId: 'ann', data: { name: 'Ann' } }] },
      { type: 'deleted' },
    ]);
  });

  test('two stores writing at one version: exactly one wins', async (t) => {
    const stores = [await makeStore(t), await makeStore(t)];
    const created = session();
    await stores[0]!.create(created);

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stores[i % 2]!.compareAndWrite(created.key, 0, change({ i }, { i })),
      ),
    );
    assert.equal(outcomes.filter((outcome) => outcome.ok).length, 1);
    assert.deepEqual(
      outcomes.find((outcome) => !outcome.ok),
      {
        ok: false,
        reason: 'conflict',
        version: 1,
      },
    );
  });

  test('an expiry swept by one store reaches the subscribers of another', async (t) => {
    const announcer = await makeStore(t);
    const listener = await makeStore(t, { sweepIntervalMs: 60_000 });
    const created = session();
    await announcer.create(created);
    const events: SessionEvent[] = [];
    t.after(listener.subscribe(created.key, (event) => events.push(event)));
    t.after(announcer.subscribe(created.key, () => {}));
    await subscribers(t, created.key, 2);

    await announcer.putPresence(created.key, 'brief', {}, 150);
    await eventually(() =>
      events.some((event) => event.type === 'presence' && event.peers.length === 0),
    );
  });

  test('a deleted session is reported once, though the sweep finds it gone too', async (t) => {
    const store = await makeStore(t, { sweepIntervalMs: 20 });
    const created = session();
    await store.create(created);
    const events: SessionEvent[] = [];
    t.after(store.subscribe(created.key, (event) => events.push(event)));

    await store.delete(created.key);
    await sleep(300);
    assert.deepEqual(events, [{ type: 'deleted' }]);
  });

  test('a session that expires in Redis ends the subscriptions to it', async (t) => {
    const store = await makeStore(t, { sessionTtlMs: 300 });
    const created = session();
    await store.create(created);
    const events: SessionEvent[] = [];
    t.after(store.subscribe(created.key, (event) => events.push(event)));

    await eventually(() => events.some((event) => event.type === 'deleted'));
  });

  test('a client passed in (even a lazy one) is used, and left open by close()', async () => {
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    const store = new RedisStore({ redis: client, keyPrefix: prefix });
    await store.ready();
    const created = session({ via: 'client' });

    assert.equal(await store.create(created), true);
    assert.deepEqual((await store.get(created.key))?.state, { via: 'client' });
    await store.close();
    assert.equal(client.status, 'ready');
    assert.equal(await client.exists(`${prefix}{${created.key}}:session`), 1);
    client.disconnect();
  });

  test('options that cannot work are refused at construction', () => {
    assert.throws(() => new RedisStore({ url: REDIS_URL, historyLimit: 0 }), TypeError);
    assert.throws(() => new RedisStore({ url: REDIS_URL, sessionTtlMs: -1 }), TypeError);
    assert.throws(() => new RedisStore({ url: REDIS_URL, keyPrefix: 'app{1}:' }), TypeError);
    assert.throws(() => new RedisStore({} as { url: string }), TypeError);
  });
});
