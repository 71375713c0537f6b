import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { createNodeListener, createSyncHandler } from '../../src/server/index.js';
import { call, newSession, openEvents, patch, withTimeout } from './server-helpers.js';

/** Starts the command with `args`; resolves once it printed the URL it listens on. */
async function startCommand(t: TestContext, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const lines = createInterface({ input: child.stdout! });
  const url = await withTimeout(
    new Promise<string>((resolve) => {
      lines.on('line', (line) => {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') resolve(entry.url);
      });
    }),
    15_000,
  );
  return { child, exited, url };
}

describe('the handler mounted in a Node server of your own', () => {
  test('createNodeListener serves the contract, streams included, beside other routes', async (t) => {
    const handler = createSyncHandler({ log: false });
    const listener = createNodeListener(handler);
    const server = createServer((request, response) => {
      if (request.url?.startsWith('/sessions')) return void listener(request, response);
      response.end('the rest of the app');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      await handler.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    assert.equal(await (await fetch(`${url}/`)).text(), 'the rest of the app');
    const session = await newSession(url, { mounted: true });
    const stream = await openEvents(`${url}/sessions/${session.key}/events`);
    t.after(() => stream.drop());
    assert.equal((await stream.events.next())?.event, 'snapshot');
    await patch(url, session, { more: 1 });
    assert.deepEqual((await stream.events.next())?.data.patch, { more: 1 });
  });
});

describe('the session-sync-server command', () => {
  test('it prints its url, serves, and on SIGTERM ends open streams and exits 0', async (t) => {
    const { child, exited, url } = await startCommand(t, ['--port', '0']);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

    const session = await newSession(url);
    const stream = await openEvents(`${url}/sessions/${session.key}/events`);
    await stream.events.next();
    child.kill('SIGTERM');

    assert.equal(
      await withTimeout(
        stream.events.next().catch(() => undefined),
        10_000,
      ),
      undefined,
    );
    assert.equal(await withTimeout(exited, 10_000), 0);
  });

  test('with --redis it keeps sessions in Redis', async (t) => {
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const { child, exited, url } = await startCommand(t, ['--port', '0', '--redis', redisUrl]);
    const session = await newSession(url, { in: 'redis' });
    assert.equal((await patch(url, session, { more: 1 })).status, 200);
    const view = await (await fetch(`${url}/sessions/${session.key}`)).json();
    assert.deepEqual([view.version, view.state], [1, { in: 'redis', more: 1 }]);

    const removed = await call(url, 'DELETE', `/sessions/${session.key}`, {
      headers: { Authorization: `Bearer ${session.writeToken}` },
    });
    assert.equal(removed.status, 204);
    child.kill('SIGTERM');
    assert.equal(await withTimeout(exited, 10_000), 0);
  });

  test('with --trust-proxy-header it limits each address the proxy names', async (t) => {
    const { child, exited, url } = await startCommand(t, [
      '--port',
      '0',
      '--trust-proxy-header',
      'X-Forwarded-For',
    ]);
    const create = async (address: string) => {
      const headers = { 'X-Forwarded-For': address };
      const response = await fetch(`${url}/sessions`, { method: 'POST', headers });
      await response.text();
      return response.status;
    };

    // All requests come over loopback; only the header tells the clients apart. The default
    // burst is 30 creations per address, so the first address is limited well within 100.
    let status = 201;
    for (let sent = 0; sent < 100 && status === 201; sent++) status = await create('203.0.113.1');
    assert.equal(status, 429);
    assert.equal(await create('203.0.113.2'), 201);
    // The last entry of a list is the one the proxy added.
    assert.equal(await create('198.51.100.9, 203.0.113.1'), 429);

    child.kill('SIGTERM');
    assert.equal(await withTimeout(exited, 10_000), 0);
  });

  test('it prints usage for --help and refuses an unknown flag with exit code 2', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', ...args]);
        let out = '';
        child.stdout.on('data', (data) => (out += data));
        child.stderr.on('data', (data) => (out += data));
        child.on('exit', (code) => resolve({ code, out }));
      });

    const help = await withTimeout(run(['--help']), 15_000);
    assert.equal(help.code, 0);
    assert.match(help.out, /--allow-origin/);
    assert.match(help.out, /--trust-proxy-header/);
    const wrong = await withTimeout(run(['--prot', '80']), 15_000);
    assert.equal(wrong.code, 2);
    const badHeader = await withTimeout(run(['--trust-proxy-header', 'x forwarded']), 15_000);
    assert.equal(badHeader.code, 2);
    assert.match(badHeader.out, /--trust-proxy-header: expected a header name/);
  });
});
