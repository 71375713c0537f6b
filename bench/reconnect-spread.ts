/**
 * Reconnect spread: how spread out in time do N connected clients come back after the server
 * restarts? A synchronized spike (everyone at the same millisecond) is what takes a freshly
 * restarted server down again; jittered backoff should spread the returns out.
 *
 * N `SyncClient`s (Node has no EventSource, so they follow the session by long-poll) join one
 * session. The server closes (held requests answer 503 with Retry-After, as in a deploy),
 * stays down for a moment, and starts again on the same port with the same store. Each
 * client's fetch is wrapped to note when it sends its first request that the new server
 * answers. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/reconnect-spread.ts [--clients=500] [--down-ms=1000]
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { SyncClient } from '../src/client/sync-client.js';
import { MemoryStore, startServer } from '../src/server/index.js';
import type { RunningServer, SyncStore } from '../src/server/index.js';

const args = new Map(
  process.argv
    .slice(2)
    .filter((arg) => arg.includes('='))
    .map((arg) => {
      const [name, value] = arg.replace(/^--/, '').split('=');
      return [name!, Number(value)];
    }),
);
const CLIENTS = args.get('clients') ?? 500;
const DOWN_MS = args.get('down-ms') ?? 1_000;
const WINDOW_MS = 100;

/** All clients share 127.0.0.1: switch the per-address limits off for this measurement. */
const LIMITS_OFF = {
  writesPerSecondPerAddress: 0,
  sessionsPerMinutePerAddress: 0,
  presencePerSecondPerAddress: 0,
  presencePerSecondPerSession: 0,
  maxStreamsPerAddress: 0,
  maxStreamsPerSession: 0,
};

/** The same store for both servers: the restart must not lose the session. */
function surviving(store: SyncStore): SyncStore {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'close') return async () => undefined;
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * The server side, in a child process of its own so that the clients' event loop does not
 * skew it: it keeps one store, and on `restart` closes its server, waits `downMs` and listens
 * again on the same port.
 */
async function serve(): Promise<void> {
  const store = new MemoryStore({ maxSessions: 10 });
  const start = (port: number) =>
    startServer({ port, host: '127.0.0.1', log: false, store: surviving(store), ...LIMITS_OFF });
  let server: RunningServer = await start(0);
  process.send!({ type: 'ready', url: server.url });

  process.on('message', async (message: { type: string; downMs?: number }) => {
    if (message.type === 'restart') {
      const closingAt = performance.now();
      await server.close();
      await sleep(message.downMs ?? 0);
      server = await start(server.port);
      process.send!({ type: 'restarted', downMs: performance.now() - closingAt });
    } else if (message.type === 'stop') {
      await server.close();
      await store.close();
      process.exit(0);
    }
  });
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', listener);
      resolve(message as T);
    };
    child.on('message', listener);
  });
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const { url } = await nextMessage<{ url: string }>(child, 'ready');
  const server = { url };

  const created = await fetch(`${server.url}/sessions`, { method: 'POST' });
  const { key } = (await created.json()) as { key: string };

  // Per client: when it sent its first request after the restart that the new server answered.
  let restartedAt = Infinity;
  const returnedAt: number[] = new Array(CLIENTS).fill(NaN);
  const attemptsWhileDown: number[] = new Array(CLIENTS).fill(0);
  const clients = Array.from({ length: CLIENTS }, (_, index) => {
    const timedFetch: typeof fetch = async (input, init) => {
      const sentAt = performance.now();
      try {
        const response = await fetch(input, init);
        if (sentAt >= restartedAt && Number.isNaN(returnedAt[index]!) && response.status < 500) {
          returnedAt[index] = sentAt - restartedAt;
        }
        return response;
      } catch (error) {
        if (Number.isNaN(returnedAt[index]!)) attemptsWhileDown[index]!++;
        throw error;
      }
    };
    return new SyncClient({ endpoint: server.url, fetch: timedFetch, presenceIntervalMs: 600_000 });
  });

  for (let i = 0; i < CLIENTS; i += 50) {
    await Promise.all(clients.slice(i, i + 50).map((client) => client.join(key)));
  }
  await sleep(1_000);
  const live = clients.filter((client) => client.status === 'live').length;

  // Timers late because this process was busy would clump the figures: report the lag.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const restarted = nextMessage<{ downMs: number }>(child, 'restarted');
  child.send({ type: 'restart', downMs: DOWN_MS });
  const { downMs } = await restarted;
  restartedAt = performance.now();

  const deadline = Date.now() + 90_000;
  while (returnedAt.some(Number.isNaN) && Date.now() < deadline) await sleep(100);
  loopDelay.disable();
  const back = returnedAt.filter((ms) => !Number.isNaN(ms)).sort((a, b) => a - b);

  const windows = new Map<number, number>();
  for (const ms of back)
    windows.set(Math.floor(ms / WINDOW_MS), (windows.get(Math.floor(ms / WINDOW_MS)) ?? 0) + 1);
  const busiest = Math.max(...windows.values());
  const attempts = attemptsWhileDown.reduce((sum, n) => sum + n, 0);

  console.info(
    `reconnect spread: ${CLIENTS} clients (${live} live before), server down ${Math.round(downMs)} ms`,
  );
  console.info(`  back within 90 s: ${back.length} of ${CLIENTS}`);
  if (back.length > 0) {
    console.info(
      `  first request to the new server, ms after it listened: min ${back[0]!.toFixed(0)}, ` +
        `p10 ${percentile(back, 10).toFixed(0)}, p50 ${percentile(back, 50).toFixed(0)}, ` +
        `p90 ${percentile(back, 90).toFixed(0)}, max ${back.at(-1)!.toFixed(0)}`,
    );
    console.info(
      `  busiest ${WINDOW_MS} ms window: ${busiest} clients (${((100 * busiest) / back.length).toFixed(0)}% of them)`,
    );
  }
  console.info(
    `  failed attempts while the server was down: ${attempts} (${(attempts / CLIENTS).toFixed(1)} per client)`,
  );
  console.info(
    `  event-loop delay of the clients' process: p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, ` +
      `max ${(loopDelay.max / 1e6).toFixed(0)} ms`,
  );
  const histogram = [...windows.entries()].sort(([a], [b]) => a - b).slice(0, 30);
  console.info(
    `  returns per ${WINDOW_MS} ms: ${histogram.map(([w, n]) => `${w * WINDOW_MS}:${n}`).join(' ')}`,
  );

  for (const client of clients) void client.leave();
  await sleep(200);
  child.send({ type: 'stop' });
  await new Promise((resolve) => child.once('exit', resolve));
}

if (process.argv.includes('--serve')) await serve();
else await main();
