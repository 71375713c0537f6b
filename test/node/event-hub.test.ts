import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStore } from '../../src/server/index.js';
import type {
  MemoryStoreOptions,
  SessionEvent,
  SessionListener,
  SyncHandlerOptions,
} from '../../src/server/index.js';
import { EventReader, call, eventually, newSession, patch, testHandler } from './server-helpers.js';

/**
 * The in-memory store with the delivery faults a networked store may show: notifications of
 * chosen versions are lost, and `resync` / `unavailable` can be announced at will.
 */
class LossyStore extends MemoryStore {
  readonly lostVersions = new Set<number>();
  readonly #listeners = new Set<SessionListener>();

  /** Live subscriptions, across all keys. */
  get subscriptions(): number {
    return this.#listeners.size;
  }

  override subscribe(key: string, listener: SessionListener): () => void {
    const filtered: SessionListener = (event) => {
      if (event.type === 'change' && this.lostVersions.has(event.change.version)) return;
      listener(event);
    };
    this.#listeners.add(filtered);
    const unsubscribe = super.subscribe(key, filtered);
    return () => {
      this.#listeners.delete(filtered);
      unsubscribe();
    };
  }

  announce(event: SessionEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

async function setUp(
  t: Parameters<typeof testHandler>[0],
  options: Partial<SyncHandlerOptions> = {},
  storeOptions: Partial<MemoryStoreOptions> = {},
) {
  const store = new LossyStore(storeOptions);
  const handler = testHandler(t, { store, ...options });
  const session = await newSession(handler, {});
  const open = async (headers: Record<string, string> = {}) => {
    const response = await call(handler, 'GET', `/sessions/${session.key}/events`, { headers });
    const events = new EventReader(response.body);
    t.after(() => events.cancel().catch(() => undefined));
    return events;
  };
  return { store, handler, session, open };
}

describe('the event hub', () => {
  test('a lost change notification is repaired when the next one shows the gap', async (t) => {
    const { store, handler, session, open } = await setUp(t);
    const events = await open();
    await events.next();
    store.lostVersions.add(2);
    for (let n = 1; n <= 3; n++) await patch(handler, session, { n });

    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await events.next())?.id);
    assert.deepEqual(ids, ['1', '2', '3']);
  });

  test('a lost last change is delivered when the store announces resync', async (t) => {
    const { store, handler, session, open } = await setUp(t);
    const events = await open();
    await events.next();
    store.lostVersions.add(1);
    await patch(handler, session, { n: 1 });
    store.announce({ type: 'resync' });

    const event = await events.next();
    assert.deepEqual([event?.event, event?.id, event?.data.patch], ['change', '1', { n: 1 }]);
  });

  test('streams say the store is unavailable, stay open, and catch up on resync', async (t) => {
    const { store, handler, session, open } = await setUp(t, { heartbeatMs: 30 });
    const events = await open();
    await events.next();
    store.announce({ type: 'unavailable' });
    assert.equal((await events.next())?.event, 'unavailable');
    store.lostVersions.add(1).add(2);
    await patch(handler, session, { n: 1 });
    await patch(handler, session, { n: 2 });
    await assert.rejects(events.next(100), /No answer/);
    assert.ok(events.comments > 0, 'heartbeats go on meanwhile');
    store.announce({ type: 'resync' });

    assert.deepEqual([(await events.next())?.id, (await events.next())?.id], ['1', '2']);
  });

  test('a snapshot repairs streams when the history no longer covers the gap', async (t) => {
    const { store, handler, session, open } = await setUp(t, {}, { historyLimit: 1 });
    const events = await open();
    await events.next();
    store.lostVersions.add(1).add(2).add(3);
    for (let n = 1; n <= 3; n++) await patch(handler, session, { n });
    store.announce({ type: 'resync' });

    const event = await events.next();
    assert.deepEqual([event?.event, event?.id, event?.data.state], ['snapshot', '3', { n: 3 }]);
    await patch(handler, session, { n: 4 });
    assert.equal((await events.next())?.id, '4');
  });

  test('all streams of a session share one store subscription, released when they end', async (t) => {
    const { store, open } = await setUp(t);
    const streams = await Promise.all([open(), open(), open(), open()]);
    await Promise.all(streams.map((events) => events.next()));

    assert.equal(store.subscriptions, 1);
    await Promise.all(streams.map((events) => events.cancel()));
    await eventually(() => store.subscriptions === 0);
  });

  test('a heartbeat comment reaches idle streams every heartbeatMs', async (t) => {
    const { open } = await setUp(t, { heartbeatMs: 30 });
    const events = await open();
    await events.next();

    await assert.rejects(events.next(300), /No answer/);
    assert.ok(events.comments >= 2, `${events.comments} heartbeats`);
  });

  test('a stream whose reader falls too far behind is ended, and the others go on', async (t) => {
    const { handler, session, open } = await setUp(t, { streamBufferMaxBytes: 2000 });
    const stalled = await call(handler, 'GET', `/sessions/${session.key}/events`);
    const reading = await open();
    await reading.next();
    for (let n = 0; n < 10; n++) {
      await patch(handler, session, { text: 'x'.repeat(400), n });
      assert.equal((await reading.next())?.data.patch.n, n);
    }

    const reader = stalled.body!.getReader();
    await assert.rejects(async () => {
      for (;;) if ((await reader.read()).done) break;
    }, /too far behind/);
  });
});
