/**
 * Event streams under `startServer` write events to the socket itself, framed as HTTP chunks
 * by the server rather than by Node. Read here byte for byte on a raw keep-alive connection:
 * the framing must be exact, the stream must end with the terminating chunk, and the same
 * connection must then carry the next request.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { startServer } from '../../src/server/index.js';
import { call, newSession, patch, withTimeout } from './server-helpers.js';

/** A raw connection that collects what arrives and can wait for a pattern in it. */
async function rawConnection(t: TestContext, url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  t.after(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  const waiters = new Set<() => void>();
  socket.on('data', (data: Buffer) => {
    received += data.toString('latin1');
    for (const wake of waiters) wake();
  });
  return {
    send: (text: string) => socket.write(text),
    received: () => received,
    /** Resolves with everything received once `pattern` appears in it. */
    until(pattern: RegExp): Promise<string> {
      return withTimeout(
        new Promise<string>((resolve) => {
          const check = () => {
            if (!pattern.test(received)) return;
            waiters.delete(check);
            resolve(received);
          };
          waiters.add(check);
          check();
        }),
        5_000,
      );
    },
  };
}

/** Reads an HTTP/1.1 chunked body: its chunks in order, and whether it ended with `0`. */
function dechunk(text: string): { chunks: string[]; ended: boolean; rest: string } {
  const chunks: string[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    assert.ok(lineEnd > at, `a chunk size line at ${at}`);
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    assert.ok(Number.isInteger(size), `a hex chunk size, got ${text.slice(at, lineEnd)}`);
    if (size === 0) return { chunks, ended: true, rest: text.slice(lineEnd + 4) };
    const data = text.slice(lineEnd + 2, lineEnd + 2 + size);
    assert.equal(text.slice(lineEnd + 2 + size, lineEnd + 4 + size), '\r\n', 'CRLF after a chunk');
    chunks.push(data);
    at = lineEnd + 4 + size;
  }
}

/** A server with one session `{ n: 0 }`, and a raw connection to it. */
async function serverWithSession(t: TestContext) {
  const server = await startServer({ port: 0, host: '127.0.0.1', log: false });
  t.after(() => server.close());
  const session = await newSession(server.url, { n: 0 });
  const connection = await rawConnection(t, server.url);
  return { server, session, connection };
}

describe('event streams written to the socket', () => {
  test('carry exact chunks, end with the last chunk, and leave the connection usable', async (t) => {
    const { server, session, connection } = await serverWithSession(t);

    connection.send(`GET /sessions/${session.key}/events HTTP/1.1\r\nHost: test\r\n\r\n`);
    await connection.until(/event: snapshot/);
    for (let n = 1; n <= 3; n++) {
      assert.equal((await patch(server.url, session, { n })).status, 200);
    }
    await connection.until(/"n":3/);
    const removed = await call(server.url, 'DELETE', `/sessions/${session.key}`, {
      headers: { Authorization: `Bearer ${session.writeToken}` },
    });
    assert.equal(removed.status, 204);
    await connection.until(/\r\n0\r\n\r\n/);

    // The same connection answers its next request.
    connection.send('GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n');
    const all = await connection.until(/"status":"ok"/);
    const headEnd = all.indexOf('\r\n\r\n');
    assert.match(all.slice(0, headEnd), /^HTTP\/1\.1 200 /);
    assert.match(all.slice(0, headEnd), /transfer-encoding: chunked/i);
    const body = dechunk(all.slice(headEnd + 4));
    assert.ok(body.ended);
    assert.match(body.rest, /^HTTP\/1\.1 200 /);

    const events = body.chunks.join('').split('\n\n').filter(Boolean);
    const changes = events.filter((event) => event.includes('event: change'));
    assert.deepEqual(
      changes.map((event) => JSON.parse(event.split('data: ')[1]!).patch),
      [{ n: 1 }, { n: 2 }, { n: 3 }],
    );
    assert.deepEqual(
      changes.map((event) => event.split('\n')[0]),
      ['id: 1', 'id: 2', 'id: 3'],
    );
  });

  test('an HTTP/1.0 reader gets the events unframed until the connection closes', async (t) => {
    const { server, session, connection } = await serverWithSession(t);

    connection.send(`GET /sessions/${session.key}/events HTTP/1.0\r\nHost: test\r\n\r\n`);
    await connection.until(/event: snapshot/);
    assert.equal((await patch(server.url, session, { n: 1 })).status, 200);
    const all = await connection.until(/event: change/);
    const head = all.slice(0, all.indexOf('\r\n\r\n'));
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.match(all, /\n\nid: 1\nevent: change\ndata: \{/);
  });
});
