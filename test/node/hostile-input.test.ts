/**
 * Hostile input against the running server in a child process, over real sockets. Every case
 * must answer a 4xx quickly while an honest client keeps working without a single error; the
 * process must stay up, Object.prototype untouched, and memory back near its level.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { MERGE_PATCH_TYPE } from '../../src/protocol.js';
import type { SessionCreated } from '../../src/protocol.js';
import { startChildServer } from './support/child-server.js';
import type { ChildServer } from './support/child-server.js';
import { chunked, rawRequest, requestHead } from './support/raw-http.js';
import { openEventStream } from './support/sse.js';

const KIB = 1024;
/** Generous: the CPU is shared. A case that hangs would take the timeout of its socket. */
const QUICK_MS = 5_000;
const HEADERS_TIMEOUT_MS = 1_500;
const REQUEST_TIMEOUT_MS = 2_500;
const HONEST_ADDRESS = '192.0.2.1';
/** Rounds of every hostile case after the baseline; more in the long variant. */
const ROUNDS = process.env.SYNC_LONG_TESTS === '1' ? 10 : 3;

const SERVER_OPTIONS = {
  trustProxyHeader: 'x-forwarded-for',
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  sessionsPerMinutePerAddress: 60,
  sessionBurstPerAddress: 5,
  writesPerSecondPerSession: 20,
  writeBurstPerSession: 40,
  maxStreamsPerAddress: 4,
};

let server: ChildServer;
/** A session the hostile requests aim at, with its token. */
let target: SessionCreated;
/** Hostile requests come from many addresses, so they meet the input checks, not the limits. */
let nextHostile = 0;
const hostileAddress = () => `198.51.100.${nextHostile++ % 250}`;

async function createSession(address: string, state: unknown = {}): Promise<SessionCreated> {
  const response = await fetch(`${server.url}/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': address },
    body: JSON.stringify({ state }),
  });
  assert.equal(response.status, 201);
  return (await response.json()) as SessionCreated;
}

function writeHeaders(token: string, type = MERGE_PATCH_TYPE): Record<string, string> {
  return {
    'Content-Type': type,
    Authorization: `Bearer ${token}`,
    'X-Forwarded-For': hostileAddress(),
  };
}

/**
 * An honest client working throughout: it writes, reads and follows the event stream of its
 * own session, from its own address, and records anything that is not a success.
 */
function startHonestClient() {
  const errors: string[] = [];
  let writes = 0;
  let running = true;
  const stopped = (async () => {
    const session = await createSession(HONEST_ADDRESS, { count: 0 });
    const seen: number[] = [];
    const drop = new AbortController();
    const stream = await openEventStream(
      `${server.url}/sessions/${session.key}/events`,
      (event) => {
        if (event.event === 'change')
          seen.push((JSON.parse(event.data) as { version: number }).version);
      },
      { signal: drop.signal, headers: { 'X-Forwarded-For': HONEST_ADDRESS } },
    );
    if (stream.status !== 200) errors.push(`events answered ${stream.status}`);

    while (running) {
      const patch = await fetch(`${server.url}/sessions/${session.key}`, {
        method: 'PATCH',
        headers: {
          'Content-Type': MERGE_PATCH_TYPE,
          Authorization: `Bearer ${session.writeToken}`,
          'X-Forwarded-For': HONEST_ADDRESS,
        },
        body: JSON.stringify({ count: writes + 1 }),
      });
      if (patch.status !== 200)
        errors.push(`PATCH answered ${patch.status}: ${await patch.text()}`);
      else writes++;
      await patch.body?.cancel();

      const read = await fetch(`${server.url}/sessions/${session.key}`, {
        headers: { 'X-Forwarded-For': HONEST_ADDRESS },
      });
      const state =
        read.status === 200
          ? ((await read.json()) as { state: { count: number } }).state
          : undefined;
      if (state?.count !== writes)
        errors.push(`GET answered ${read.status} with ${JSON.stringify(state)}`);
      // Stay well under the per-session write limit the server runs with.
      await new Promise((resolve) => setTimeout(resolve, 60));
    }

    await waitFor(() => seen.length >= writes, 2_000);
    if (seen.length !== writes) errors.push(`stream showed ${seen.length} of ${writes} writes`);
    drop.abort();
    await stream.ended;
  })().catch((error: unknown) => errors.push(`honest client failed: ${String(error)}`));

  return {
    errors,
    writes: () => writes,
    async stop() {
      running = false;
      await stopped;
    },
  };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

interface HostileCase {
  name: string;
  /** Sends the request; returns the status and how long the answer took. */
  send(): Promise<{ status: number; ms: number; headers?: Map<string, string> | Headers }>;
  /** The 4xx expected; a list when the HTTP parser or the handler may answer first. */
  expect: number | number[];
}

async function timedFetch(
  path: string,
  init: RequestInit,
): Promise<{ status: number; ms: number; headers: Headers }> {
  const startedAt = performance.now();
  const response = await fetch(`${server.url}${path}`, init);
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - startedAt, headers: response.headers };
}

function patchCase(
  name: string,
  body: string | Uint8Array<ArrayBuffer>,
  expect: number,
): HostileCase {
  return {
    name,
    expect,
    send: () =>
      timedFetch(`/sessions/${target.key}`, {
        method: 'PATCH',
        headers: writeHeaders(target.writeToken),
        body,
      }),
  };
}

function rawCase(
  name: string,
  build: () => Array<string | Uint8Array>,
  expect: number | number[],
): HostileCase {
  return {
    name,
    expect,
    send: async () => {
      const answer = await rawRequest(server.url, build(), { timeoutMs: QUICK_MS * 2 });
      return { status: answer.status, ms: answer.ms, headers: answer.headers };
    },
  };
}

const deepNesting = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

const HOSTILE_CASES: HostileCase[] = [
  patchCase('malformed JSON', '{"a":', 400),
  patchCase('truncated JSON', '{"a":[1,2,{"b":"c', 400),
  patchCase('JSON followed by garbage', '{"a":1} x', 400),
  patchCase('an empty body', '', 400),
  patchCase(
    'invalid UTF-8: an encoded lone surrogate',
    new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
    400,
  ),
  patchCase(
    'invalid UTF-8: a stray continuation byte',
    new Uint8Array([0x7b, 0x22, 0x80, 0x22, 0x3a, 0x31, 0x7d]),
    400,
  ),
  patchCase('a number beyond the range of a double', '{"n":1e999}', 400),
  patchCase('a number of 100,000 digits', `{"n":${'9'.repeat(100_000)}}`, 400),
  patchCase('100,000 levels of nesting', `{"a":${deepNesting(100_000)}}`, 413),
  patchCase(
    'a body over the limit with Content-Length',
    JSON.stringify({ a: 'x'.repeat(300 * KIB) }),
    413,
  ),
  {
    name: '100,000 levels of nesting in a new session',
    expect: 413,
    send: () =>
      timedFetch('/sessions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': hostileAddress() },
        body: `{"state":${deepNesting(100_000)}}`,
      }),
  },
  rawCase(
    'a chunked body over the limit, without Content-Length',
    () => [
      requestHead('PATCH', `/sessions/${target.key}`, server.url, {
        ...writeHeaders(target.writeToken),
        'Transfer-Encoding': 'chunked',
      }),
      ...chunked(JSON.stringify({ a: 'x'.repeat(600 * KIB) })),
    ],
    413,
  ),
  rawCase(
    'many small chunks over the limit',
    () => [
      requestHead('PUT', `/sessions/${target.key}`, server.url, {
        ...writeHeaders(target.writeToken, 'application/json'),
        'Transfer-Encoding': 'chunked',
      }),
      ...Array.from({ length: 400 }, () => `400\r\n${'["x"]'.padEnd(1024, ' ')}\r\n`),
      '0\r\n\r\n',
    ],
    413,
  ),
  {
    name: 'PATCH as application/json instead of merge-patch',
    expect: 415,
    send: () =>
      timedFetch(`/sessions/${target.key}`, {
        method: 'PATCH',
        headers: writeHeaders(target.writeToken, 'application/json'),
        body: '{"a":1}',
      }),
  },
  {
    name: 'PUT as text/plain',
    expect: 415,
    send: () =>
      timedFetch(`/sessions/${target.key}`, {
        method: 'PUT',
        headers: writeHeaders(target.writeToken, 'text/plain'),
        body: '{"a":1}',
      }),
  },
  {
    name: 'a new session posted as a form',
    expect: 415,
    send: () =>
      timedFetch('/sessions', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Forwarded-For': hostileAddress(),
        },
        body: 'state=1',
      }),
  },
  {
    name: 'markup in the Sync-Client header',
    expect: 400,
    send: () =>
      timedFetch(`/sessions/${target.key}`, {
        method: 'PATCH',
        headers: { ...writeHeaders(target.writeToken), 'Sync-Client': '<script>alert(1)</script>' },
        body: '{"a":1}',
      }),
  },
  rawCase(
    'a bare CR inside a header value',
    () => [
      `PATCH /sessions/${target.key} HTTP/1.1\r\nHost: x\r\nSync-Client: a\rSet-Cookie: b=c\r\nConnection: close\r\n\r\n`,
    ],
    400,
  ),
  rawCase(
    'a bare LF splitting a header',
    () => [
      `GET /sessions/${target.key} HTTP/1.1\r\nHost: x\nX-Injected: 1\r\nConnection: close\r\n\r\n`,
    ],
    400,
  ),
  rawCase(
    'a folded header line',
    () => [
      `GET /sessions/${target.key} HTTP/1.1\r\nHost: x\r\nSync-Client: a\r\n b\r\nConnection: close\r\n\r\n`,
    ],
    400,
  ),
  rawCase(
    'a NUL byte in a header value',
    () => [
      `GET /sessions/${target.key} HTTP/1.1\r\nHost: x\r\nSync-Client: a\0b\r\nConnection: close\r\n\r\n`,
    ],
    400,
  ),
  rawCase(
    'an encoded CRLF and header in the path',
    () => [requestHead('GET', '/sessions/abc%0d%0aSet-Cookie:%20a=b', server.url)],
    404,
  ),
  rawCase(
    'a method the server does not know',
    () => [requestHead('BREW', '/sessions', server.url)],
    [400, 405],
  ),
  rawCase(
    'a request smuggling attempt with both Content-Length and chunked',
    () => [
      `POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
    ],
    400,
  ),
  {
    name: 'a key of 10,000 characters',
    expect: 404,
    send: () =>
      timedFetch(`/sessions/${'k'.repeat(10_000)}`, {
        headers: { 'X-Forwarded-For': hostileAddress() },
      }),
  },
  rawCase(
    'a URL of 100 KiB',
    () => [requestHead('GET', `/sessions/${'k'.repeat(100 * KIB)}`, server.url)],
    431,
  ),
  rawCase(
    '2,000 headers',
    () => [
      requestHead(
        'GET',
        '/healthz',
        server.url,
        Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, 'v'.repeat(20)])),
      ),
    ],
    431,
  ),
  {
    name: 'a version that is not a number',
    expect: 400,
    send: () =>
      timedFetch(`/sessions/${target.key}/changes?since=1e400`, {
        headers: { 'X-Forwarded-For': hostileAddress() },
      }),
  },
  {
    name: 'a negative version',
    expect: 400,
    send: () =>
      timedFetch(`/sessions/${target.key}/changes?since=-1`, {
        headers: { 'X-Forwarded-For': hostileAddress() },
      }),
  },
  {
    name: 'a wait that is not a number of seconds',
    expect: 400,
    send: () =>
      timedFetch(`/sessions/${target.key}/changes?since=0&wait=Infinity`, {
        headers: { 'X-Forwarded-For': hostileAddress() },
      }),
  },
  {
    name: 'a write token of 10,000 characters',
    expect: 403,
    send: () =>
      timedFetch(`/sessions/${target.key}`, {
        method: 'PATCH',
        headers: {
          ...writeHeaders(target.writeToken),
          Authorization: `Bearer ${'t'.repeat(10_000)}`,
        },
        body: '{"a":1}',
      }),
  },
  {
    name: 'Basic credentials instead of a bearer token',
    expect: 401,
    send: () =>
      timedFetch(`/sessions/${target.key}`, {
        method: 'PATCH',
        headers: { ...writeHeaders(target.writeToken), Authorization: 'Basic YTpi' },
        body: '{"a":1}',
      }),
  },
  {
    name: 'an If-Match that is not a version',
    expect: 412,
    send: () =>
      timedFetch(`/sessions/${target.key}`, {
        method: 'PATCH',
        headers: { ...writeHeaders(target.writeToken), 'If-Match': '"abc"' },
        body: '{"a":1}',
      }),
  },
  {
    name: 'a presence body over its limit',
    expect: 413,
    send: () =>
      timedFetch(`/sessions/${target.key}/presence/peer-1`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': hostileAddress() },
        body: JSON.stringify({ name: 'x'.repeat(64 * KIB) }),
      }),
  },
  {
    name: 'a presence id with markup',
    expect: 400,
    send: () =>
      timedFetch(`/sessions/${target.key}/presence/${encodeURIComponent('<img src=x>')}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': hostileAddress() },
        body: '{}',
      }),
  },
];

/** Runs every hostile case once and checks each answered its 4xx quickly. */
async function runHostileRound(): Promise<void> {
  for (const hostile of HOSTILE_CASES) {
    const { status, ms } = await hostile.send();
    const expected = Array.isArray(hostile.expect) ? hostile.expect : [hostile.expect];
    assert.ok(
      expected.includes(status),
      `${hostile.name}: answered ${status}, expected ${expected.join(' or ')}`,
    );
    assert.ok(ms < QUICK_MS, `${hostile.name}: took ${Math.round(ms)} ms`);
  }
}

async function readState(key: string): Promise<unknown> {
  const response = await fetch(`${server.url}/sessions/${key}`, {
    headers: { 'X-Forwarded-For': HONEST_ADDRESS },
  });
  return ((await response.json()) as { state: unknown }).state;
}

describe('the running server under hostile input', () => {
  before(async () => {
    server = await startChildServer(SERVER_OPTIONS);
    target = await createSession('203.0.113.1', { kept: true });
  });

  after(async () => {
    await server.stop();
  });

  test('answers every hostile case with its 4xx quickly while an honest client sees no error', async () => {
    await runHostileRound(); // warms up the code paths before the baseline
    const baseline = await server.probe();
    const honest = startHonestClient();

    for (let round = 0; round < ROUNDS; round++) await runHostileRound();
    await honest.stop();
    const afterwards = await server.probe();

    assert.deepStrictEqual(honest.errors, []);
    assert.ok(honest.writes() > 0, 'the honest client made no write');
    assert.equal(server.alive(), true);
    assert.equal(afterwards.prototypeClean, true);
    const grownMiB = (afterwards.heapUsed - baseline.heapUsed) / (1024 * 1024);
    console.info(
      `heap after gc: ${(baseline.heapUsed / 2 ** 20).toFixed(1)} MiB before, grew ${grownMiB.toFixed(2)} MiB`,
    );
    assert.ok(grownMiB < 8, `heap grew by ${grownMiB.toFixed(1)} MiB`);
    assert.deepStrictEqual(await readState(target.key), { kept: true });
  });

  test('stores __proto__, constructor and prototype members as plain data', async () => {
    const session = await createSession('203.0.113.2');
    const payloads = [
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"a":{"__proto__":{"polluted":true},"prototype":null}}',
    ];

    for (const body of payloads) {
      const response = await fetch(`${server.url}/sessions/${session.key}`, {
        method: 'PATCH',
        headers: writeHeaders(session.writeToken),
        body,
      });
      assert.equal(response.status, 200);
    }
    const text = await (await fetch(`${server.url}/sessions/${session.key}`)).text();

    assert.match(
      text,
      /"state":\{"__proto__":\{"polluted":true\},"constructor":\{"prototype":\{"polluted":true\}\},"a":\{"__proto__":\{"polluted":true\}\}\}/,
    );
    assert.equal((await server.probe()).prototypeClean, true);
  });

  test('keeps the last of duplicate members, as JSON.parse does', async () => {
    const session = await createSession('203.0.113.3');

    await fetch(`${server.url}/sessions/${session.key}`, {
      method: 'PATCH',
      headers: writeHeaders(session.writeToken),
      body: '{"a":1,"a":2,"__proto__":1,"__proto__":2}',
    });

    assert.equal(JSON.stringify(await readState(session.key)), '{"a":2,"__proto__":2}');
  });

  test('stores an escaped lone surrogate and reads it back unchanged', async () => {
    const session = await createSession('203.0.113.4');

    await fetch(`${server.url}/sessions/${session.key}`, {
      method: 'PATCH',
      headers: writeHeaders(session.writeToken),
      body: '{"s":"\\ud800x\\udc00"}',
    });
    const text = await (await fetch(`${server.url}/sessions/${session.key}`)).text();

    assert.match(text, /"state":\{"s":"\\ud800x\\udc00"\}/);
  });

  test('answers unknown, malformed and overlong keys with the same 404', async () => {
    const paths = [
      '/sessions/AAAAAAAAAAAAAAAAAAAAAAAA',
      '/sessions/not*a*key',
      `/sessions/${'k'.repeat(5000)}`,
    ];
    const timings: number[][] = paths.map(() => []);
    const answers = new Set<string>();

    for (let i = 0; i < 100; i++) {
      for (const [index, path] of paths.entries()) {
        const { status, ms, text, type } = await (async () => {
          const startedAt = performance.now();
          const response = await fetch(`${server.url}${path}`);
          const body = await response.text();
          return {
            status: response.status,
            ms: performance.now() - startedAt,
            text: body,
            type: response.headers.get('content-type'),
          };
        })();
        timings[index]!.push(ms);
        answers.add(`${status} ${type} ${text}`);
      }
    }

    const median = (values: number[]) =>
      values.sort((a, b) => a - b)[values.length >> 1]!.toFixed(2);
    console.info(
      `404 median ms: unknown ${median(timings[0]!)}, malformed ${median(timings[1]!)}, overlong ${median(timings[2]!)}`,
    );
    assert.equal(answers.size, 1);
    assert.match([...answers][0]!, /^404 application\/problem\+json/);
  });

  test('cuts off a client that sends its headers too slowly', async () => {
    const drip = `GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-Slow: 1\r\n'.repeat(100)}\r\n`.split('');

    const answer = await rawRequest(server.url, drip, { gapMs: 100, timeoutMs: 20_000 });

    assert.equal(answer.closedByServer, true);
    assert.ok(answer.ms < HEADERS_TIMEOUT_MS + 5_000, `closed after ${Math.round(answer.ms)} ms`);
  });

  test('cuts off a client that sends its body too slowly', async () => {
    const head = requestHead('PATCH', `/sessions/${target.key}`, server.url, {
      ...writeHeaders(target.writeToken),
      'Content-Length': '200',
    });
    const drip = [head, ...'{"a":"'.concat('x'.repeat(192), '"}').split('')];

    const answer = await rawRequest(server.url, drip, { gapMs: 100, timeoutMs: 20_000 });

    assert.equal(answer.closedByServer, true);
    assert.ok(answer.ms < REQUEST_TIMEOUT_MS + 5_000, `closed after ${Math.round(answer.ms)} ms`);
    assert.deepStrictEqual(await readState(target.key), { kept: true });
  });

  test('keeps an event stream open past the request time limit', async () => {
    const drop = new AbortController();
    let snapshots = 0;
    const stream = await openEventStream(
      `${server.url}/sessions/${target.key}/events`,
      () => snapshots++,
      {
        signal: drop.signal,
        headers: { 'X-Forwarded-For': '203.0.113.5' },
      },
    );
    let endedEarly = false;
    void stream.ended.then(() => (endedEarly = !drop.signal.aborted));

    await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS + 1_500));
    drop.abort();
    await stream.ended;

    assert.deepStrictEqual([stream.status, snapshots, endedEarly], [200, 1, false]);
  });
});

describe('the running server under a flood', () => {
  before(async () => {
    server = await startChildServer(SERVER_OPTIONS);
  });

  after(async () => {
    await server.stop();
  });

  test('answers 429 rate-limited with Retry-After once an address made too many sessions', async () => {
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const response = await fetch(`${server.url}/sessions`, {
        method: 'POST',
        headers: { 'X-Forwarded-For': '203.0.113.10' },
      });
      statuses.push(response.status);
      if (response.status === 429) refused = response;
      else await response.body?.cancel();
    }

    assert.ok(refused, `never refused: ${statuses.join(',')}`);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.equal(((await refused.json()) as { code: string }).code, 'rate-limited');
    assert.equal(
      (
        await fetch(`${server.url}/sessions`, {
          method: 'POST',
          headers: { 'X-Forwarded-For': '203.0.113.11' },
        })
      ).status,
      201,
    );
  });

  test('refuses writes past the per-session rate, but not because of wrong tokens', async () => {
    const session = await createSession('203.0.113.12');
    const patch = (token: string) =>
      fetch(`${server.url}/sessions/${session.key}`, {
        method: 'PATCH',
        headers: writeHeaders(token),
        body: '{"n":1}',
      });

    const wrong = await Promise.all(
      Array.from({ length: 100 }, () => patch('W'.repeat(24)).then((r) => r.status)),
    );
    const firstRight = (await patch(session.writeToken)).status;
    const flood: number[] = [];
    for (let i = 0; i < 100; i++) flood.push((await patch(session.writeToken)).status);

    assert.ok(wrong.every((status) => status === 403));
    assert.equal(firstRight, 200);
    assert.ok(flood.includes(429), 'no write was refused');
    assert.ok(flood.every((status) => status === 200 || status === 429));
  });

  test('frees a long-poll slot once its answer is sent', async () => {
    const session = await createSession('203.0.113.15');
    const headers = { 'X-Forwarded-For': '203.0.113.16' };
    const statuses: number[] = [];

    for (let i = 0; i < SERVER_OPTIONS.maxStreamsPerAddress * 3; i++) {
      const response = await fetch(
        `${server.url}/sessions/${session.key}/changes?since=0&wait=0.05`,
        { headers },
      );
      statuses.push(response.status);
      await response.arrayBuffer();
    }

    assert.ok(
      statuses.every((status) => status === 304),
      statuses.join(','),
    );
  });

  test('refuses a stream past the per-address ceiling until one closes', async () => {
    const session = await createSession('203.0.113.13');
    const url = `${server.url}/sessions/${session.key}/events`;
    const headers = { 'X-Forwarded-For': '203.0.113.14' };
    const drops = Array.from(
      { length: SERVER_OPTIONS.maxStreamsPerAddress },
      () => new AbortController(),
    );
    const open = await Promise.all(
      drops.map((drop) => openEventStream(url, () => undefined, { signal: drop.signal, headers })),
    );

    const overCeiling = await openEventStream(url, () => undefined, { headers });
    drops[0]!.abort();
    await open[0]!.ended;
    let afterClose = 0;
    for (let i = 0; i < 50 && afterClose !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const drop = new AbortController();
      const retry = await openEventStream(url, () => undefined, { signal: drop.signal, headers });
      afterClose = retry.status;
      drops.push(drop);
    }
    for (const drop of drops) drop.abort();

    assert.deepStrictEqual(
      open.map((stream) => stream.status),
      drops.slice(0, open.length).map(() => 200),
    );
    assert.equal(overCeiling.status, 429);
    assert.equal(afterClose, 200);
  });
});
