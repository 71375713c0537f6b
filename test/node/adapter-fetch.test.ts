/**
 * The fetch export served by Deno, Bun and Cloudflare-style runtimes, called with `Request`
 * objects the way those runtimes call it.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import fetchEntry, { createFetchEntry } from '../../src/server/adapters/fetch.js';

const BASE = 'https://sync.example.dev';

async function createSession(
  entry: { fetch(request: Request, bindings?: unknown): Promise<Response> },
  prefix = '',
  bindings?: unknown,
) {
  const response = await entry.fetch(
    new Request(`${BASE}${prefix}/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ state: { cursor: 0 } }),
    }),
    bindings,
  );
  assert.equal(response.status, 201, await response.clone().text());
  return { response, created: await response.json() };
}

describe('fetch export', () => {
  const entry = createFetchEntry({ log: false, env: {} });
  after(() => entry.close());

  test('creates, writes and reads a session through fetch(request)', async () => {
    const { created } = await createSession(entry);

    const write = await entry.fetch(
      new Request(`${BASE}/sessions/${created.key}`, {
        method: 'PATCH',
        headers: {
          'Content-Type': 'application/merge-patch+json',
          Authorization: `Bearer ${created.writeToken}`,
          'If-Match': `"${created.version}"`,
        },
        body: '{"cursor":4}',
      }),
    );
    assert.equal(write.status, 200, await write.clone().text());

    const read = await entry.fetch(new Request(`${BASE}/sessions/${created.key}`));
    assert.deepEqual((await read.json()).state, { cursor: 4 });
  });

  test('answers a stale write with 412 problem+json', async () => {
    const { created } = await createSession(entry);
    const put = () =>
      entry.fetch(
        new Request(`${BASE}/sessions/${created.key}`, {
          method: 'PUT',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${created.writeToken}`,
            'If-Match': `"${created.version}"`,
          },
          body: '{"cursor":1}',
        }),
      );
    assert.equal((await put()).status, 200);

    const stale = await put();
    assert.equal(stale.status, 412);
    assert.equal(stale.headers.get('Content-Type'), 'application/problem+json');
  });

  test('streams events, since these runtimes keep responses open', async () => {
    const { created } = await createSession(entry);
    const controller = new AbortController();

    const response = await entry.fetch(
      new Request(`${BASE}/sessions/${created.key}/events`, { signal: controller.signal }),
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get('Content-Type') ?? '', /^text\/event-stream/);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /event: snapshot/);
    await reader.cancel();
    controller.abort();
  });
});

describe('fetch export configured by settings passed with requests', () => {
  const entry = createFetchEntry({ log: false });
  after(() => entry.close());
  const bindings = {
    ALLOW_ORIGIN: 'https://slides.example.com',
    BASE_PATH: '/sync',
    EVENT_STREAMS: 'false',
    SESSIONS: { get() {} },
  };

  test('reads settings from the bindings passed with the first request', async () => {
    const { response, created } = await createSession(entry, '/sync', bindings);
    assert.equal(response.headers.get('Location'), `/sync/sessions/${created.key}`);

    const read = await entry.fetch(
      new Request(`${BASE}/sync/sessions/${created.key}`, {
        headers: { Origin: 'https://slides.example.com' },
      }),
      bindings,
    );
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('Access-Control-Allow-Origin'), 'https://slides.example.com');

    const events = await entry.fetch(
      new Request(`${BASE}/sync/sessions/${created.key}/events`),
      bindings,
    );
    assert.equal(events.status, 501);
  });
});

describe('fetch export and client addresses', () => {
  const entry = createFetchEntry({
    log: false,
    env: {},
    sessionBurstPerAddress: 1,
    sessionsPerMinutePerAddress: 1,
  });
  after(() => entry.close());

  const create = (bindings: unknown) =>
    entry.fetch(new Request(`${BASE}/sessions`, { method: 'POST' }), bindings);

  test('limits per address as Deno reports it with each request', async () => {
    const deno = (hostname: string) => ({
      remoteAddr: { transport: 'tcp', hostname, port: 50123 },
    });

    assert.equal((await create(deno('192.0.2.1'))).status, 201);
    assert.equal((await create(deno('192.0.2.1'))).status, 429);
    assert.equal((await create(deno('192.0.2.2'))).status, 201);
  });

  test('limits per address as Bun reports it through its server', async () => {
    class BunServer {
      constructor(readonly address: string) {}
      requestIP() {
        return { address: this.address, family: 'IPv4', port: 50124 };
      }
    }

    assert.equal((await create(new BunServer('192.0.2.3'))).status, 201);
    assert.equal((await create(new BunServer('192.0.2.3'))).status, 429);
  });
});

describe('default fetch export', () => {
  after(() => fetchEntry.close());

  test('takes its settings from the process environment on the first request', async () => {
    process.env.ALLOW_ORIGIN = 'https://deck.example.com';

    const response = await fetchEntry.fetch(
      new Request(`${BASE}/healthz`, { headers: { Origin: 'https://deck.example.com' } }),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), 'https://deck.example.com');
  });
});
