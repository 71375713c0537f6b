/**
 * The Fn adapter through the real Fn FDK: the function runs in its own process with the
 * `http-stream` format, listening on a unix socket, and receives the calls OCI API Gateway
 * makes for browser requests to the deployment `https://<gateway>/sync`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startFnFunction } from './fixtures/fn-harness.js';
import type { FnInstance, GatewayRequest } from './fixtures/fn-harness.js';

const ORIGIN = 'https://game.example.org';
const JSON_TYPE = 'application/json';

describe('Fn adapter behind OCI API Gateway', () => {
  let fn: FnInstance;

  before(async () => {
    fn = await startFnFunction({ BASE_PATH: '/sync' });
  });

  after(async () => {
    await fn?.stop();
  });

  async function call(request: GatewayRequest) {
    const response = await fn.call(request);
    assert.equal(response.callStatus, 200, `the FDK failed the call:\n${fn.stderr()}`);
    return response;
  }

  async function createSession(state: unknown = { board: [] }) {
    const response = await call({
      method: 'POST',
      url: '/sync/sessions',
      headers: { 'Content-Type': JSON_TYPE, Origin: ORIGIN },
      body: JSON.stringify({ state }),
    });
    assert.equal(response.status, 201, response.body);
    return { response, created: JSON.parse(response.body) };
  }

  test('creates a session and answers with its key, token and a Location behind the prefix', async () => {
    const { response, created } = await createSession({ board: ['x'] });

    assert.match(response.headers.get('Content-Type') ?? '', /^application\/json/);
    assert.equal(response.headers.get('Location'), `/sync/sessions/${created.key}`);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.deepEqual(created.state, { board: ['x'] });
    assert.equal(typeof created.writeToken, 'string');
  });

  test('reads a session with its ETag, and answers 304 to a matching If-None-Match', async () => {
    const { created } = await createSession({ turn: 'o' });

    const read = await call({ method: 'GET', url: `/sync/sessions/${created.key}` });
    assert.equal(read.status, 200);
    const view = JSON.parse(read.body);
    assert.deepEqual(view.state, { turn: 'o' });
    assert.equal(read.headers.get('ETag'), `"${created.version}"`);

    const unchanged = await call({
      method: 'GET',
      url: `/sync/sessions/${created.key}`,
      headers: { 'If-None-Match': `"${created.version}"` },
    });
    assert.equal(unchanged.status, 304);
    assert.equal(unchanged.body, '');
  });

  test('applies a merge patch with the write token and the current version', async () => {
    const { created } = await createSession({ a: 1 });

    const write = await call({
      method: 'PATCH',
      url: `/sync/sessions/${created.key}`,
      headers: {
        'Content-Type': 'application/merge-patch+json',
        Authorization: `Bearer ${created.writeToken}`,
        'If-Match': `"${created.version}"`,
        'Sync-Client': 'player-1',
      },
      body: JSON.stringify({ b: 2 }),
      contentTypeStyle: 'plain-only',
    });
    assert.equal(write.status, 200, write.body);
    assert.equal(JSON.parse(write.body).version, created.version + 1);
    assert.equal(write.headers.get('ETag'), `"${created.version + 1}"`);

    const read = await call({ method: 'GET', url: `/sync/sessions/${created.key}` });
    assert.deepEqual(JSON.parse(read.body).state, { a: 1, b: 2 });
  });

  test('answers 412 with a problem document to a write on a stale version', async () => {
    const { created } = await createSession({ a: 1 });
    const write = (value: number) =>
      call({
        method: 'PUT',
        url: `/sync/sessions/${created.key}`,
        headers: {
          'Content-Type': JSON_TYPE,
          Authorization: `Bearer ${created.writeToken}`,
          'If-Match': `"${created.version}"`,
        },
        body: JSON.stringify({ a: value }),
      });
    assert.equal((await write(2)).status, 200);

    const stale = await write(3);
    assert.equal(stale.status, 412);
    assert.equal(stale.headers.get('Content-Type'), 'application/problem+json');
    const problem = JSON.parse(stale.body);
    assert.equal(problem.code, 'version-conflict');
    assert.equal(problem.version, created.version + 1);

    const read = await call({ method: 'GET', url: `/sync/sessions/${created.key}` });
    assert.deepEqual(JSON.parse(read.body).state, { a: 2 });
  });

  test('answers a CORS preflight for a PATCH with Authorization and If-Match', async () => {
    const { created } = await createSession();

    const preflight = await call({
      method: 'OPTIONS',
      url: `/sync/sessions/${created.key}`,
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'authorization, content-type, if-match, sync-client',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('Access-Control-Allow-Origin'), '*');
    assert.match(preflight.headers.get('Access-Control-Allow-Methods') ?? '', /\bPATCH\b/);
    const allowed = (preflight.headers.get('Access-Control-Allow-Headers') ?? '').toLowerCase();
    for (const header of ['authorization', 'content-type', 'if-match', 'sync-client']) {
      assert.ok(allowed.includes(header), `${header} is not in "${allowed}"`);
    }
  });

  test('deletes a session and answers 204 with an empty body', async () => {
    const { created } = await createSession();

    const removed = await call({
      method: 'DELETE',
      url: `/sync/sessions/${created.key}`,
      headers: { Authorization: `Bearer ${created.writeToken}` },
    });
    assert.equal(removed.status, 204);
    assert.equal(removed.body, '');

    const read = await call({ method: 'GET', url: `/sync/sessions/${created.key}` });
    assert.equal(read.status, 404);
  });

  test('takes the absolute request URL an Fn trigger passes as well as a gateway path', async () => {
    const response = await call({
      method: 'GET',
      url: 'https://gateway.example.com/sync/healthz?probe=1',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { status: 'ok' });
  });

  test('serves a request whose Host is not a host name, and refuses a URL that is not one', async () => {
    const oddHost = await call({
      method: 'GET',
      url: '/sync/healthz',
      headers: { Host: 'not a host' },
    });
    assert.equal(oddHost.status, 200);

    const badUrl = await call({ method: 'GET', url: 'http://[sync/healthz' });
    assert.equal(badUrl.status, 400);
    assert.equal(badUrl.headers.get('Content-Type'), 'application/problem+json');
  });

  test('answers malformed JSON with 400 problem+json', async () => {
    const response = await call({
      method: 'POST',
      url: '/sync/sessions',
      headers: { 'Content-Type': JSON_TYPE },
      body: '{"state": ',
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('Content-Type'), 'application/problem+json');
    assert.equal(JSON.parse(response.body).code, 'bad-request');
  });

  test('answers an unknown session with 404 problem+json', async () => {
    const response = await call({ method: 'GET', url: '/sync/sessions/AAAAAAAAAAAAAAAAAAAAAA' });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('Content-Type'), 'application/problem+json');
    assert.equal(JSON.parse(response.body).code, 'session-not-found');
  });

  test('refuses event streams at once with 501, so clients fall back to long-poll', async () => {
    const { created } = await createSession();

    const response = await call({
      method: 'GET',
      url: `/sync/sessions/${created.key}/events`,
      headers: { Accept: 'text/event-stream', Origin: ORIGIN },
    });
    assert.equal(response.status, 501);
    assert.equal(JSON.parse(response.body).code, 'streams-unsupported');
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
  });

  test('answers a long-poll before the call deadline instead of letting Fn cut it', async () => {
    const { created } = await createSession();
    const deadlineMs = 3_500;
    const deadline = Date.now() + deadlineMs;

    const response = await call({
      method: 'GET',
      url: `/sync/sessions/${created.key}/changes?since=${created.version}&wait=25`,
      deadlineMs,
    });
    assert.equal(response.status, 304);
    assert.ok(Date.now() < deadline, 'the answer came after the call deadline');
  });

  test('answers a call that did not come through a gateway with 400 problem+json', async () => {
    const response = await call({ method: 'POST', url: '', direct: true, body: '{}' });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('Content-Type'), 'application/problem+json');
  });
});
