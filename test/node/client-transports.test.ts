/**
 * The `auto` transport ladder of the framework-free client, against the real server over a
 * real socket. Node has no EventSource, so the client starts at long-poll there; in front of
 * the server sits a gateway that cuts every held request with 504, as API gateways with a
 * short deadline do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { SyncClient } from '../../src/client/sync-client.js';
import type { SessionCreated } from '../../src/protocol.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { eventually } from './server-helpers.js';

interface Seen {
  path: string;
  status: number;
  /** Sent with If-None-Match: a poll, not a re-read of the whole session. */
  conditional: boolean;
}

/** A `fetch` through a gateway that cuts held requests while `cutsHeld` is true. */
function gateway() {
  const seen: Seen[] = [];
  const state = { cutsHeld: true };
  const through: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const path = url.pathname.replace(/^\/sessions\/[^/]+/, '') + url.search;
    const response =
      state.cutsHeld && url.searchParams.has('wait')
        ? new Response('Gateway Timeout', { status: 504 })
        : await fetch(input, init);
    const conditional = new Headers(init?.headers).has('If-None-Match');
    seen.push({ path, status: response.status, conditional });
    return response;
  };
  return { seen, state, fetch: through };
}

const isPoll = ({ path, conditional }: Seen) => path === '' && conditional;
const isHeld = ({ path }: Seen) => path.includes('wait=');

describe('SyncClient in auto mode behind a gateway that cuts held requests', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', log: false });
  });

  after(async () => {
    await server.close();
  });

  test('steps down from long-poll to polling, and climbs back on reconnect()', async (t) => {
    const session: SessionCreated = await (
      await fetch(`${server.url}/sessions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"state":{"n":0}}',
      })
    ).json();
    const route = gateway();
    const client = new SyncClient({
      endpoint: server.url,
      fetch: route.fetch,
      retryBaseDelayMs: 10,
      pollIntervalMs: 50,
      longPollWaitSeconds: 1,
    });
    t.after(() => client.leave());
    await client.join(session.key, session.writeToken);

    // Every held request is cut; after two such failures the client polls instead.
    await eventually(() => route.seen.filter(isPoll).length >= 3, 5_000);
    const firstPoll = route.seen.findIndex(isPoll);
    const cutBefore = route.seen.slice(0, firstPoll).filter(isHeld);
    assert.deepEqual(
      cutBefore.map(({ status }) => status),
      [504, 504],
    );
    assert.ok(!route.seen.slice(firstPoll).some(isHeld), 'it went on trying to hold requests');

    // Polling still brings changes.
    await fetch(`${server.url}/sessions/${session.key}`, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/merge-patch+json',
        Authorization: `Bearer ${session.writeToken}`,
      },
      body: '{"n":1}',
    });
    await eventually(() => (client.state as { n: number }).n === 1, 5_000);
    assert.equal(client.status, 'live');

    // The gateway is fixed (or the browser came online elsewhere): reconnect() tries again
    // from the top of the ladder, and the held requests now work.
    route.state.cutsHeld = false;
    const mark = route.seen.length;
    client.reconnect();
    await eventually(
      () => route.seen.slice(mark).some((seen) => isHeld(seen) && seen.status !== 504),
      5_000,
    );
    assert.equal(client.status, 'live');
  });
});
