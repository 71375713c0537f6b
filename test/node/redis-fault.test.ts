/**
 * Redis going away under load, on a private Redis this test crashes and restarts (the shared
 * one is never touched). Two server processes keep running through it.
 *
 * "Every acknowledged write is still there afterwards" needs a Redis that keeps what it
 * acknowledged: the first test runs it with an append-only file synced on every write
 * (`appendfsync always`) and kills it with SIGKILL, a real crash. The second runs it without
 * persistence, where a restart loses everything, and checks that the servers say so honestly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyMergePatch } from '../../src/merge-patch.js';
import type { Json } from '../../src/protocol.js';
import { startInstance } from './fixtures/instances.js';
import type { Instance } from './fixtures/instances.js';
import { startPrivateRedis } from './fixtures/private-redis.js';
import type { PrivateRedis } from './fixtures/private-redis.js';
import { runPrefix } from './fixtures/redis.js';
import { EventReader, call, eventually, newSession, patch, sleep } from './server-helpers.js';
import type { SseEvent } from './server-helpers.js';

const WRITERS = 4;
const OUTAGE_MS = 1500;

interface Outcome {
  field: string;
  /** The instance that answered: each reconnects to Redis on its own schedule. */
  via: 'a' | 'b';
  status: number;
  retryAfter: string | null;
  code?: string;
}

/** Starts a private Redis and two server instances on it; stops them all after the tests. */
function deployment(persistent: boolean) {
  const parts = {} as { redis: PrivateRedis; a: Instance; b: Instance };
  before(async () => {
    parts.redis = await startPrivateRedis({ persistent });
    const config = { redisUrl: parts.redis.url, keyPrefix: runPrefix() };
    [parts.a, parts.b] = await Promise.all([startInstance(config), startInstance(config)]);
  });
  after(async () => {
    await Promise.all([parts.a?.stop(), parts.b?.stop()]);
    await parts.redis?.remove();
  });
  return parts;
}

/** Reads a stream's events in the background until told to stop. */
function collect(reader: EventReader) {
  const events: SseEvent[] = [];
  let ended = false;
  const done = (async () => {
    for (;;) {
      const event = await reader.next(60_000).catch(() => undefined);
      if (!event) break;
      events.push(event);
    }
    ended = true;
  })();
  return { events, ended: () => ended, done };
}

describe('a Redis crash and restart during writes, with persistence', { timeout: 120_000 }, () => {
  const parts = deployment(true);

  test('every acknowledged write survives, the others get 503, and streams recover', async (t) => {
    const { redis, a, b } = parts;
    const session = await newSession(a.url, {});
    const stream = await fetch(`${a.url}/sessions/${session.key}/events`);
    const streamed = collect(new EventReader(stream.body));

    const outcomes: Outcome[] = [];
    let writing = true;
    const writers = Array.from({ length: WRITERS }, async (_, writer) => {
      for (let n = 0; writing; n++) {
        const field = `w${writer}-${n}`;
        const target = n % 2 === 0 ? a : b;
        const response = await patch(target.url, session, { [field]: true }).catch(() => null);
        // Status 0 stands for "no HTTP answer at all", which the server must never cause.
        const body = response ? ((await response.json()) as { code?: string }) : {};
        const retryAfter = response?.headers.get('Retry-After') ?? null;
        outcomes.push({
          field,
          via: target === a ? 'a' : 'b',
          status: response?.status ?? 0,
          retryAfter,
          code: body.code,
        });
        if (response?.status !== 200) await sleep(20);
      }
    });

    try {
      await sleep(600);
      await redis.crash();
      await sleep(OUTAGE_MS);
      await redis.restart();
      const restartedAt = outcomes.length;
      const acceptedSince = (via: string) =>
        outcomes.slice(restartedAt).filter((o) => o.via === via && o.status === 200).length;
      await eventually(() => acceptedSince('a') >= 10 && acceptedSince('b') >= 10, 20_000);
    } finally {
      writing = false;
      await Promise.all(writers);
    }

    const accepted = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status !== 200);
    t.diagnostic(`${accepted.length} writes acknowledged, ${refused.length} refused`);
    assert.ok(refused.length > 0, 'no write was refused, so the outage was not exercised');
    for (const outcome of refused) {
      assert.equal(outcome.status, 503, `a write answered ${outcome.status}`);
      assert.equal(outcome.code, 'unavailable');
      assert.ok(Number(outcome.retryAfter) >= 1, 'a 503 without Retry-After');
    }

    const views = await Promise.all(
      [a, b].map(async (instance) => {
        const response = await call(instance.url, 'GET', `/sessions/${session.key}`);
        assert.equal(response.status, 200);
        return (await response.json()) as {
          version: number;
          state: Record<string, Json>;
          peers: Json;
        };
      }),
    );
    assert.deepEqual(views[0], { ...views[1], peers: views[0]!.peers });
    const state = views[0]!.state;
    const lost = accepted.filter((o) => state[o.field] !== true).map((o) => o.field);
    assert.deepEqual(lost, [], 'acknowledged writes missing after the restart');
    // A refused write may still have been applied when the connection died after Redis ran it.
    assert.ok(views[0]!.version >= accepted.length);
    assert.ok(views[0]!.version <= accepted.length + refused.length);

    assert.ok(a.alive() && b.alive(), 'a server process died');
    assert.equal((await call(a.url, 'GET', '/healthz')).status, 200);

    // The stream on A carries every version once, in order, and ends at the stored state.
    await eventually(() => lastVersion(streamed.events) >= views[0]!.version, 20_000);
    assert.equal(streamed.ended(), false, 'the stream ended');
    assert.deepEqual(replay(streamed.events), { version: views[0]!.version, state });
    const kinds = streamed.events.map((event) => event.event);
    t.diagnostic(
      `the stream saw ${kinds.filter((kind) => kind === 'change').length} changes, then: ${[...new Set(kinds)].join(', ')}`,
    );
    await stream.body?.cancel().catch(() => {});
  });
});

describe('a Redis restart that loses its data', { timeout: 120_000 }, () => {
  const parts = deployment(false);

  test('sessions are gone: reads answer 404, streams end, and the servers keep serving', async () => {
    const { redis, a, b } = parts;
    const session = await newSession(a.url, { kept: false });
    const stream = await fetch(`${b.url}/sessions/${session.key}/events`);
    const streamed = collect(new EventReader(stream.body));
    await eventually(() => streamed.events.length > 0);

    await redis.crash();
    const during = await call(a.url, 'GET', `/sessions/${session.key}`);
    assert.equal(during.status, 503);
    await redis.restart();

    await eventually(async () => {
      const response = await call(a.url, 'GET', `/sessions/${session.key}`);
      return response.status === 404;
    }, 20_000);
    await eventually(() => streamed.ended(), 20_000);
    assert.equal((await newSession(b.url, { fresh: true })).version, 0);
    assert.ok(a.alive() && b.alive(), 'a server process died');
  });
});

function lastVersion(events: SseEvent[]): number {
  const last = events.filter((e) => e.event === 'change' || e.event === 'snapshot').at(-1);
  return last ? (last.data.version as number) : -1;
}

/**
 * Applies a stream's events as a client would, failing on any gap or repeat: each change must
 * be exactly one version past the last; a snapshot starts over.
 */
function replay(events: SseEvent[]): { version: number; state: Json } {
  let version = -1;
  let state: Json = null;
  for (const event of events) {
    if (event.event === 'snapshot') {
      ({ version, state } = event.data as { version: number; state: Json });
    } else if (event.event === 'change') {
      assert.equal(event.data.version, version + 1, `a gap or repeat at ${event.data.version}`);
      version = event.data.version;
      state = event.data.replace ? event.data.patch : applyMergePatch(state, event.data.patch);
    }
  }
  return { version, state };
}
