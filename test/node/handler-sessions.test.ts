import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROBLEM_TYPE, PROBLEM_TYPE_PREFIX } from '../../src/protocol.js';
import { createSyncHandler } from '../../src/server/index.js';
import { call, newSession, patch, testHandler, writer } from './server-helpers.js';

describe('session routes, in process', () => {
  test('POST /sessions creates a session with a key, a write token and version 0', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'POST', '/sessions', { body: { state: { a: 1 } } });

    assert.equal(response.status, 201);
    const body = await response.json();
    assert.match(body.key, /^[A-Za-z0-9_-]{22,}$/);
    assert.match(body.writeToken, /^[A-Za-z0-9_-]{22,}$/);
    assert.notEqual(body.key, body.writeToken);
    assert.equal(body.version, 0);
    assert.deepEqual(body.state, { a: 1 });
    assert.ok(!Number.isNaN(Date.parse(body.updatedAt)));
    assert.equal(response.headers.get('Location'), `/sessions/${body.key}`);
    assert.equal(response.headers.get('ETag'), '"0"');
  });

  test('POST /sessions without a body starts from an empty object', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'POST', '/sessions');

    assert.equal(response.status, 201);
    assert.deepEqual((await response.json()).state, {});
  });

  test('GET answers the state, version, peers and an ETag', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, { board: [1, 2] });
    const response = await call(handler, 'GET', `/sessions/${session.key}`);

    assert.equal(response.status, 200);
    assert.equal(response.headers.get('ETag'), '"0"');
    const body = await response.json();
    assert.deepEqual(body, {
      key: session.key,
      version: 0,
      state: { board: [1, 2] },
      updatedAt: session.updatedAt,
      peers: [],
    });
  });

  test('GET with If-None-Match of the current version answers 304', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'GET', `/sessions/${session.key}`, {
      headers: { 'If-None-Match': '"0"' },
    });

    assert.equal(response.status, 304);
    assert.equal(response.headers.get('ETag'), '"0"');
  });

  test('PATCH merges into the state and raises the version by one', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, { a: 1, b: 2 });
    const response = await patch(handler, session, { b: null, c: 3 });

    assert.equal(response.status, 200);
    assert.equal(response.headers.get('ETag'), '"1"');
    assert.equal((await response.json()).version, 1);
    const read = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.deepEqual(read.state, { a: 1, c: 3 });
  });

  test('PATCH with a stale If-Match answers 412 with the current version and changes nothing', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, { a: 1 });
    await patch(handler, session, { a: 2 });
    const response = await patch(handler, session, { a: 3 }, { 'If-Match': '"0"' });

    assert.equal(response.status, 412);
    const problem = await response.json();
    assert.equal(problem.code, 'version-conflict');
    assert.equal(problem.version, 1);
    const read = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.deepEqual(read.state, { a: 2 });
  });

  test('PATCH without a token answers 401 and with a wrong token 403', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const path = `/sessions/${session.key}`;
    const type = { 'Content-Type': 'application/merge-patch+json' };

    const missing = await call(handler, 'PATCH', path, { headers: type, body: { a: 1 } });
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).code, 'unauthorized');
    const other = await newSession(handler);
    const wrong = await patch(handler, { ...session, writeToken: other.writeToken }, { a: 1 });
    assert.equal(wrong.status, 403);
    assert.equal((await wrong.json()).code, 'forbidden');
  });

  test('PATCH with another media type answers 415 with Accept-Patch', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'PATCH', `/sessions/${session.key}`, {
      headers: writer(session, { 'Content-Type': 'application/json' }),
      body: { a: 1 },
    });

    assert.equal(response.status, 415);
    assert.equal(response.headers.get('Accept-Patch'), 'application/merge-patch+json');
  });

  test('PUT replaces the whole state', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, { a: 1 });
    const response = await call(handler, 'PUT', `/sessions/${session.key}`, {
      headers: writer(session, { 'If-Match': '"0"' }),
      body: { b: 2 },
    });

    assert.equal(response.status, 200);
    assert.equal((await response.json()).version, 1);
    const read = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.deepEqual(read.state, { b: 2 });
  });

  test('PUT with a token on an unknown key re-creates the session with that key and token', async (t) => {
    const handler = testHandler(t);
    const lost = await newSession(handler, { a: 1 });
    await call(handler, 'DELETE', `/sessions/${lost.key}`, { headers: writer(lost) });

    const response = await call(handler, 'PUT', `/sessions/${lost.key}`, {
      headers: writer(lost),
      body: { restored: true },
    });
    assert.equal(response.status, 201);
    const body = await response.json();
    assert.equal(body.key, lost.key);
    assert.equal(body.writeToken, lost.writeToken);
    assert.deepEqual(body.state, { restored: true });
    assert.equal((await patch(handler, lost, { more: 1 })).status, 200);
  });

  test('PUT or PATCH on an unknown key without a token answers 404', async (t) => {
    const handler = testHandler(t);
    const key = 'A'.repeat(24);
    const put = await call(handler, 'PUT', `/sessions/${key}`, { body: { a: 1 } });
    const merge = await call(handler, 'PATCH', `/sessions/${key}`, {
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { a: 1 },
    });

    assert.equal(put.status, 404);
    assert.equal(merge.status, 404);
  });

  test('unknown and malformed keys answer the same 404 problem', async (t) => {
    const handler = testHandler(t);
    const unknown = await call(handler, 'GET', `/sessions/${'B'.repeat(24)}`);
    const malformed = await call(handler, 'GET', '/sessions/short');

    assert.equal(unknown.status, 404);
    assert.equal(malformed.status, 404);
    assert.equal(unknown.headers.get('Content-Type'), PROBLEM_TYPE);
    assert.deepEqual(await unknown.json(), await malformed.json());
  });

  test('DELETE with the token answers 204 and the session is gone', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'DELETE', `/sessions/${session.key}`, {
      headers: writer(session),
    });

    assert.equal(response.status, 204);
    assert.equal((await call(handler, 'GET', `/sessions/${session.key}`)).status, 404);
  });

  test('a wrong method on a known route answers 405 with Allow', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'DELETE', '/sessions');

    assert.equal(response.status, 405);
    assert.equal(response.headers.get('Allow'), 'POST, OPTIONS');
    const problem = await response.json();
    assert.equal(problem.type, `${PROBLEM_TYPE_PREFIX}method-not-allowed`);
  });

  test('HEAD on a session answers its ETag without a body', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'HEAD', `/sessions/${session.key}`);

    assert.equal(response.status, 200);
    assert.equal(response.headers.get('ETag'), '"0"');
    assert.equal(await response.text(), '');
  });

  test('an option that cannot work is refused when the handler is created', () => {
    assert.throws(() => createSyncHandler({ sessionTtlMs: -1 }), /sessionTtlMs/);
    assert.throws(() => createSyncHandler({ maxDepth: Number.NaN }), /maxDepth/);
    assert.throws(() => createSyncHandler({ allowOrigin: 5 as unknown as string }), /allowOrigin/);
  });

  test('GET /healthz answers 200', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'GET', '/healthz');

    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  test('N writers retrying on 412 with If-Match end at exactly N x M increments', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, { count: 0 });
    const [writers, increments] = [8, 12];

    async function increment(): Promise<number> {
      for (let attempts = 1; ; attempts++) {
        const read = await call(handler, 'GET', `/sessions/${session.key}`);
        const { state } = await read.json();
        const ifMatch = read.headers.get('ETag')!;
        const response = await patch(
          handler,
          session,
          { count: state.count + 1 },
          { 'If-Match': ifMatch },
        );
        if (response.status === 200) return attempts;
        assert.equal(response.status, 412);
      }
    }
    const attempts = await Promise.all(
      Array.from({ length: writers }, async () => {
        let total = 0;
        for (let i = 0; i < increments; i++) total += await increment();
        return total;
      }),
    );

    const view = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.equal(view.state.count, writers * increments);
    assert.equal(view.version, writers * increments);
    assert.ok(attempts.reduce((a, b) => a + b) > writers * increments, 'some writes conflicted');
  });

  test('Sync-Client is echoed as the change author', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    await patch(handler, session, { a: 1 }, { 'Sync-Client': 'tab-1' });
    const response = await call(handler, 'GET', `/sessions/${session.key}/changes?since=0`);

    const body = await response.json();
    assert.deepEqual(body.changes, [{ version: 1, patch: { a: 1 }, by: 'tab-1' }]);
  });
});
