/**
 * Two server processes on one Redis, as a scaled-out deployment runs them: writes through
 * either are serialised by the store, and a stream on one sees every write made through the
 * other, in order, without gaps.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Json, SessionCreated } from '../../src/protocol.js';
import { startInstance } from './fixtures/instances.js';
import type { Instance } from './fixtures/instances.js';
import { REDIS_URL, removeKeys, runPrefix } from './fixtures/redis.js';
import { EventReader, call, newSession, patch, sleep, withTimeout } from './server-helpers.js';

const WRITERS = 6;
const INCREMENTS = 12;
const STREAMED_WRITES = 60;

describe('two server instances on one Redis', { timeout: 120_000 }, () => {
  const prefix = runPrefix();
  let a: Instance;
  let b: Instance;

  before(async () => {
    [a, b] = await Promise.all([
      startInstance({ redisUrl: REDIS_URL, keyPrefix: prefix }),
      startInstance({ redisUrl: REDIS_URL, keyPrefix: prefix }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await removeKeys(prefix);
  });

  test('concurrent If-Match writers spread over both instances count every increment', async () => {
    const session = await newSession(a.url, { count: 0 });
    const instances = [a, b];
    let conflicts = 0;

    async function increment(writer: number, round: number): Promise<void> {
      for (let attempt = 0; ; attempt++) {
        // Read through one instance and write through the other, alternating.
        const reader = instances[(writer + round + attempt) % 2]!;
        const target = instances[(writer + round + attempt + 1) % 2]!;
        const read = await call(reader.url, 'GET', `/sessions/${session.key}`);
        assert.equal(read.status, 200);
        const { version, state } = (await read.json()) as { version: number; state: any };
        const write = await patch(
          target.url,
          session,
          { count: state.count + 1 },
          {
            'If-Match': `"${version}"`,
          },
        );
        await write.body?.cancel();
        if (write.status === 200) return;
        assert.equal(write.status, 412, `a write answered ${write.status}`);
        conflicts++;
      }
    }

    await Promise.all(
      Array.from({ length: WRITERS }, async (_, writer) => {
        for (let round = 0; round < INCREMENTS; round++) await increment(writer, round);
      }),
    );

    for (const instance of instances) {
      const read = await call(instance.url, 'GET', `/sessions/${session.key}`);
      const view = (await read.json()) as { version: number; state: { count: number } };
      assert.equal(view.state.count, WRITERS * INCREMENTS);
      assert.equal(view.version, WRITERS * INCREMENTS);
    }
    assert.ok(conflicts > 0, 'the writers never collided, so nothing was tested');
  });

  test('a stream on one instance receives every write made through the other, in order', async () => {
    const session = await newSession(a.url, { lanes: {} });
    const stream = await fetch(`${a.url}/sessions/${session.key}/events`);
    assert.equal(stream.status, 200);
    const events = new EventReader(stream.body);
    const snapshot = await events.nextExcept(['presence']);
    assert.equal(snapshot?.event, 'snapshot');
    const start = snapshot.data.version as number;

    // Four lanes write through B at once, without If-Match: the server orders them, and each
    // answer says which version a body became.
    const bodyAt = new Map<number, Json>();
    await Promise.all(
      Array.from({ length: 4 }, async (_, lane) => {
        for (let n = 0; n < STREAMED_WRITES / 4; n++) {
          const body = { lanes: { [lane]: n } };
          const response = await patch(b.url, session, body);
          assert.equal(response.status, 200);
          bodyAt.set(((await response.json()) as { version: number }).version, body);
        }
      }),
    );

    const seen: number[] = [];
    while (seen.length < STREAMED_WRITES) {
      const event = await events.nextExcept(['presence'], 10_000);
      assert.equal(event?.event, 'change', `expected a change, got ${JSON.stringify(event)}`);
      const version = event.data.version as number;
      assert.equal(Number(event.id), version);
      assert.deepEqual(event.data.patch, bodyAt.get(version), `the patch of version ${version}`);
      seen.push(version);
    }
    await events.cancel();

    const expected = Array.from({ length: STREAMED_WRITES }, (_, i) => start + i + 1);
    assert.deepEqual(seen, expected);
  });

  test('a stream dropped on one instance resumes on the other with exactly the missed changes', async () => {
    const session = await newSession(a.url, { n: 0 });
    await patch(a.url, session, { n: 1 });
    const first = await fetch(`${a.url}/sessions/${session.key}/events`);
    const before = new EventReader(first.body);
    const snapshot = await before.nextExcept(['presence']);
    assert.equal(snapshot?.id, '1');
    await before.cancel();

    for (let n = 2; n <= 4; n++) assert.equal((await patch(a.url, session, { n })).status, 200);
    const resumed = await fetch(`${b.url}/sessions/${session.key}/events`, {
      headers: { 'Last-Event-ID': snapshot.id! },
    });
    const after = new EventReader(resumed.body);
    const ids: string[] = [];
    while (ids.length < 3) {
      const event = await after.nextExcept(['presence'], 10_000);
      assert.equal(event?.event, 'change');
      ids.push(event.id!);
    }
    await after.cancel();
    assert.deepEqual(ids, ['2', '3', '4']);
  });

  test('a long-poll held by one instance wakes for a write made through the other', async () => {
    const session = await newSession(a.url, { n: 0 });
    const held = call(a.url, 'GET', `/sessions/${session.key}/changes?since=0&wait=20`);
    await sleep(200);
    const write = await patch(b.url, session, { n: 1 });
    assert.equal(write.status, 200);

    const answer = await withTimeout(held, 15_000);
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), {
      version: 1,
      changes: [{ version: 1, patch: { n: 1 }, by: null }],
    });
  });

  test('presence announced through one instance reaches a stream on the other', async () => {
    const session = await newSession(a.url, {});
    const stream = await fetch(`${a.url}/sessions/${session.key}/events`);
    const events = new EventReader(stream.body);
    assert.equal((await events.next())?.event, 'snapshot');

    const announced = await call(b.url, 'PUT', `/sessions/${session.key}/presence/ann`, {
      body: { name: 'Ann' },
    });
    assert.equal(announced.status, 200);
    let presence = await events.next(10_000);
    while (presence?.event === 'presence' && presence.data.peers.length === 0) {
      presence = await events.next(10_000);
    }
    assert.deepEqual(presence?.data, { peers: [{ clientId: 'ann', data: { name: 'Ann' } }] });
    await events.cancel();
  });

  test('a session created through one instance is readable, writable and deletable through the other', async () => {
    const session: SessionCreated = await newSession(a.url, { from: 'a' });

    const read = await call(b.url, 'GET', `/sessions/${session.key}`);
    assert.equal(read.status, 200);
    assert.deepEqual(((await read.json()) as { state: Json }).state, { from: 'a' });
    const write = await patch(b.url, session, { via: 'b' });
    assert.equal(write.status, 200);
    const removed = await call(b.url, 'DELETE', `/sessions/${session.key}`, {
      headers: { Authorization: `Bearer ${session.writeToken}` },
    });
    assert.equal(removed.status, 204);
    assert.equal((await call(a.url, 'GET', `/sessions/${session.key}`)).status, 404);
  });
});
