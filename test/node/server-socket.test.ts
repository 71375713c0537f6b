import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { startServer } from '../../src/server/index.js';
import type { ServerOptions } from '../../src/server/index.js';
import { EventReader, call, newSession, openEvents, patch, withTimeout } from './server-helpers.js';

async function listen(t: TestContext, options: Partial<ServerOptions> = {}) {
  const server = await startServer({ port: 0, host: '127.0.0.1', log: false, ...options });
  t.after(() => server.close());
  return server;
}

describe('the server over a real socket', () => {
  test('startServer listens on a free port and answers at its url', async (t) => {
    const server = await listen(t);

    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  test('N writers with If-Match and retry on 412 end at exactly N x M increments', async (t) => {
    const server = await listen(t);
    const session = await newSession(server.url, { count: 0 });
    const writers = 5;
    const increments = 10;

    async function increment(): Promise<void> {
      for (;;) {
        const read = await fetch(`${server.url}/sessions/${session.key}`);
        const etag = read.headers.get('ETag')!;
        const { state } = await read.json();
        const response = await patch(
          server.url,
          session,
          { count: state.count + 1 },
          { 'If-Match': etag },
        );
        await response.arrayBuffer();
        if (response.status === 200) return;
        if (response.status === 429) {
          // The abuse limits may slow a burst of retries down; a real client waits too.
          const seconds = Number(response.headers.get('Retry-After') ?? 1);
          await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
          continue;
        }
        assert.equal(response.status, 412);
      }
    }
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let i = 0; i < increments; i++) await increment();
      }),
    );

    const view = await (await fetch(`${server.url}/sessions/${session.key}`)).json();
    assert.equal(view.state.count, writers * increments);
    assert.equal(view.version, writers * increments);
  });

  test('concurrent writers without If-Match all land, each raising the version by one', async (t) => {
    const server = await listen(t);
    const session = await newSession(server.url, {});
    const writes = Array.from({ length: 40 }, (_, i) =>
      patch(server.url, session, { [`k${i}`]: i }),
    );
    const statuses = await Promise.all(writes.map(async (w) => (await w).status));

    assert.deepEqual(new Set(statuses), new Set([200]));
    const view = await (await fetch(`${server.url}/sessions/${session.key}`)).json();
    assert.equal(view.version, 40);
    assert.equal(Object.keys(view.state).length, 40);
  });

  test('a dropped stream resumed with Last-Event-ID gets exactly the missed changes', async (t) => {
    const server = await listen(t);
    const session = await newSession(server.url, {});
    const url = `${server.url}/sessions/${session.key}/events`;
    const first = await openEvents(url);
    assert.equal((await first.events.next())?.event, 'snapshot');
    await patch(server.url, session, { n: 1 });
    const seen = await first.events.next();
    first.drop();

    await patch(server.url, session, { n: 2 });
    await patch(server.url, session, { n: 3 });
    const second = await openEvents(url, { 'Last-Event-ID': seen!.id! });
    t.after(() => second.drop());
    const missed = [
      await second.events.nextExcept(['presence']),
      await second.events.nextExcept(['presence']),
    ];

    assert.deepEqual(
      missed.map((event) => [event?.event, event?.id, event?.data.patch]),
      [
        ['change', '2', { n: 2 }],
        ['change', '3', { n: 3 }],
      ],
    );
    await patch(server.url, session, { n: 4 });
    assert.equal((await second.events.nextExcept(['presence']))?.id, '4');
  });

  test('a dropped stream resumed with ?since= gets the missed changes, and without it a snapshot', async (t) => {
    const server = await listen(t);
    const session = await newSession(server.url, {});
    const url = `${server.url}/sessions/${session.key}/events`;
    const first = await openEvents(url);
    await first.events.next();
    first.drop();
    await patch(server.url, session, { n: 1 });

    const resumed = await openEvents(`${url}?since=0`);
    t.after(() => resumed.drop());
    const change = await resumed.events.nextExcept(['presence']);
    assert.deepEqual([change?.event, change?.id], ['change', '1']);

    const fresh = await openEvents(url);
    t.after(() => fresh.drop());
    const snapshot = await fresh.events.next();
    assert.deepEqual([snapshot?.event, snapshot?.data.state], ['snapshot', { n: 1 }]);
  });

  test('many streams of one session all receive the same change', async (t) => {
    const server = await listen(t);
    const session = await newSession(server.url, {});
    const url = `${server.url}/sessions/${session.key}/events`;
    const streams = await Promise.all(Array.from({ length: 20 }, () => openEvents(url)));
    t.after(() => streams.forEach((stream) => stream.drop()));
    await Promise.all(streams.map((stream) => stream.events.next()));

    await patch(server.url, session, { hello: 'all' });
    const received = await Promise.all(streams.map((stream) => stream.events.next()));
    assert.ok(received.every((event) => event?.id === '1' && event.data.patch.hello === 'all'));
  });

  test('an event stream over the network carries the CORS headers', async (t) => {
    const server = await listen(t);
    const session = await newSession(server.url);
    const controller = new AbortController();
    t.after(() => controller.abort());
    const response = await fetch(`${server.url}/sessions/${session.key}/events`, {
      headers: { Origin: 'https://page.example' },
      signal: controller.signal,
    });

    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.match(response.headers.get('Content-Type') ?? '', /^text\/event-stream/);
    assert.equal((await new EventReader(response.body).next())?.event, 'snapshot');
  });

  test('a reader that stops reading is cut off, and the other readers go on', async (t) => {
    const server = await listen(t, { streamBufferMaxBytes: 256 * 1024 });
    const session = await newSession(server.url, {});
    const { port } = new URL(server.url);
    const stalled = connect(Number(port), '127.0.0.1');
    t.after(() => stalled.destroy());
    const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    stalled.on('error', () => undefined);
    stalled.write(`GET /sessions/${session.key}/events HTTP/1.1\r\nHost: test\r\n\r\n`);
    await new Promise((resolve) => stalled.once('data', resolve));
    stalled.pause();
    const reading = await openEvents(`${server.url}/sessions/${session.key}/events`);
    t.after(() => reading.drop());
    await reading.events.next();

    const text = 'x'.repeat(100 * 1024);
    let received = 0;
    const writes = 150;
    for (let n = 1; n <= writes; n++) {
      assert.equal((await patch(server.url, session, { text, n })).status, 200);
      received += (await reading.events.next())?.data.patch.n === n ? 1 : 0;
    }
    stalled.resume();
    stalled.on('data', () => undefined);

    await withTimeout(closed, 10_000);
    assert.equal(received, writes);
  });

  test('a long-poll over the network wakes on a write', async (t) => {
    const server = await listen(t);
    const session = await newSession(server.url);
    const waiting = fetch(`${server.url}/sessions/${session.key}/changes?since=0&wait=20`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await patch(server.url, session, { x: 1 });
    const response = await withTimeout(waiting, 5000);

    assert.equal(response.status, 200);
    assert.equal((await response.json()).version, 1);
  });

  test('a chunked body without Content-Length over the limit answers 413 and others are served', async (t) => {
    const server = await listen(t, { maxBodyBytes: 64 * 1024 });
    const victim = await newSession(server.url, { safe: true });
    const bystander = await newSession(server.url, {});
    const stream = await openEvents(`${server.url}/sessions/${bystander.key}/events`);
    t.after(() => stream.drop());
    await stream.events.next();

    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/sessions/${victim.key}`, {
        method: 'PATCH',
        headers: {
          Authorization: `Bearer ${victim.writeToken}`,
          'Content-Type': 'application/merge-patch+json',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = '['.repeat(16 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024 && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });

    assert.equal(status, 413);
    await patch(server.url, bystander, { still: 'live' });
    assert.equal((await stream.events.next())?.data.patch.still, 'live');
    const view = await (await fetch(`${server.url}/sessions/${victim.key}`)).json();
    assert.deepEqual(view.state, { safe: true });
  });

  test('close() ends open event streams and stops the server', async () => {
    const server = await startServer({ port: 0, log: false });
    const session = await newSession(server.url);
    const stream = await openEvents(`${server.url}/sessions/${session.key}/events`);
    await stream.events.next();

    await withTimeout(server.close(), 5000);
    assert.equal(await stream.events.next().catch(() => undefined), undefined);
    await assert.rejects(fetch(`${server.url}/healthz`));
  });

  test('a request log line names the route, never the key or the token', async (t) => {
    const lines: string[] = [];
    const server = await listen(t, { log: (entry) => lines.push(JSON.stringify(entry)) });
    const session = await newSession(server.url, { secret: 'state' });
    await patch(server.url, session, { more: 'secret' });

    const patchLine = lines
      .map((line) => JSON.parse(line))
      .find((entry) => entry.method === 'PATCH');
    assert.equal(patchLine.route, '/sessions/:key');
    assert.equal(patchLine.status, 200);
    assert.equal(patchLine.level, 'info');
    assert.equal(typeof patchLine.ms, 'number');
    for (const line of lines) {
      assert.ok(!line.includes(session.key) && !line.includes(session.writeToken));
      assert.ok(!line.includes('secret'));
    }
  });
});
