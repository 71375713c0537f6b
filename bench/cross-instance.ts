/**
 * Cross-instance propagation on its own: how long a write made through one server instance
 * takes to reach an SSE reader on another instance sharing one Redis, next to the same path
 * on a single instance (in memory, and on Redis) so the cost of each hop shows.
 *
 * Prints a table and writes no file; `npm run bench` carries the same cross-instance row in
 * its propagation section. Nothing here asserts.
 *
 *   node --import tsx bench/cross-instance.ts [--readers=10] [--rate=50] [--seconds=10]
 *
 * Or from code: `const rows = await measureCrossInstance({ readers: 10 })`.
 */
import { pathToFileURL } from 'node:url';
import { startServerChild } from './lib/children.js';
import { redisAvailable, redisBenchEnv } from './lib/redis.js';
import { formatNumber, renderTable } from './lib/stats.js';
import { measureRun } from './propagation.js';
import type { PropagationRun } from './propagation.js';
import { SseTarget } from './transports/ours-sse.js';

export interface CrossInstanceOptions {
  readers: number;
  writesPerSecond: number;
  seconds: number;
}

const DEFAULTS: CrossInstanceOptions = { readers: 10, writesPerSecond: 50, seconds: 10 };

/** One instance in memory, one on Redis, and a writer and a reader instance on one Redis. */
function targets(): SseTarget[] {
  const single = new SseTarget({
    name: '1 instance, in memory',
    startServers: async () => {
      const server = await startServerChild('session-sync');
      return { writeUrl: server.url, readUrl: server.url, stop: () => server.stop() };
    },
  });
  const onRedis = (instances: 1 | 2) =>
    new SseTarget({
      name: instances === 1 ? '1 instance on Redis' : 'write via B, read on A, one Redis',
      startServers: async () => {
        const env = redisBenchEnv();
        const servers = await Promise.all(
          Array.from({ length: instances }, () => startServerChild('session-sync', env.vars)),
        );
        return {
          writeUrl: servers.at(-1)!.url,
          readUrl: servers[0]!.url,
          stop: async () => {
            await Promise.all(servers.map((server) => server.stop()));
            await env.cleanUp();
          },
        };
      },
    });
  return [single, onRedis(1), onRedis(2)];
}

/**
 * Measures the three paths one after the other, each with its own server processes.
 * @throws Error when no Redis answers (see `bench/lib/redis.ts` for the URL it uses)
 */
export async function measureCrossInstance(
  options: Partial<CrossInstanceOptions> = {},
): Promise<PropagationRun[]> {
  const { readers, writesPerSecond, seconds } = { ...DEFAULTS, ...options };
  const redis = await redisAvailable();
  if (!redis.ok) throw new Error(`cross-instance: ${redis.reason}`);

  const runs: PropagationRun[] = [];
  for (const target of targets()) {
    await target.start();
    try {
      runs.push(await measureRun(target, readers, writesPerSecond, seconds));
    } finally {
      await target.stop();
    }
  }
  return runs;
}

function parseFlags(argv: string[]): Partial<CrossInstanceOptions> {
  const names = { readers: 'readers', rate: 'writesPerSecond', seconds: 'seconds' } as const;
  const options: Partial<CrossInstanceOptions> = {};
  for (const arg of argv) {
    const match = arg.match(/^--(readers|rate|seconds)=(\d+(?:\.\d+)?)$/);
    if (!match) throw new Error(`unknown argument ${arg}; use --readers=N --rate=N --seconds=N`);
    options[names[match[1] as keyof typeof names]] = Number(match[2]);
  }
  return options;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const options = { ...DEFAULTS, ...parseFlags(process.argv.slice(2)) };
  const runs = await measureCrossInstance(options);
  const headers = ['path', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'delivered', 'missing'];
  const rows = runs.map((run) => [
    run.target,
    formatNumber(run.latencyMs.p50),
    formatNumber(run.latencyMs.p95),
    formatNumber(run.latencyMs.p99),
    formatNumber(run.latencyMs.max),
    String(run.delivered),
    String(run.missing + (run.writeErrors ? ` (${run.writeErrors} write errors)` : '')),
  ]);
  const { readers, writesPerSecond, seconds } = options;
  console.log(
    `Propagation to ${readers} SSE readers, ${writesPerSecond} writes/s for ${seconds} s`,
  );
  console.log(renderTable(headers, rows));
}
