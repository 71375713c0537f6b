/**
 * RedisStore on a three-node Redis Cluster of its own: the shared store suite, and events
 * crossing nodes between two stores. Each session's keys share one hash tag, so the scripts
 * never meet CROSSSLOT; sessions spread over the nodes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { Cluster } from 'ioredis';
import { RedisStore } from '../../src/server/redis-store.js';
import type { RedisStoreOptions } from '../../src/server/redis-store.js';
import type { SessionEvent } from '../../src/server/store.js';
import { randomId } from '../../src/server/tokens.js';
import { startPrivateCluster } from './fixtures/private-cluster.js';
import type { PrivateCluster } from './fixtures/private-cluster.js';
import { eventually } from './server-helpers.js';
import { STORE_SUITE_OPTIONS, describeStoreSuite } from './store-suite.js';

let cluster: PrivateCluster;
before(async () => {
  cluster = await startPrivateCluster();
});
after(() => cluster?.stop());

/** A store on its own cluster client, both closed by `close()`. */
async function clusterStore(options: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const client = new Cluster(cluster.nodes, {
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false },
  });
  const store = new RedisStore({ redis: client, sweepIntervalMs: 50, ...options });
  const closeStore = store.close.bind(store);
  store.close = async () => {
    await closeStore();
    await client.quit().catch(() => client.disconnect());
  };
  await store.ready();
  return store;
}

async function fresh(t: TestContext): Promise<RedisStore> {
  const store = await clusterStore();
  t.after(() => store.close());
  return store;
}

describeStoreSuite('RedisStore on a Redis Cluster', () => clusterStore(STORE_SUITE_OPTIONS));

describe('RedisStore on a Redis Cluster', { timeout: 60_000 }, () => {
  test('sessions spread over the nodes, each whole on one', async (t) => {
    const store = await fresh(t);
    const keys = Array.from({ length: 12 }, () => randomId());
    for (const key of keys) {
      await store.create({ key, tokenHash: 'c'.repeat(64), version: 0, state: {}, updatedAt: 0 });
      await store.putPresence(key, 'ann', {}, 10_000);
    }

    const client = new Cluster(cluster.nodes);
    t.after(() => client.disconnect());
    const nodesWithSessions = new Set<string>();
    for (const key of keys) {
      const slot = (await client.cluster('KEYSLOT', `session-sync:{${key}}:session`)) as number;
      for (const suffix of ['history', 'peers', 'peer-expiry']) {
        assert.equal(await client.cluster('KEYSLOT', `session-sync:{${key}}:${suffix}`), slot);
      }
      const master = client.slots[slot]?.[0];
      if (master) nodesWithSessions.add(master);
    }
    assert.ok(nodesWithSessions.size > 1, 'all sessions landed on one node');
  });

  test('a write through one store reaches the subscribers of another', async (t) => {
    const writer = await fresh(t);
    const reader = await fresh(t);
    const key = randomId();
    await writer.create({ key, tokenHash: 'c'.repeat(64), version: 0, state: {}, updatedAt: 0 });
    const events: SessionEvent[] = [];
    t.after(reader.subscribe(key, (event) => events.push(event)));
    // Reads wait for the subscription to land, so nothing written after this is missed.
    await reader.get(key);

    for (let version = 0; version < 5; version++) {
      const state = { version: version + 1 };
      await writer.compareAndWrite(key, version, {
        state,
        change: { patch: state, by: null },
        updatedAt: 0,
      });
    }
    await eventually(() => events.length >= 5);
    assert.deepEqual(
      events.map((event) => event.type === 'change' && event.change.version),
      [1, 2, 3, 4, 5],
    );
  });
});
