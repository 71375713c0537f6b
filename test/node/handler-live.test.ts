import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EventReader,
  call,
  eventually,
  newSession,
  patch,
  testHandler,
  withTimeout,
  writer,
} from './server-helpers.js';

describe('changes, events and presence, in process', () => {
  test('GET /changes answers the changes after a version, in order', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, {});
    await patch(handler, session, { a: 1 });
    await patch(handler, session, { b: 2 });
    const response = await call(handler, 'GET', `/sessions/${session.key}/changes?since=1`);

    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      version: 2,
      changes: [{ version: 2, patch: { b: 2 }, by: null }],
    });
  });

  test('GET /changes answers a reset with the state when the history no longer reaches back', async (t) => {
    const handler = testHandler(t, { historyLimit: 2 });
    const session = await newSession(handler, {});
    for (let i = 1; i <= 4; i++) await patch(handler, session, { n: i });
    const response = await call(handler, 'GET', `/sessions/${session.key}/changes?since=1`);

    assert.deepEqual(await response.json(), { version: 4, state: { n: 4 }, reset: true });
  });

  test('GET /changes without a valid since answers 400', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'GET', `/sessions/${session.key}/changes?since=-1`);

    assert.equal(response.status, 400);
  });

  test('a long-poll is answered as soon as a write lands', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const waiting = call(handler, 'GET', `/sessions/${session.key}/changes?since=0&wait=20`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await patch(handler, session, { moved: true });
    const response = await withTimeout(waiting, 5000);

    assert.equal(response.status, 200);
    const body = await response.json();
    assert.deepEqual(body.changes, [{ version: 1, patch: { moved: true }, by: null }]);
  });

  test('a long-poll that sees nothing answers 304 after the wait', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(
      handler,
      'GET',
      `/sessions/${session.key}/changes?since=0&wait=0.2`,
    );

    assert.equal(response.status, 304);
    assert.equal(response.headers.get('ETag'), '"0"');
  });

  test('a long-poll is held no longer than longPollMaxMs whatever it asks for', async (t) => {
    const handler = testHandler(t, { longPollMaxMs: 100 });
    const session = await newSession(handler);
    const response = await withTimeout(
      call(handler, 'GET', `/sessions/${session.key}/changes?since=0&wait=600`),
      5000,
    );

    assert.equal(response.status, 304);
  });

  test('closing the handler answers held long-polls at once with 503', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const held = Array.from({ length: 20 }, () =>
      call(handler, 'GET', `/sessions/${session.key}/changes?since=0&wait=20`),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await handler.close();
    const responses = await withTimeout(Promise.all(held), 5000);

    assert.deepEqual(new Set(responses.map((response) => response.status)), new Set([503]));
    assert.equal(responses[0]!.headers.get('Retry-After'), '1');
  });

  test('an event stream starts with a snapshot and then carries each change', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, { a: 1 });
    const response = await call(handler, 'GET', `/sessions/${session.key}/events`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('Content-Type') ?? '', /^text\/event-stream/);
    const events = new EventReader(response.body);
    t.after(() => events.cancel());

    assert.deepEqual(await events.next(), {
      event: 'snapshot',
      id: '0',
      data: { version: 0, state: { a: 1 }, peers: [] },
    });
    await patch(handler, session, { b: 2 }, { 'Sync-Client': 'me' });
    await call(handler, 'PUT', `/sessions/${session.key}`, { headers: writer(session), body: [1] });
    assert.deepEqual(await events.next(), {
      event: 'change',
      id: '1',
      data: { version: 1, patch: { b: 2 }, by: 'me' },
    });
    assert.deepEqual(await events.next(), {
      event: 'change',
      id: '2',
      data: { version: 2, patch: [1], by: null, replace: true },
    });
  });

  test('a stream resumed with Last-Event-ID gets exactly the missed changes', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    await patch(handler, session, { n: 1 });
    await patch(handler, session, { n: 2 });
    await patch(handler, session, { n: 3 });
    const response = await call(handler, 'GET', `/sessions/${session.key}/events`, {
      headers: { 'Last-Event-ID': '1' },
    });
    const events = new EventReader(response.body);
    t.after(() => events.cancel());

    assert.deepEqual((await events.nextExcept(['presence']))?.id, '2');
    assert.deepEqual((await events.nextExcept(['presence']))?.id, '3');
    await patch(handler, session, { n: 4 });
    const next = await events.nextExcept(['presence']);
    assert.deepEqual([next?.event, next?.id], ['change', '4']);
  });

  test('Last-Event-ID wins over ?since=, as when a browser reconnects to the same URL', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    for (let n = 1; n <= 3; n++) await patch(handler, session, { n });
    const response = await call(handler, 'GET', `/sessions/${session.key}/events?since=0`, {
      headers: { 'Last-Event-ID': '2' },
    });
    const events = new EventReader(response.body);
    t.after(() => events.cancel());

    assert.equal((await events.nextExcept(['presence']))?.id, '3');
  });

  test('a stream resumed with ?since= beyond the history gets a snapshot', async (t) => {
    const handler = testHandler(t, { historyLimit: 1 });
    const session = await newSession(handler);
    for (let i = 1; i <= 3; i++) await patch(handler, session, { n: i });
    const response = await call(handler, 'GET', `/sessions/${session.key}/events?since=0`);
    const events = new EventReader(response.body);
    t.after(() => events.cancel());

    const first = await events.next();
    assert.equal(first?.event, 'snapshot');
    assert.deepEqual(first?.data.state, { n: 3 });
    assert.equal(first?.id, '3');
  });

  test('DELETE ends the open streams of the session', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'GET', `/sessions/${session.key}/events`);
    const events = new EventReader(response.body);
    await events.next();
    await call(handler, 'DELETE', `/sessions/${session.key}`, { headers: writer(session) });

    assert.equal(await events.next(), undefined);
  });

  test('events on an unknown session answer 404', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'GET', `/sessions/${'C'.repeat(24)}/events`);

    assert.equal(response.status, 404);
  });

  test('with eventStreams off, /events answers 501 streams-unsupported at once', async (t) => {
    const handler = testHandler(t, { eventStreams: false });
    const session = await newSession(handler);
    const response = await call(handler, 'GET', `/sessions/${session.key}/events`);

    assert.equal(response.status, 501);
    assert.equal((await response.json()).code, 'streams-unsupported');
  });

  test('presence shows in GET and as presence events, and DELETE removes it', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'GET', `/sessions/${session.key}/events`);
    const events = new EventReader(response.body);
    t.after(() => events.cancel());
    await events.next();

    const put = await call(handler, 'PUT', `/sessions/${session.key}/presence/ann`, {
      body: { name: 'Ann' },
    });
    assert.equal(put.status, 200);
    const peers = [{ clientId: 'ann', data: { name: 'Ann' } }];
    assert.deepEqual(await put.json(), { peers });
    assert.deepEqual(await events.next(), { event: 'presence', id: undefined, data: { peers } });
    const view = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.deepEqual(view.peers, peers);

    const gone = await call(handler, 'DELETE', `/sessions/${session.key}/presence/ann`);
    assert.equal(gone.status, 204);
    assert.deepEqual((await events.next())?.data, { peers: [] });
  });

  test('a peer that stops refreshing disappears after the presence TTL, and streams are told', async (t) => {
    const handler = testHandler(t, { presenceTtlMs: 100, sweepIntervalMs: 25 });
    const session = await newSession(handler);
    const response = await call(handler, 'GET', `/sessions/${session.key}/events`);
    const events = new EventReader(response.body);
    t.after(() => events.cancel());
    await events.next();
    await call(handler, 'PUT', `/sessions/${session.key}/presence/bob`, { body: { name: 'Bob' } });

    assert.equal((await events.next())?.data.peers.length, 1);
    assert.deepEqual(await events.next(), {
      event: 'presence',
      id: undefined,
      data: { peers: [] },
    });
    const view = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.deepEqual(view.peers, []);
  });

  test('a session nobody writes to expires after the session TTL', async (t) => {
    const handler = testHandler(t, { sessionTtlMs: 150, sweepIntervalMs: 25 });
    const session = await newSession(handler);
    assert.equal((await call(handler, 'GET', `/sessions/${session.key}`)).status, 200);

    await eventually(async () => {
      return (await call(handler, 'GET', `/sessions/${session.key}`)).status === 404;
    });
  });
});
