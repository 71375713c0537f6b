import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call, newSession, testHandler } from './server-helpers.js';

describe('CORS, in process', () => {
  test('a CORS preflight for PATCH with Authorization and If-Match passes', async (t) => {
    const handler = testHandler(t);
    const session = await newSession(handler);
    const response = await call(handler, 'OPTIONS', `/sessions/${session.key}`, {
      headers: {
        Origin: 'https://page.example',
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'authorization, content-type, if-match, sync-client',
      },
    });

    assert.equal(response.status, 204);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    assert.match(response.headers.get('Access-Control-Allow-Methods') ?? '', /PATCH/);
    const allowed = (response.headers.get('Access-Control-Allow-Headers') ?? '').toLowerCase();
    for (const name of ['authorization', 'content-type', 'if-match', 'sync-client']) {
      assert.ok(allowed.includes(name), `${name} is allowed`);
    }
    assert.equal(response.headers.get('Access-Control-Allow-Credentials'), null);
  });

  test('a CORS preflight for PUT with Authorization and If-Match passes', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'OPTIONS', `/sessions/${'D'.repeat(24)}`, {
      headers: {
        Origin: 'https://page.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'authorization, if-match',
      },
    });

    assert.equal(response.status, 204);
    assert.match(response.headers.get('Access-Control-Allow-Methods') ?? '', /PUT/);
    assert.match(response.headers.get('Access-Control-Allow-Headers') ?? '', /If-Match/);
  });

  test('error responses carry CORS headers too, so pages can read the problem', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'GET', `/sessions/${'E'.repeat(24)}`, {
      headers: { Origin: 'https://page.example' },
    });

    assert.equal(response.status, 404);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
  });

  test('responses expose ETag, Location and Retry-After to pages on other origins', async (t) => {
    const handler = testHandler(t);
    const response = await call(handler, 'POST', '/sessions', {
      headers: { Origin: 'https://page.example' },
    });

    assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
    const exposed = response.headers.get('Access-Control-Expose-Headers') ?? '';
    for (const name of ['ETag', 'Location', 'Retry-After']) assert.ok(exposed.includes(name));
  });

  test('an origin outside allowOrigin gets no CORS headers', async (t) => {
    const handler = testHandler(t, { allowOrigin: ['https://good.example'] });
    const good = await call(handler, 'GET', '/healthz', {
      headers: { Origin: 'https://good.example' },
    });
    const bad = await call(handler, 'GET', '/healthz', {
      headers: { Origin: 'https://bad.example' },
    });

    assert.equal(good.headers.get('Access-Control-Allow-Origin'), 'https://good.example');
    assert.equal(bad.headers.get('Access-Control-Allow-Origin'), null);
  });
});
