/**
 * A history checker: many clients write to one session at once while observers follow it
 * over event streams and long-polls that are dropped at random. Everything acknowledged and
 * everything observed is recorded, then checked:
 *
 * - every accepted write got a version of its own, and the versions run 1..N without a hole;
 * - every observer saw each version once, in order, and all agree on what each version was;
 * - every acknowledged write is the change recorded at its version, so replaying the changes
 *   gives the final state, which every client ends on.
 *
 * `SYNC_LONG_TESTS=1` runs the long variant (more clients, writes and drops).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { SyncClient } from '../../src/client/sync-client.js';
import { applyMergePatch } from '../../src/merge-patch.js';
import { MERGE_PATCH_TYPE, versionTag } from '../../src/protocol.js';
import type {
  Change,
  ChangesResponse,
  Json,
  Problem,
  ResetResponse,
  SessionCreated,
} from '../../src/protocol.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { openEventStream } from './support/sse.js';

const LONG = process.env.SYNC_LONG_TESTS === '1';
const SIZE = LONG
  ? {
      writers: 12,
      writesEach: 60,
      streamObservers: 12,
      pollObservers: 3,
      clients: 4,
      clientWrites: 30,
    }
  : {
      writers: 6,
      writesEach: 30,
      streamObservers: 6,
      pollObservers: 2,
      clients: 2,
      clientWrites: 15,
    };
const SEED = Number(process.env.SYNC_HISTORY_SEED ?? Date.now() % 1_000_000);

/** Every limit off: all these clients share 127.0.0.1, and this test is about ordering. */
const LIMITS_OFF = {
  writesPerSecondPerAddress: 0,
  writesPerSecondPerSession: 0,
  sessionsPerMinutePerAddress: 0,
  presencePerSecondPerAddress: 0,
  presencePerSecondPerSession: 0,
  maxStreamsPerAddress: 0,
  maxStreamsPerSession: 0,
};

/** A small seeded generator (mulberry32), so a failing run can be repeated with its seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the test saw, from every side. */
class History {
  /** Acknowledged writes of the plain HTTP writers: version -> what was sent. */
  readonly acks = new Map<number, { patch: Json; by: string }>();
  readonly reusedVersions: number[] = [];
  /** Changes as observers saw them: version -> the change's JSON. */
  readonly changes = new Map<number, string>();
  readonly violations: string[] = [];

  ack(version: number, patch: Json, by: string): void {
    if (this.acks.has(version)) this.reusedVersions.push(version);
    this.acks.set(version, { patch, by });
  }

  observe(change: Change, observer: string): void {
    const seen = JSON.stringify(change);
    const earlier = this.changes.get(change.version);
    if (earlier === undefined) this.changes.set(change.version, seen);
    else if (earlier !== seen) {
      this.violations.push(`${observer}: version ${change.version} was ${earlier}, now ${seen}`);
    }
  }
}

/** What one observer holds: the state at a version, built only from what it received. */
class Replica {
  version = -1;
  state: Json = null;

  constructor(
    readonly name: string,
    private readonly history: History,
  ) {}

  snapshot(version: number, state: Json): void {
    if (version < this.version) {
      this.history.violations.push(`${this.name}: snapshot of ${version} after ${this.version}`);
    }
    this.version = version;
    this.state = state;
  }

  apply(change: Change): void {
    this.history.observe(change, this.name);
    if (change.version !== this.version + 1) {
      this.history.violations.push(`${this.name}: got ${change.version} after ${this.version}`);
      return;
    }
    this.state = change.replace ? change.patch : applyMergePatch(this.state, change.patch);
    this.version = change.version;
  }
}

let server: RunningServer;
let session: SessionCreated;

function sessionUrl(path = ''): string {
  return `${server.url}/sessions/${session.key}${path}`;
}

/**
 * A plain HTTP writer. Its writes set a key of their own and the shared key `last`; every
 * fifth removes the writer's previous key. Every other write is conditional (`If-Match`) and
 * retried on 412 from the version the problem reports.
 */
async function runWriter(id: string, history: History, random: () => number): Promise<void> {
  let knownVersion = 0;
  for (let n = 1; n <= SIZE.writesEach; n++) {
    const patch: Record<string, Json> = { [`${id}-${n}`]: n, last: `${id}-${n}` };
    if (n % 5 === 0) patch[`${id}-${n - 1}`] = null;
    const conditional = n % 2 === 0;

    for (;;) {
      const headers: Record<string, string> = {
        'Content-Type': MERGE_PATCH_TYPE,
        Authorization: `Bearer ${session.writeToken}`,
        'Sync-Client': id,
      };
      if (conditional) headers['If-Match'] = versionTag(knownVersion);
      const response = await fetch(sessionUrl(), {
        method: 'PATCH',
        headers,
        body: JSON.stringify(patch),
      });
      if (response.status === 412) {
        knownVersion = ((await response.json()) as Problem).version ?? knownVersion;
        continue;
      }
      const body = await response.text();
      assert.equal(response.status, 200, `${id} write ${n}: ${body}`);
      const { version } = JSON.parse(body) as { version: number };
      history.ack(version, patch, id);
      knownVersion = version;
      break;
    }
    if (random() < 0.3) await sleep(random() * 10);
  }
}

/** Follows the event stream, dropping it at random and resuming in one of three ways. */
async function runStreamObserver(replica: Replica, done: () => boolean, random: () => number) {
  let drops = 0;
  while (!done()) {
    const drop = new AbortController();
    const resume = random();
    const fromScratch = replica.version < 0 || resume < 0.15;
    const url =
      fromScratch || resume < 0.5
        ? sessionUrl('/events')
        : sessionUrl(`/events?since=${replica.version}`);
    const lastEventId = !fromScratch && resume < 0.5 ? String(replica.version) : undefined;

    const stream = await openEventStream(
      url,
      (event) => {
        if (drop.signal.aborted) return;
        if (event.event === 'snapshot') {
          const data = JSON.parse(event.data) as { version: number; state: Json };
          replica.snapshot(data.version, data.state);
        } else if (event.event === 'change') {
          replica.apply(JSON.parse(event.data) as Change);
        }
      },
      { signal: drop.signal, lastEventId },
    );
    assert.equal(stream.status, 200);
    const openFor = done() ? 2_000 : 20 + random() * 250;
    await Promise.race([stream.ended, sleep(openFor)]);
    drop.abort();
    await stream.ended;
    drops++;
  }
  return drops;
}

/** Follows `/changes?since=&wait=`, abandoning held requests at random. */
async function runPollObserver(replica: Replica, done: () => boolean, random: () => number) {
  let drops = 0;
  while (!done()) {
    const drop = new AbortController();
    const timer = setTimeout(() => drop.abort(), 10 + random() * 200);
    try {
      const response = await fetch(
        sessionUrl(`/changes?since=${Math.max(0, replica.version)}&wait=1`),
        {
          signal: drop.signal,
        },
      );
      if (response.status === 200) {
        const body = (await response.json()) as ChangesResponse | ResetResponse;
        if ('reset' in body) replica.snapshot(body.version, body.state);
        else if (replica.version < 0) replica.snapshot(0, {});
        if (!('reset' in body)) for (const change of body.changes) replica.apply(change);
      }
    } catch {
      drops++;
    } finally {
      clearTimeout(timer);
    }
  }
  return drops;
}

async function readSession(): Promise<{ version: number; state: Json }> {
  return (await (await fetch(sessionUrl())).json()) as { version: number; state: Json };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(25);
  return condition();
}

describe('history checker', () => {
  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', log: false, ...LIMITS_OFF });
    const response = await fetch(`${server.url}/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"state":{}}',
    });
    session = (await response.json()) as SessionCreated;
  });

  after(async () => {
    await server.close();
  });

  test('concurrent writers and dropped observers agree on one history with nothing lost', async (t) => {
    const random = seededRandom(SEED);
    t.diagnostic(`seed ${SEED} (repeat with SYNC_HISTORY_SEED=${SEED})`);
    const history = new History();
    let writing = true;
    const done = () => !writing;

    const streamReplicas = Array.from(
      { length: SIZE.streamObservers },
      (_, i) => new Replica(`stream-${i}`, history),
    );
    const pollReplicas = Array.from(
      { length: SIZE.pollObservers },
      (_, i) => new Replica(`poll-${i}`, history),
    );
    const observers = [
      ...streamReplicas.map((replica) =>
        runStreamObserver(replica, done, seededRandom(random() * 2 ** 32)),
      ),
      ...pollReplicas.map((replica) =>
        runPollObserver(replica, done, seededRandom(random() * 2 ** 32)),
      ),
    ];

    // SyncClients write through their queue (coalescing, retrying on 412) and follow the
    // session by long-poll, as they do in Node; their connections are dropped at random too.
    const clients = Array.from(
      { length: SIZE.clients },
      () =>
        new SyncClient({
          endpoint: server.url,
          retryBaseDelayMs: 50,
          retryMaxDelayMs: 500,
          longPollWaitSeconds: 1,
        }),
    );
    await Promise.all(clients.map((client) => client.join(session.key, session.writeToken)));
    const clientAcks: Array<{ client: SyncClient; key: string; version: number }> = [];
    const clientWork = clients.map(async (client, c) => {
      const clientRandom = seededRandom(random() * 2 ** 32);
      const pending: Array<Promise<void>> = [];
      for (let n = 1; n <= SIZE.clientWrites; n++) {
        const key = `client${c}-${n}`;
        pending.push(
          client
            .update({ [key]: n })
            .then((version) => void clientAcks.push({ client, key, version })),
        );
        if (clientRandom() < 0.2) client.reconnect();
        await sleep(clientRandom() * 20);
      }
      await Promise.all(pending);
    });

    const writers = Array.from({ length: SIZE.writers }, (_, i) =>
      runWriter(`writer${i}`, history, seededRandom(random() * 2 ** 32)),
    );
    try {
      await Promise.all([...writers, ...clientWork]);
    } finally {
      // Even when a writer failed, so that the observers stop and the test ends.
      writing = false;
    }
    const final = await readSession();
    const writesEndedAt = performance.now();
    const drops = await Promise.all(observers);

    // Observers that were between connections catch up one last time.
    await Promise.all(
      streamReplicas.map((replica) =>
        runStreamObserver(replica, () => replica.version >= final.version, random),
      ),
    );
    await Promise.all(
      pollReplicas.map((replica) =>
        runPollObserver(replica, () => replica.version >= final.version, random),
      ),
    );
    const clientsCaughtUp = await waitFor(
      () => clients.every((client) => client.version === final.version),
      10_000,
    );
    const clientStates = clients.map((client) => client.state);
    t.diagnostic(
      `catching up after the last write took ${Math.round(performance.now() - writesEndedAt)} ms`,
    );
    for (const client of clients) await client.leave();

    const totalDrops = drops.reduce((sum, n) => sum + n, 0);
    t.diagnostic(
      `${history.acks.size} plain writes, ${clientAcks.length} client writes, final version ${final.version}, ` +
        `${totalDrops} observer connections dropped`,
    );

    assert.deepStrictEqual(history.violations, []);
    assert.deepStrictEqual(history.reusedVersions, []);
    assert.equal(history.acks.size, SIZE.writers * SIZE.writesEach);
    assert.equal(clientAcks.length, SIZE.clients * SIZE.clientWrites);

    // Versions run 1..final without a hole, and each was observed.
    const observed = [...history.changes.keys()].sort((a, b) => a - b);
    assert.deepStrictEqual(
      observed,
      Array.from({ length: final.version }, (_, i) => i + 1),
    );

    // Every plain acknowledged write is the change recorded at its version.
    for (const [version, { patch, by }] of history.acks) {
      assert.equal(history.changes.get(version), JSON.stringify({ version, patch, by }));
    }
    // Every client write was accepted at a version that carries a change of that client
    // (several queued writes may share one coalesced change) and its key is in the state.
    for (const { client, key, version } of clientAcks) {
      const change = JSON.parse(history.changes.get(version)!) as Change;
      assert.equal(change.by, client.clientId);
      assert.ok(Object.hasOwn(final.state as object, key), `${key} missing from the final state`);
    }

    // Replaying the observed changes in order gives the final state.
    let replayed: Json = {};
    for (const version of observed) {
      const change = JSON.parse(history.changes.get(version)!) as Change;
      replayed = change.replace ? change.patch : applyMergePatch(replayed, change.patch);
    }
    assert.deepStrictEqual(replayed, final.state);

    // And every client ends on it.
    for (const replica of [...streamReplicas, ...pollReplicas]) {
      assert.deepStrictEqual(
        [replica.name, replica.version, replica.state],
        [replica.name, final.version, final.state],
      );
    }
    assert.ok(
      clientsCaughtUp,
      `SyncClients at ${clients.map((client) => client.version).join(',')} of ${final.version}`,
    );
    for (const state of clientStates) assert.deepStrictEqual(state, final.state);
  });
});
