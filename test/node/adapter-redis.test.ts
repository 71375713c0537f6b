/**
 * Function instances sharing sessions through Redis, as they must on hosts that run one call
 * per instance and recycle idle instances: two Fn function processes behind one gateway, and
 * two Lambda instances, on the real Redis under a key prefix unique to this run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createLambdaHandler } from '../../src/server/adapters/lambda.js';
import type { LambdaHttpEvent } from '../../src/server/adapters/lambda.js';
import { startFnFunction } from './fixtures/fn-harness.js';
import type { FnInstance } from './fixtures/fn-harness.js';
import { functionUrlEvent, lambdaContext } from './fixtures/lambda-events.js';
import { REDIS_URL, removeKeys, runPrefix } from './fixtures/redis.js';

describe('Fn function instances sharing Redis', () => {
  const prefix = runPrefix();
  const config = { REDIS_URL, REDIS_KEY_PREFIX: prefix, BASE_PATH: '/sync' };
  let first: FnInstance;
  let second: FnInstance;

  before(async () => {
    [first, second] = await Promise.all([startFnFunction(config), startFnFunction(config)]);
  });

  after(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await removeKeys(prefix);
  });

  async function createOn(instance: FnInstance, state: unknown) {
    const response = await instance.call({
      method: 'POST',
      url: '/sync/sessions',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ state }),
    });
    assert.equal(response.status, 201, `${response.body}\n${instance.stderr()}`);
    return JSON.parse(response.body);
  }

  test('reads on one instance a session created on another', async () => {
    const created = await createOn(first, { round: 1 });

    const read = await second.call({ method: 'GET', url: `/sync/sessions/${created.key}` });
    assert.equal(read.status, 200, read.body);
    assert.deepEqual(JSON.parse(read.body).state, { round: 1 });
  });

  test('wakes a long-poll held by one instance when another takes a write', async () => {
    const created = await createOn(first, { moves: [] });

    const poll = second.call({
      method: 'GET',
      url: `/sync/sessions/${created.key}/changes?since=${created.version}&wait=15`,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const write = await first.call({
      method: 'PATCH',
      url: `/sync/sessions/${created.key}`,
      headers: {
        'Content-Type': 'application/merge-patch+json',
        Authorization: `Bearer ${created.writeToken}`,
      },
      body: '{"moves":["e4"]}',
    });
    assert.equal(write.status, 200, write.body);

    const woken = await poll;
    assert.equal(woken.status, 200, woken.body);
    const changes = JSON.parse(woken.body);
    assert.equal(changes.version, created.version + 1);
    assert.deepEqual(changes.changes[0].patch, { moves: ['e4'] });
  });

  test('keeps a session when its instance is recycled', async () => {
    const created = await createOn(first, { kept: true });
    await first.stop();
    first = await startFnFunction(config);

    const read = await first.call({ method: 'GET', url: `/sync/sessions/${created.key}` });
    assert.equal(read.status, 200, read.body);
    assert.deepEqual(JSON.parse(read.body).state, { kept: true });
  });
});

describe('Lambda instances sharing Redis', () => {
  const prefix = runPrefix();
  const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix };
  const one = createLambdaHandler({ log: false, env });
  const other = createLambdaHandler({ log: false, env });

  after(async () => {
    await Promise.all([one.close(), other.close()]);
    await removeKeys(prefix);
  });

  test('writes on one instance what another reads, under the configured key prefix', async () => {
    const created = JSON.parse(
      (
        await one(
          functionUrlEvent({ method: 'POST', path: '/sessions' }) as LambdaHttpEvent,
          lambdaContext(),
        )
      ).body,
    );
    const write = await other(
      functionUrlEvent({
        method: 'PUT',
        path: `/sessions/${created.key}`,
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${created.writeToken}`,
        },
        body: '{"slide":3}',
      }) as LambdaHttpEvent,
      lambdaContext(),
    );
    assert.equal(write.statusCode, 200, write.body);

    const read = await one(
      functionUrlEvent({ method: 'GET', path: `/sessions/${created.key}` }) as LambdaHttpEvent,
      lambdaContext(),
    );
    assert.deepEqual(JSON.parse(read.body).state, { slide: 3 });
    assert.ok((await removeKeys(prefix)) > 0, 'no keys were stored under the prefix');
  });
});
