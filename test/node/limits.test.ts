/**
 * The building blocks of the abuse limits, with a clock the tests move by hand. The limits
 * as the running server applies them are tested in hostile-input.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { clientAddress, limitKeyOf } from '../../src/server/client-address.js';
import { AbuseLimits, classify } from '../../src/server/limits.js';
import type { LimitOptions } from '../../src/server/limits.js';
import { HttpProblem } from '../../src/server/problems.js';
import { OpenCounter, RateLimiter } from '../../src/server/rate-limiter.js';

function manualClock() {
  let nowMs = 0;
  return { now: () => nowMs, advance: (ms: number) => void (nowMs += ms) };
}

describe('RateLimiter', () => {
  test('allows a burst, then refuses with the time until the next token', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, 100, clock.now);

    const answers = [1, 2, 3, 4].map(() => limiter.take('a'));

    assert.deepStrictEqual(answers.slice(0, 3), [
      { allowed: true },
      { allowed: true },
      { allowed: true },
    ]);
    assert.deepStrictEqual(answers[3], { allowed: false, retryAfterMs: 500 });
  });

  test('refills at the sustained rate and never beyond the burst', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, 100, clock.now);
    for (let i = 0; i < 3; i++) limiter.take('a');

    clock.advance(60_000);
    const allowed = [1, 2, 3, 4].map(() => limiter.take('a').allowed);

    assert.deepStrictEqual(allowed, [true, true, true, false]);
  });

  test('keeps each key in its own bucket', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, 100, manualClock().now);

    limiter.take('a');

    assert.equal(limiter.take('a').allowed, false);
    assert.equal(limiter.take('b').allowed, true);
  });

  test('check answers like take without spending a token', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, 100, manualClock().now);

    limiter.check('a');
    limiter.check('a');

    assert.equal(limiter.take('a').allowed, true);
  });

  test('holds no more buckets than its maximum under a flood of new keys', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 5 }, 50, manualClock().now);

    for (let i = 0; i < 10_000; i++) limiter.take(`client-${i}`);

    assert.equal(limiter.size, 50);
  });

  test('forgets a bucket once it has refilled', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ perSecond: 10, burst: 5 }, 50, clock.now);
    limiter.take('a');

    clock.advance(1_000);
    limiter.check('a');

    assert.equal(limiter.size, 0);
  });

  test('allows everything when the rate is 0', () => {
    const limiter = new RateLimiter({ perSecond: 0, burst: 0 }, 50, manualClock().now);

    const allowed = Array.from({ length: 1000 }, () => limiter.take('a').allowed);

    assert.ok(allowed.every(Boolean));
  });
});

describe('OpenCounter', () => {
  test('refuses room past its maximum and frees it when a request ends, once', () => {
    const counter = new OpenCounter(2);
    const first = counter.open('a');
    counter.open('a');

    const fullBefore = !counter.hasRoom('a');
    first();
    first();

    assert.deepStrictEqual([fullBefore, counter.count('a'), counter.hasRoom('a')], [true, 1, true]);
  });
});

describe('clientAddress', () => {
  const fromSocket = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

  test('uses the connection address and ignores X-Forwarded-For unless trusted', () => {
    const request = new Request('http://x/', { headers: { 'X-Forwarded-For': '198.51.100.1' } });

    assert.equal(clientAddress(request, fromSocket('203.0.113.9'), null), '203.0.113.9');
  });

  test('takes the last X-Forwarded-For entry when that header is trusted', () => {
    const request = new Request('http://x/', {
      headers: { 'X-Forwarded-For': '10.0.0.1, 198.51.100.1' },
    });

    assert.equal(
      clientAddress(request, fromSocket('127.0.0.1'), 'x-forwarded-for'),
      '198.51.100.1',
    );
  });

  test('answers undefined when the host tells nothing', () => {
    assert.equal(clientAddress(new Request('http://x/'), undefined, null), undefined);
  });

  test('groups IPv6 addresses by their /64 and unwraps IPv4-mapped ones', () => {
    assert.deepStrictEqual(
      [
        limitKeyOf('2001:db8:0:1:aaaa::1'),
        limitKeyOf('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'),
        limitKeyOf('::ffff:192.0.2.4'),
        limitKeyOf('::1'),
      ],
      ['2001:db8:0:1::/64', '2001:db8:0:1::/64', '192.0.2.4', '0:0:0:0::/64'],
    );
  });
});

describe('AbuseLimits', () => {
  const options: LimitOptions = {
    trustProxyHeader: null,
    writesPerSecondPerAddress: 1,
    writeBurstPerAddress: 100,
    writesPerSecondPerSession: 1,
    writeBurstPerSession: 2,
    sessionsPerMinutePerAddress: 60,
    sessionBurstPerAddress: 1,
    presencePerSecondPerAddress: 1,
    presenceBurstPerAddress: 1,
    presencePerSecondPerSession: 1,
    presenceBurstPerSession: 1,
    maxStreamsPerAddress: 2,
    maxStreamsPerSession: 3,
  };

  function refusal(action: () => unknown): HttpProblem | undefined {
    try {
      action();
      return undefined;
    } catch (error) {
      assert.ok(error instanceof HttpProblem);
      return error;
    }
  }

  test('classifies requests by route', () => {
    const kinds = [
      classify('POST', 'http://x/sessions'),
      classify('PATCH', 'http://x/sessions/k'),
      classify('PUT', 'http://x/sessions/k/presence/c'),
      classify('GET', 'http://x/sessions/k/events'),
      classify('GET', 'http://x/sessions/k/changes?since=1&wait=5'),
      classify('GET', 'http://x/sessions/k/changes?since=1'),
      classify('GET', 'http://x/sessions/k'),
    ].map(({ kind }) => kind);

    assert.deepStrictEqual(kinds, [
      'create',
      'write',
      'presence',
      'stream',
      'stream',
      'other',
      'other',
    ]);
  });

  test('answers 429 with Retry-After once an address used its session creations', () => {
    const limits = new AbuseLimits(options, manualClock().now);
    limits.admit('create', '192.0.2.1', undefined);

    const problem = refusal(() => limits.admit('create', '192.0.2.1', undefined));

    assert.deepStrictEqual(
      [problem?.status, problem?.code, problem?.extras.headers],
      [429, 'rate-limited', { 'Retry-After': '1' }],
    );
  });

  test('counts only accepted writes against a session', () => {
    const limits = new AbuseLimits(options, manualClock().now);
    for (let i = 0; i < 10; i++) limits.admit('write', `192.0.2.${i}`, 'k').answered(403);
    limits.admit('write', '192.0.2.1', 'k').answered(200);
    limits.admit('write', '192.0.2.2', 'k').answered(200);

    const problem = refusal(() => limits.admit('write', '192.0.2.3', 'k'));

    assert.equal(problem?.status, 429);
  });

  test('refuses a stream past the ceiling per address until one ends', () => {
    const limits = new AbuseLimits(options, manualClock().now);
    const first = limits.admit('stream', '192.0.2.1', 'k1');
    limits.admit('stream', '192.0.2.1', 'k2');
    const refusedWhileFull = refusal(() => limits.admit('stream', '192.0.2.1', 'k3'));

    first.ended?.();

    assert.equal(refusedWhileFull?.status, 429);
    assert.equal(
      refusal(() => limits.admit('stream', '192.0.2.1', 'k3')),
      undefined,
    );
  });

  test('refuses a stream past the ceiling per session from any address', () => {
    const limits = new AbuseLimits(options, manualClock().now);
    for (let i = 0; i < 3; i++) limits.admit('stream', `192.0.2.${i}`, 'k');

    const problem = refusal(() => limits.admit('stream', '192.0.2.9', 'k'));

    assert.equal(problem?.status, 429);
  });
});
