/**
 * How the framework-free client retries, against the real server over a real socket: it gives
 * up at once on a refused token, waits at least as long as `Retry-After` asks when rate
 * limited, and spreads its retries so a crowd does not return in the same instant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Backoff } from '../../src/client/backoff.js';
import { SyncError } from '../../src/client/errors.js';
import { SyncClient } from '../../src/client/sync-client.js';
import { MERGE_PATCH_TYPE } from '../../src/protocol.js';
import type { SessionCreated } from '../../src/protocol.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';

/** A fetch that notes every request the client sends and every answer it gets. */
function recordingFetch() {
  const log: Array<{ method: string; status: number; sentAt: number; answeredAt: number }> = [];
  const recording: typeof fetch = async (input, init) => {
    const sentAt = performance.now();
    const response = await fetch(input, init);
    log.push({
      method: init?.method ?? 'GET',
      status: response.status,
      sentAt,
      answeredAt: performance.now(),
    });
    return response;
  };
  return { log, fetch: recording };
}

describe('Backoff', () => {
  test('never waits less than Retry-After, and spreads a crowd told the same wait', () => {
    const delays = Array.from({ length: 1000 }, () => new Backoff(500, 30_000).next(1_000));

    assert.ok(Math.min(...delays) >= 1_000);
    assert.ok(
      Math.max(...delays) - Math.min(...delays) > 500,
      'the crowd would come back together',
    );
  });

  test('draws each delay at random below a cap that doubles per attempt', () => {
    const backoff = new Backoff(100, 1_000);

    const delays = Array.from({ length: 6 }, () => backoff.next());

    delays.forEach((delay, attempt) =>
      assert.ok(delay >= 0 && delay <= Math.min(1_000, 100 * 2 ** attempt)),
    );
  });
});

describe('SyncClient retries against the real server', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      log: false,
      writesPerSecondPerSession: 1,
      writeBurstPerSession: 1,
    });
  });

  after(async () => {
    await server.close();
  });

  async function createSession(): Promise<SessionCreated> {
    const response = await fetch(`${server.url}/sessions`, { method: 'POST' });
    return (await response.json()) as SessionCreated;
  }

  test('sends a write with a wrong token once and never retries it', async () => {
    const session = await createSession();
    const recorder = recordingFetch();
    const client = new SyncClient({
      endpoint: server.url,
      fetch: recorder.fetch,
      retryBaseDelayMs: 10,
    });
    await client.join(session.key, 'W'.repeat(24));

    const refusal = await client.update({ a: 1 }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await client.leave();

    assert.ok(refusal instanceof SyncError);
    assert.equal(refusal.code, 'forbidden');
    assert.deepStrictEqual(
      recorder.log.filter(({ method }) => method === 'PATCH').map(({ status }) => status),
      [403],
    );
    assert.equal(client.canWrite, false);
  });

  test('waits at least Retry-After after a 429, then gets its write through', async () => {
    const session = await createSession();
    // Spends the session's one-write burst, so the client's write meets the limit.
    await fetch(`${server.url}/sessions/${session.key}`, {
      method: 'PATCH',
      headers: { 'Content-Type': MERGE_PATCH_TYPE, Authorization: `Bearer ${session.writeToken}` },
      body: '{"first":true}',
    });
    const recorder = recordingFetch();
    const client = new SyncClient({
      endpoint: server.url,
      fetch: recorder.fetch,
      retryBaseDelayMs: 10,
    });
    await client.join(session.key, session.writeToken);

    const version = await client.update({ second: true });
    await client.leave();

    const writes = recorder.log.filter(({ method }) => method === 'PATCH');
    const limited = writes.findIndex(({ status }) => status === 429);
    assert.ok(
      limited >= 0,
      `no write was rate limited: ${writes.map(({ status }) => status).join(',')}`,
    );
    const retry = writes[limited + 1]!;
    assert.ok(retry.sentAt - writes[limited]!.answeredAt >= 1_000, 'retried before Retry-After');
    assert.equal(version, 2);
  });
});
