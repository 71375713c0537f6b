import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStore, StoreFullError } from '../../src/server/index.js';
import type { StoredSession } from '../../src/server/index.js';
import { STORE_SUITE_OPTIONS, describeStoreSuite } from './store-suite.js';

describeStoreSuite(
  'MemoryStore',
  () => new MemoryStore({ ...STORE_SUITE_OPTIONS, sweepIntervalMs: 25 }),
);

function session(key: string, state: StoredSession['state'] = {}): StoredSession {
  return { key, tokenHash: '0'.repeat(64), version: 0, state, updatedAt: Date.now() };
}

describe('MemoryStore limits', () => {
  test('it refuses a session beyond maxSessions with StoreFullError', async (t) => {
    const store = new MemoryStore({ maxSessions: 2 });
    t.after(() => store.close());
    await store.create(session('one'));
    await store.create(session('two'));

    await assert.rejects(store.create(session('three')), StoreFullError);
  });

  test('it makes room by dropping old history before refusing a write', async (t) => {
    const store = new MemoryStore({ maxStoreBytes: 2000 });
    t.after(() => store.close());
    await store.create(session('k'));
    const text = 'x'.repeat(300);
    for (let v = 0; v < 6; v++) {
      const outcome = await store.compareAndWrite('k', v, {
        state: { text },
        change: { patch: { text, v }, by: null },
        updatedAt: Date.now(),
      });
      assert.equal(outcome.ok, true);
    }

    assert.ok(store.bytes <= 2000);
    assert.equal((await store.changesSince('k', 0))?.kind, 'reset');
  });

  test('it refuses a state larger than maxStoreBytes and keeps the old one', async (t) => {
    const store = new MemoryStore({ maxStoreBytes: 1000 });
    t.after(() => store.close());
    await store.create(session('k', { small: true }));
    const write = {
      state: { big: 'y'.repeat(2000) },
      change: { patch: {}, by: null },
      updatedAt: 1,
    };

    await assert.rejects(store.compareAndWrite('k', 0, write), StoreFullError);
    assert.deepEqual((await store.get('k'))?.state, { small: true });
  });

  test('deleting a session gives its bytes back', async (t) => {
    const store = new MemoryStore();
    t.after(() => store.close());
    await store.create(session('k', { text: 'z'.repeat(500) }));
    assert.ok(store.bytes > 500);

    await store.delete('k');
    assert.equal(store.bytes, 0);
  });
});
