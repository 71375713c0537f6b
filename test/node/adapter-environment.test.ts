/**
 * How adapters read their settings: environment variables named as the server command names
 * them, explicit options over the environment, and clear errors for values that cannot work.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import {
  ENVIRONMENT_VARIABLES,
  FUNCTION_DEFAULTS,
  readAdapterConfig,
} from '../../src/server/adapters/environment.js';
import {
  forwardedUrl,
  limitWaitToDeadline,
  stripBasePath,
} from '../../src/server/adapters/gateway.js';

describe('adapter settings', () => {
  test('reads every documented variable from the environment', () => {
    const config = readAdapterConfig({
      env: {
        REDIS_URL: 'rediss://default:secret@cache.example.com:6379',
        REDIS_KEY_PREFIX: 'game:',
        ALLOW_ORIGIN: 'https://a.example, https://b.example',
        SESSION_TTL: '30m',
        BASE_PATH: 'sync/',
        LONG_POLL_MAX: '15s',
        EVENT_STREAMS: 'false',
      },
    });

    assert.deepEqual(config, {
      handlerOptions: {
        allowOrigin: ['https://a.example', 'https://b.example'],
        sessionTtlMs: 30 * 60_000,
        longPollMaxMs: 15_000,
        eventStreams: false,
      },
      basePath: '/sync',
      redis: { url: 'rediss://default:secret@cache.example.com:6379', keyPrefix: 'game:' },
    });
  });

  test('lets options passed in code win over the environment and the host defaults', () => {
    const config = readAdapterConfig(
      {
        allowOrigin: 'https://c.example',
        basePath: '/api',
        env: { ALLOW_ORIGIN: '*', BASE_PATH: '/x' },
      },
      FUNCTION_DEFAULTS,
    );

    assert.equal(config.handlerOptions.allowOrigin, 'https://c.example');
    assert.equal(config.handlerOptions.eventStreams, false);
    assert.equal(config.handlerOptions.longPollMaxMs, FUNCTION_DEFAULTS.longPollMaxMs);
    assert.equal(config.basePath, '/api');
    assert.equal(config.redis, undefined);
  });

  test('refuses values that cannot work, naming the variable', () => {
    assert.throws(() => readAdapterConfig({ env: { SESSION_TTL: 'a day' } }), /SESSION_TTL/);
    assert.throws(() => readAdapterConfig({ env: { LONG_POLL_MAX: '0' } }), /LONG_POLL_MAX/);
    assert.throws(() => readAdapterConfig({ env: { EVENT_STREAMS: 'maybe' } }), /EVENT_STREAMS/);
  });
});

describe('deployment docs', () => {
  for (const page of ['oracle-fn', 'aws-lambda', 'edge']) {
    test(`docs/deploy/${page}.md lists exactly the variables the adapters read`, () => {
      const text = readFileSync(new URL(`../../docs/deploy/${page}.md`, import.meta.url), 'utf8');
      const listed = [...text.matchAll(/^\| `([A-Z_]+)` +\|/gm)].map((match) => match[1]);

      assert.deepEqual(listed.sort(), Object.keys(ENVIRONMENT_VARIABLES).sort());
    });
  }
});

describe('gateway shaping', () => {
  test('removes the base path only where it leads the path', () => {
    assert.equal(stripBasePath('/sync/sessions/abc', '/sync'), '/sessions/abc');
    assert.equal(stripBasePath('/sync', '/sync'), '/');
    assert.equal(stripBasePath('/syncing/sessions', '/sync'), '/syncing/sessions');
    assert.equal(stripBasePath('/sessions', ''), '/sessions');
  });

  test('resolves a forwarded path against the Host, or localhost when the Host is no host', () => {
    assert.equal(
      forwardedUrl('/sessions?x=1', 'gw.example').href,
      'https://gw.example/sessions?x=1',
    );
    assert.equal(forwardedUrl('/sessions', 'a b').href, 'https://localhost/sessions');
    assert.equal(forwardedUrl('http://fn.local/t/app', null).href, 'http://fn.local/t/app');
    assert.throws(() => forwardedUrl('http://[', 'gw.example'), TypeError);
  });

  test('shortens a long-poll wait to the time left before the deadline', () => {
    const url = new URL('https://gw.example/sessions/k/changes?since=3&wait=25');
    limitWaitToDeadline(url, 9_450, 2_000);
    assert.equal(url.searchParams.get('wait'), '7.4');

    const short = new URL('https://gw.example/sessions/k/changes?since=3&wait=5');
    limitWaitToDeadline(short, 60_000, 2_000);
    assert.equal(short.searchParams.get('wait'), '5');

    const late = new URL('https://gw.example/sessions/k/changes?since=3&wait=5');
    limitWaitToDeadline(late, 1_000, 2_000);
    assert.equal(late.searchParams.get('wait'), '0');
  });
});
