/**
 * The Lambda adapter with the events API Gateway (REST and HTTP APIs) and function URLs
 * deliver, through the real sync handler.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { createLambdaHandler } from '../../src/server/adapters/lambda.js';
import type { LambdaHttpEvent, LambdaHttpResult } from '../../src/server/adapters/lambda.js';
import {
  functionUrlEvent,
  httpApiEvent,
  lambdaContext,
  restApiEvent,
} from './fixtures/lambda-events.js';
import type { BrowserRequest } from './fixtures/lambda-events.js';

const ORIGIN = 'https://board.example.net';

const SHAPES = [
  { name: 'API Gateway REST API (payload 1.0)', toEvent: restApiEvent },
  { name: 'API Gateway HTTP API on a named stage (payload 2.0)', toEvent: httpApiEvent },
  { name: 'Lambda function URL (payload 2.0)', toEvent: functionUrlEvent },
];

function header(result: LambdaHttpResult, name: string): string | undefined {
  const found = Object.entries(result.headers).find(([key]) => key.toLowerCase() === name);
  return found?.[1];
}

for (const shape of SHAPES) {
  describe(`Lambda adapter: ${shape.name}`, () => {
    const handler = createLambdaHandler({ log: false, env: {} });
    after(() => handler.close());

    const send = (request: BrowserRequest) =>
      handler(shape.toEvent(request) as LambdaHttpEvent, lambdaContext());

    async function createSession(state: unknown) {
      const result = await send({
        method: 'POST',
        path: '/sessions',
        headers: { 'Content-Type': 'application/json', Origin: ORIGIN },
        cookies: ['theme=dark'],
        body: JSON.stringify({ state }),
      });
      assert.equal(result.statusCode, 201, result.body);
      return { result, created: JSON.parse(result.body) };
    }

    test('creates a session and returns a proxy result with status, headers and JSON', async () => {
      const { result, created } = await createSession({ score: 0 });

      assert.equal(result.isBase64Encoded, false);
      assert.match(header(result, 'content-type') ?? '', /^application\/json/);
      assert.equal(header(result, 'location'), `/sessions/${created.key}`);
      assert.equal(header(result, 'access-control-allow-origin'), '*');
      assert.deepEqual(created.state, { score: 0 });
    });

    test('passes the query string through to catch-up reads', async () => {
      const { created } = await createSession({ score: 0 });
      await send({
        method: 'PUT',
        path: `/sessions/${created.key}`,
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${created.writeToken}`,
        },
        body: JSON.stringify({ score: 1 }),
      });

      const result = await send({
        method: 'GET',
        path: `/sessions/${created.key}/changes`,
        query: { since: String(created.version) },
      });
      assert.equal(result.statusCode, 200, result.body);
      const changes = JSON.parse(result.body);
      assert.equal(changes.version, created.version + 1);
      assert.deepEqual(
        changes.changes.map((change: { patch: unknown }) => change.patch),
        [{ score: 1 }],
      );
    });

    test('decodes a base64 body and applies the merge patch with If-Match', async () => {
      const { created } = await createSession({ a: 1 });

      const result = await send({
        method: 'PATCH',
        path: `/sessions/${created.key}`,
        headers: {
          'Content-Type': 'application/merge-patch+json',
          Authorization: `Bearer ${created.writeToken}`,
          'If-Match': `"${created.version}"`,
        },
        body: JSON.stringify({ b: 'ü' }),
        base64: true,
      });
      assert.equal(result.statusCode, 200, result.body);
      assert.equal(header(result, 'etag'), `"${created.version + 1}"`);

      const read = await send({ method: 'GET', path: `/sessions/${created.key}` });
      assert.deepEqual(JSON.parse(read.body).state, { a: 1, b: 'ü' });
    });

    test('answers 412 with a problem document to a write on a stale version', async () => {
      const { created } = await createSession({ a: 1 });
      const write = (value: number) =>
        send({
          method: 'PUT',
          path: `/sessions/${created.key}`,
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${created.writeToken}`,
            'If-Match': `"${created.version}"`,
          },
          body: JSON.stringify({ a: value }),
        });
      assert.equal((await write(2)).statusCode, 200);

      const stale = await write(3);
      assert.equal(stale.statusCode, 412);
      assert.equal(header(stale, 'content-type'), 'application/problem+json');
      assert.equal(JSON.parse(stale.body).code, 'version-conflict');
    });

    test('answers a CORS preflight and refuses event streams with 501', async () => {
      const { created } = await createSession({});

      const preflight = await send({
        method: 'OPTIONS',
        path: `/sessions/${created.key}`,
        headers: {
          Origin: ORIGIN,
          'Access-Control-Request-Method': 'PATCH',
          'Access-Control-Request-Headers': 'authorization, if-match',
        },
      });
      assert.equal(preflight.statusCode, 204);
      assert.match(header(preflight, 'access-control-allow-methods') ?? '', /\bPATCH\b/);

      const events = await send({ method: 'GET', path: `/sessions/${created.key}/events` });
      assert.equal(events.statusCode, 501);
      assert.equal(JSON.parse(events.body).code, 'streams-unsupported');
    });

    test('answers malformed JSON with 400 problem+json', async () => {
      const result = await send({
        method: 'POST',
        path: '/sessions',
        headers: { 'Content-Type': 'application/json' },
        body: '{"state": [',
      });
      assert.equal(result.statusCode, 400);
      assert.equal(header(result, 'content-type'), 'application/problem+json');
      assert.equal(JSON.parse(result.body).code, 'bad-request');
    });
  });
}

describe('Lambda adapter: paths, deadlines and events that are not HTTP', () => {
  const handler = createLambdaHandler({ log: false, env: { BASE_PATH: '/api' } });
  after(() => handler.close());

  test('strips a custom domain base path and puts it in front of Location', async () => {
    const event = httpApiEvent(
      {
        method: 'POST',
        path: '/api/sessions',
        headers: { 'Content-Type': 'application/json' },
        body: '{"state":{}}',
      },
      '$default',
    );

    const result = await handler(event as LambdaHttpEvent, lambdaContext());
    assert.equal(result.statusCode, 201, result.body);
    assert.match(header(result, 'location') ?? '', /^\/api\/sessions\/[\w-]{22,}$/);
  });

  test('answers a long-poll before the invocation runs out of time', async () => {
    const created = await handler(
      restApiEvent({ method: 'POST', path: '/api/sessions' }) as LambdaHttpEvent,
      lambdaContext(),
    );
    const { key, version } = JSON.parse(created.body);
    const timeoutMs = 3_500;
    const deadline = Date.now() + timeoutMs;

    const result = await handler(
      restApiEvent({
        method: 'GET',
        path: `/api/sessions/${key}/changes`,
        query: { since: String(version), wait: '25' },
      }) as LambdaHttpEvent,
      lambdaContext(timeoutMs),
    );
    assert.equal(result.statusCode, 304);
    assert.ok(Date.now() < deadline, 'the answer came after the invocation timeout');
  });

  test('limits sessions per client by the source address AWS reports, not by headers', async () => {
    const limited = createLambdaHandler({
      log: false,
      env: {},
      sessionBurstPerAddress: 2,
      sessionsPerMinutePerAddress: 1,
    });
    const create = (sourceIp: string, shape: typeof restApiEvent | typeof functionUrlEvent) => {
      const event = shape({
        method: 'POST',
        path: '/sessions',
        headers: { 'X-Forwarded-For': `203.0.113.${Math.floor(Math.random() * 250)}` },
      }) as LambdaHttpEvent & { requestContext: Record<string, any> };
      if ('http' in event.requestContext) event.requestContext.http.sourceIp = sourceIp;
      else event.requestContext.identity!.sourceIp = sourceIp;
      return limited(event, lambdaContext());
    };

    try {
      const fromOne = [];
      for (let i = 0; i < 3; i++)
        fromOne.push((await create('192.0.2.10', restApiEvent)).statusCode);
      const fromOther = (await create('192.0.2.99', functionUrlEvent)).statusCode;
      const oneAgainByUrl = (await create('192.0.2.10', functionUrlEvent)).statusCode;

      assert.deepEqual(fromOne, [201, 201, 429]);
      assert.equal(fromOther, 201);
      assert.equal(oneAgainByUrl, 429);
    } finally {
      await limited.close();
    }
  });

  test('throws on an event that no HTTP front door sends', async () => {
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

    await assert.rejects(handler(scheduled as unknown as LambdaHttpEvent), TypeError);
  });
});
