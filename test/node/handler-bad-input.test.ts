import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROBLEM_TYPE } from '../../src/protocol.js';
import { BASE, call, newSession, patch, testHandler, writer } from './server-helpers.js';

/** A body sent as a stream, so the request has no Content-Length. */
function streamedRequest(url: string, headers: Record<string, string>, bytes: number): Request {
  const chunk = new TextEncoder().encode('['.repeat(1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
  return new Request(url, { method: 'PATCH', headers, body, duplex: 'half' } as RequestInit);
}

async function problemOf(response: Response) {
  assert.equal(response.headers.get('Content-Type'), PROBLEM_TYPE);
  return response.json();
}

describe('bad input, in process', () => {
  test('malformed JSON answers 400 bad-request and changes nothing', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, { a: 1 });
    const response = await patch(handler, session, '{"a": ');

    assert.equal(response.status, 400);
    assert.equal((await problemOf(response)).code, 'bad-request');
    const view = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.deepEqual([view.version, view.state], [0, { a: 1 }]);
  });

  test('a body over maxBodyBytes answers 413 too-large', async (t) => {
    const handler = testHandler(t, { maxBodyBytes: 1024 });
    const session = await newSession(handler);
    const response = await patch(handler, session, { text: 'x'.repeat(2000) });

    assert.equal(response.status, 413);
    assert.equal((await problemOf(response)).code, 'too-large');
  });

  test('a streamed body without Content-Length is cut at maxBodyBytes', async (t) => {
    const handler = testHandler(t, { maxBodyBytes: 4096 });
    const session = await newSession(handler);
    const headers = writer(session, { 'Content-Type': 'application/merge-patch+json' });
    const response = await handler(
      streamedRequest(`${BASE}/sessions/${session.key}`, headers, 10 * 1024 * 1024),
    );

    assert.equal(response.status, 413);
  });

  test('a body longer than its Content-Length says is still cut at maxBodyBytes', async (t) => {
    const handler = testHandler(t, { maxBodyBytes: 1024 });
    const session = await newSession(handler);
    const headers = writer(session, {
      'Content-Type': 'application/merge-patch+json',
      'Content-Length': '20',
    });
    const body = JSON.stringify({ text: 'x'.repeat(2000) });
    const response = await handler(
      new Request(`${BASE}/sessions/${session.key}`, { method: 'PATCH', headers, body }),
    );

    assert.equal(response.status, 413);
    const view = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.equal(view.version, 0);
  });

  test('a body nested 100,000 levels deep answers 413 without overflowing the stack', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const response = await patch(handler, session, `{"a":${deep}}`);

    assert.equal(response.status, 413);
    assert.match((await problemOf(response)).detail, /nested/);
  });

  test('nesting within maxDepth is accepted, one level more is not', async (t) => {
    const handler = testHandler(t, { maxDepth: 8 });
    const session = await newSession(handler);
    const nested = (levels: number) => '{"a":'.repeat(levels - 1) + '1' + '}'.repeat(levels - 1);

    assert.equal((await patch(handler, session, `{"x":${nested(8)}}`)).status, 200);
    assert.equal((await patch(handler, session, `{"x":${nested(9)}}`)).status, 413);
  });

  test('brackets inside strings do not count as nesting', async (t) => {
    const handler = testHandler(t, { maxDepth: 4 });
    const session = await newSession(handler);
    const response = await patch(handler, session, { text: '[[[[[[[[{{{{{{\\"' });

    assert.equal(response.status, 200);
  });

  test('a write that would make the state too large answers 413 and keeps the state', async (t) => {
    const handler = testHandler(t, { maxStateBytes: 1000 });
    const session = await newSession(handler, { a: 1 });
    await patch(handler, session, { b: 'x'.repeat(600) });
    const response = await patch(handler, session, { c: 'y'.repeat(600) });

    assert.equal(response.status, 413);
    const view = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.equal(view.version, 1);
  });

  test('__proto__, constructor and prototype keys are stored as plain data', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'POST', '/sessions', {
      body: '{"state":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}}',
    });
    const session = await response.json();
    await patch(handler, session, '{"__proto__":{"more":3},"prototype":{"polluted":4}}');
    const view = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();

    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).more, undefined);
    assert.equal(Object.getPrototypeOf(view.state), Object.prototype);
    assert.deepEqual(Object.keys(view.state).sort(), ['__proto__', 'constructor', 'prototype']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(view.state, '__proto__')?.value, {
      polluted: 1,
      more: 3,
    });
  });

  test('a __proto__ key in the POST body does not smuggle a state in', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'POST', '/sessions', {
      body: '{"__proto__":{"state":{"smuggled":true}}}',
    });

    assert.equal(response.status, 201);
    assert.deepEqual((await response.json()).state, {});
  });

  for (const [label, body] of [
    ['an array', '[1]'],
    ['a string', '"state"'],
    ['null', 'null'],
  ] as const) {
    test(`a POST body that is ${label} answers 400`, async (t) => {
      const handler = testHandler(t);
      const response = await call(handler, 'POST', '/sessions', { body });

      assert.equal(response.status, 400);
    });
  }

  test('a POST body sent as a form answers 415', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'POST', '/sessions', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'state=1',
    });

    assert.equal(response.status, 415);
  });

  test('a PUT body sent as text answers 415', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'PUT', `/sessions/${session.key}`, {
      headers: writer(session, { 'Content-Type': 'text/plain' }),
      body: '{}',
    });

    assert.equal(response.status, 415);
  });

  test('a body that is not UTF-8 answers 400', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await handler(
      new Request(`${BASE}/sessions/${session.key}`, {
        method: 'PATCH',
        headers: writer(session, { 'Content-Type': 'application/merge-patch+json' }),
        body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      }),
    );

    assert.equal(response.status, 400);
  });

  test('a malformed If-Match answers 412 and a Basic authorization 401', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);

    assert.equal((await patch(handler, session, {}, { 'If-Match': 'soon' })).status, 412);
    const basic = await call(handler, 'PATCH', `/sessions/${session.key}`, {
      headers: { Authorization: 'Basic dTpw', 'Content-Type': 'application/merge-patch+json' },
      body: {},
    });
    assert.equal(basic.status, 401);
    assert.equal(basic.headers.get('WWW-Authenticate'), 'Bearer realm="session-sync"');
  });

  test('a malformed Sync-Client, client id or wait answers 400', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const badClient = await patch(handler, session, {}, { 'Sync-Client': 'has spaces' });
    const badPeer = await call(
      handler,
      'PUT',
      `/sessions/${session.key}/presence/${'x'.repeat(80)}`,
      {
        body: {},
      },
    );
    const badWait = await call(
      handler,
      'GET',
      `/sessions/${session.key}/changes?since=0&wait=soon`,
    );

    assert.deepEqual([badClient.status, badPeer.status, badWait.status], [400, 400, 400]);
  });

  test('a presence body over its limit answers 413', async (t) => {
    const handler = testHandler(t, { maxPresenceBytes: 100 });
    const session = await newSession(handler);
    const response = await call(handler, 'PUT', `/sessions/${session.key}/presence/me`, {
      body: { name: 'n'.repeat(200) },
    });

    assert.equal(response.status, 413);
  });

  test('an unknown route answers 404 not-found as a problem', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'GET', '/nothing/here');

    assert.equal(response.status, 404);
    assert.equal((await problemOf(response)).code, 'not-found');
  });

  test('a full store answers 507 store-full', async (t) => {
    const handler = testHandler(t, { maxSessions: 1 });
    await newSession(handler);
    const response = await call(handler, 'POST', '/sessions');

    assert.equal(response.status, 507);
    assert.equal((await problemOf(response)).code, 'store-full');
  });

  test('after a battery of bad requests the session still serves good ones', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler, { ok: true });
    await Promise.all([
      patch(handler, session, '{{{'),
      patch(handler, session, '['.repeat(50_000)),
      patch(handler, session, '{"__proto__":{"x":1}}', { 'If-Match': '"99"' }),
      call(handler, 'PUT', `/sessions/${session.key}`, { body: 'nope' }),
      call(handler, 'GET', `/sessions/${session.key}/changes?since=x`),
    ]);

    const good = await patch(handler, session, { still: 'fine' });
    assert.equal(good.status, 200);
    const view = await (await call(handler, 'GET', `/sessions/${session.key}`)).json();
    assert.deepEqual(view.state, { ok: true, still: 'fine' });
  });
});
