/**
 * The shared store suite: what every `SyncStore` must do, as the interface promises it.
 *
 * A store's own test file calls `describeStoreSuite` with a factory that builds the store
 * with `STORE_SUITE_OPTIONS` (short TTL, short history), so expiry and history trimming
 * happen within the suite's time. Each test builds a fresh store, uses random keys and
 * closes the store at the end, so a shared backend (Redis) is left as it was found.
 *
 * Notification may be asynchronous (a store may deliver through a network round trip), so
 * the suite waits for events with a deadline instead of expecting them at once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import type { Json } from '../../src/protocol.js';
import type { NextWrite, SessionEvent, StoredSession, SyncStore } from '../../src/server/store.js';
import { randomId } from '../../src/server/tokens.js';

/** Options the factory must give its store: the suite relies on these values. */
export const STORE_SUITE_OPTIONS = Object.freeze({ sessionTtlMs: 800, historyLimit: 5 });

const WAIT_MS = 5000;

function session(state: Json = { a: 1 }, version = 0): StoredSession {
  return {
    key: randomId(),
    tokenHash: 'f'.repeat(64),
    version,
    state,
    updatedAt: 1_700_000_000_000,
  };
}

function next(patch: Json, state: Json, by: string | null = null): NextWrite {
  return { state, change: { patch, by }, updatedAt: Date.now() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${WAIT_MS} ms`);
    await sleep(20);
  }
}

/** Records a subscription's events until the test ends. */
function record(t: TestContext, store: SyncStore, key: string): SessionEvent[] {
  const events: SessionEvent[] = [];
  const unsubscribe = store.subscribe(key, (event) => events.push(event));
  t.after(unsubscribe);
  return events;
}

/**
 * Registers the tests every store must pass.
 *
 * @param name - the store's name in the test report
 * @param makeStore - builds a fresh store with `STORE_SUITE_OPTIONS`
 */
export function describeStoreSuite(
  name: string,
  makeStore: () => Promise<SyncStore> | SyncStore,
): void {
  async function fresh(t: TestContext): Promise<SyncStore> {
    const store = await makeStore();
    t.after(() => store.close());
    return store;
  }

  describe(`${name} passes the shared store suite`, () => {
    test('a created session reads back as it was stored', async (t) => {
      const store = await fresh(t);
      const created = session({ board: ['x', null] });

      assert.equal(await store.create(created), true);
      assert.deepEqual(await store.get(created.key), created);
    });

    test('creating a key that exists returns false and keeps the first session', async (t) => {
      const store = await fresh(t);
      const first = session({ first: true });
      await store.create(first);

      assert.equal(await store.create({ ...first, state: { second: true } }), false);
      assert.deepEqual((await store.get(first.key))?.state, { first: true });
    });

    test('an unknown key reads as undefined', async (t) => {
      const store = await fresh(t);

      assert.equal(await store.get(randomId()), undefined);
      assert.equal(await store.changesSince(randomId(), 0), undefined);
      assert.deepEqual(await store.peers(randomId()), []);
    });

    test('compareAndWrite at the current version stores the state at exactly one version more', async (t) => {
      const store = await fresh(t);
      const created = session({ a: 1 }, 7);
      await store.create(created);
      const write = next({ b: 2 }, { a: 1, b: 2 }, 'tab');
      const outcome = await store.compareAndWrite(created.key, 7, write);

      assert.deepEqual(outcome, { ok: true, version: 8, updatedAt: write.updatedAt });
      const stored = await store.get(created.key);
      assert.equal(stored?.version, 8);
      assert.deepEqual(stored?.state, { a: 1, b: 2 });
      assert.equal(stored?.updatedAt, write.updatedAt);
      assert.equal(stored?.tokenHash, created.tokenHash);
    });

    test('compareAndWrite at a stale version reports the conflict and writes nothing', async (t) => {
      const store = await fresh(t);
      const created = session({ a: 1 });
      await store.create(created);
      await store.compareAndWrite(created.key, 0, next({ a: 2 }, { a: 2 }));
      const outcome = await store.compareAndWrite(created.key, 0, next({ a: 3 }, { a: 3 }));

      assert.deepEqual(outcome, { ok: false, reason: 'conflict', version: 1 });
      assert.deepEqual((await store.get(created.key))?.state, { a: 2 });
    });

    test('compareAndWrite on an unknown key reports not-found', async (t) => {
      const store = await fresh(t);
      const outcome = await store.compareAndWrite(randomId(), 0, next({}, {}));

      assert.deepEqual(outcome, { ok: false, reason: 'not-found' });
    });

    test('of concurrent writes at the same version exactly one succeeds', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.compareAndWrite(created.key, 0, next({ i }, { i })),
        ),
      );

      assert.equal(outcomes.filter((outcome) => outcome.ok).length, 1);
      assert.equal((await store.get(created.key))?.version, 1);
    });

    test('changesSince answers the changes after a version, oldest first', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);
      await store.compareAndWrite(created.key, 0, next({ a: 1 }, { a: 1 }, 'one'));
      await store.compareAndWrite(created.key, 1, next({ a: 2 }, { a: 2 }));
      await store.compareAndWrite(created.key, 2, {
        ...next([3], [3]),
        change: { patch: [3], by: null, replace: true },
      });

      assert.deepEqual(await store.changesSince(created.key, 1), {
        kind: 'changes',
        version: 3,
        changes: [
          { version: 2, patch: { a: 2 }, by: null },
          { version: 3, patch: [3], by: null, replace: true },
        ],
      });
      assert.deepEqual(await store.changesSince(created.key, 3), {
        kind: 'changes',
        version: 3,
        changes: [],
      });
      const all = await store.changesSince(created.key, 0);
      assert.equal(all?.kind === 'changes' && all.changes[0]?.by, 'one');
    });

    test('changesSince answers reset when the history is trimmed past the version', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);
      const writes = STORE_SUITE_OPTIONS.historyLimit + 3;
      for (let v = 0; v < writes; v++) {
        await store.compareAndWrite(created.key, v, next({ n: v + 1 }, { n: v + 1 }));
      }

      assert.deepEqual(await store.changesSince(created.key, 1), {
        kind: 'reset',
        version: writes,
        state: { n: writes },
      });
      const recent = await store.changesSince(created.key, writes - 2);
      assert.equal(recent?.kind, 'changes');
    });

    test('changesSince answers reset for a version beyond the session', async (t) => {
      const store = await fresh(t);
      const created = session({ re: 'created' });
      await store.create(created);

      assert.deepEqual(await store.changesSince(created.key, 40), {
        kind: 'reset',
        version: 0,
        state: { re: 'created' },
      });
    });

    test('subscribers receive each change with its version, and nothing after unsubscribing', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);
      const events: SessionEvent[] = [];
      const unsubscribe = store.subscribe(created.key, (event) => events.push(event));
      await store.compareAndWrite(created.key, 0, next({ a: 1 }, { a: 1 }, 'me'));

      await eventually(() => events.length > 0, 'the change event');
      assert.deepEqual(events[0], {
        type: 'change',
        change: { version: 1, patch: { a: 1 }, by: 'me' },
      });
      unsubscribe();
      await store.compareAndWrite(created.key, 1, next({ a: 2 }, { a: 2 }));
      await sleep(100);
      assert.equal(events.length, 1);
    });

    test('delete removes the session and notifies subscribers', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);
      const events = record(t, store, created.key);

      assert.equal(await store.delete(created.key), true);
      assert.equal(await store.get(created.key), undefined);
      assert.equal(await store.changesSince(created.key, 0), undefined);
      await eventually(() => events.some((event) => event.type === 'deleted'), 'the deleted event');
      assert.equal(await store.delete(created.key), false);
    });

    test('presence put and remove answer the peers and notify subscribers', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);
      const events = record(t, store, created.key);

      assert.deepEqual(await store.putPresence(created.key, 'ann', { name: 'Ann' }, 10_000), [
        { clientId: 'ann', data: { name: 'Ann' } },
      ]);
      await store.putPresence(created.key, 'bob', { name: 'Bob' }, 10_000);
      await store.putPresence(created.key, 'ann', { name: 'Ann', x: 1 }, 10_000);
      assert.deepEqual(await store.peers(created.key), [
        { clientId: 'ann', data: { name: 'Ann', x: 1 } },
        { clientId: 'bob', data: { name: 'Bob' } },
      ]);
      assert.deepEqual(await store.removePresence(created.key, 'ann'), [
        { clientId: 'bob', data: { name: 'Bob' } },
      ]);

      await eventually(
        () => events.filter((e) => e.type === 'presence').length >= 4,
        'presence events',
      );
      const last = events.filter((e) => e.type === 'presence').at(-1);
      assert.deepEqual(last, {
        type: 'presence',
        peers: [{ clientId: 'bob', data: { name: 'Bob' } }],
      });
    });

    test('presence on an unknown session answers undefined', async (t) => {
      const store = await fresh(t);

      assert.equal(await store.putPresence(randomId(), 'ann', {}, 10_000), undefined);
      assert.equal(await store.removePresence(randomId(), 'ann'), undefined);
    });

    test('a peer expires after its TTL and subscribers hear of it', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);
      await store.putPresence(created.key, 'stays', {}, 60_000);
      const events = record(t, store, created.key);
      await store.putPresence(created.key, 'leaves', {}, 100);

      await eventually(async () => (await store.peers(created.key)).length === 1, 'the expiry');
      assert.deepEqual(await store.peers(created.key), [{ clientId: 'stays', data: {} }]);
      await eventually(() => {
        const last = events.filter((e) => e.type === 'presence').at(-1);
        return last?.type === 'presence' && last.peers.length === 1;
      }, 'the presence event of the expiry');
    });

    test('a write keeps a session alive past its first TTL', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);
      const ttl = STORE_SUITE_OPTIONS.sessionTtlMs;

      await sleep(ttl * 0.6);
      await store.compareAndWrite(created.key, 0, next({ a: 1 }, { a: 1 }));
      await sleep(ttl * 0.6);
      assert.equal((await store.get(created.key))?.version, 1);
    });

    test('an idle session expires after its TTL', async (t) => {
      const store = await fresh(t);
      const created = session({});
      await store.create(created);

      assert.ok(await store.get(created.key));
      await eventually(async () => (await store.get(created.key)) === undefined, 'the expiry');
      assert.equal(await store.changesSince(created.key, 0), undefined);
    });
  });
}
