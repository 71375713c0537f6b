/**
 * Write throughput: PATCH requests per second against our server, with `If-Match`, on one
 * session and spread over many, next to a bare `node:http` server that only stores the body
 * (the ceiling any server on this machine can reach with this load generator). Our figure is
 * given as a fraction of the ceiling at the same number of requests in flight.
 */
import { performance } from 'node:perf_hooks';
import { startServerChild, type ServerChild } from './lib/children.js';
import type { BenchConfig, Section, TargetCheck } from './lib/section.js';
import { formatNumber, round } from './lib/stats.js';
import { createSessions, keepAliveAgent, send } from './lib/sync-api.js';

/** One scenario on one server: answered requests and accepted writes per second. */
export interface ThroughputRun {
  server: 'session-sync' | 'bare node:http';
  scenario: string;
  writers: number;
  requestsPerSecond: number;
  acceptedPerSecond: number;
  conflicts: number;
  errors: number;
  /** Accepted writes/s as a fraction of the bare server's requests/s at the same concurrency. */
  ofCeiling?: number;
}

const PATCH_BODY = '{"cursor":{"x":12,"y":34},"note":"moved"}';
const MANY_SESSIONS = 1000;
const CONCURRENT_WRITERS = 32;

interface Scenario {
  name: string;
  writers: number;
  sessions: number;
  ifMatch: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'one session, If-Match, writes in sequence', writers: 1, sessions: 1, ifMatch: true },
  {
    name: `one session, If-Match, ${CONCURRENT_WRITERS} racing writers (412 -> retry)`,
    writers: CONCURRENT_WRITERS,
    sessions: 1,
    ifMatch: true,
  },
  {
    name: `one session, no If-Match, ${CONCURRENT_WRITERS} writers`,
    writers: CONCURRENT_WRITERS,
    sessions: 1,
    ifMatch: false,
  },
  {
    name: `${MANY_SESSIONS} sessions, If-Match, ${CONCURRENT_WRITERS} writers`,
    writers: CONCURRENT_WRITERS,
    sessions: MANY_SESSIONS,
    ifMatch: true,
  },
];

/**
 * Runs `writers` loops for `seconds`, each sending one request at a time, after a warm-up
 * whose requests are not counted.
 */
interface Timing {
  seconds: number;
  warmupMs: number;
}

async function drive(
  writers: number,
  { seconds, warmupMs }: Timing,
  step: (writer: number) => Promise<'accepted' | 'conflict' | 'error'>,
) {
  const counts = { accepted: 0, conflict: 0, error: 0 };
  let counting = false;
  let stopAt = performance.now() + warmupMs + seconds * 1000;
  const loop = async (writer: number) => {
    while (performance.now() < stopAt) {
      const outcome = await step(writer);
      if (counting) counts[outcome] += 1;
    }
  };
  const loops = Array.from({ length: writers }, (_, writer) => loop(writer));
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  counting = true;
  const started = performance.now();
  stopAt = started + seconds * 1000;
  await Promise.all(loops);
  const elapsed = (performance.now() - started) / 1000;
  return {
    requestsPerSecond: Math.round((counts.accepted + counts.conflict + counts.error) / elapsed),
    acceptedPerSecond: Math.round(counts.accepted / elapsed),
    conflicts: counts.conflict,
    errors: counts.error,
  };
}

async function runOurs(
  server: ServerChild,
  scenario: Scenario,
  timing: Timing,
): Promise<ThroughputRun> {
  const agent = keepAliveAgent(scenario.writers);
  const sessions = await createSessions(server.url, scenario.sessions, {
    cursor: { x: 0, y: 0 },
    note: '',
  });
  // Headers built once per session; only If-Match changes per request.
  const prepared = sessions.map((session) => ({
    url: `${server.url}/sessions/${session.key}`,
    headers: {
      'Content-Type': 'application/merge-patch+json',
      Authorization: `Bearer ${session.writeToken}`,
    } as Record<string, string>,
    version: session.version,
  }));
  const turn = new Array<number>(scenario.writers).fill(0);

  const result = await drive(scenario.writers, timing, async (writer) => {
    // Writer w takes sessions w, w + writers, ...: on many sessions no two writers share one.
    const owned = Math.max(1, Math.ceil((prepared.length - writer) / scenario.writers));
    const index = prepared.length === 1 ? 0 : writer + scenario.writers * (turn[writer]++ % owned);
    const target = prepared[index];
    const headers = scenario.ifMatch
      ? { ...target.headers, 'If-Match': `"${target.version}"` }
      : target.headers;
    try {
      const reply = await send(agent, 'PATCH', target.url, headers, PATCH_BODY);
      if (reply.status === 200 || reply.status === 412) {
        const { version } = JSON.parse(reply.body) as { version: number };
        target.version = Math.max(target.version, version);
        return reply.status === 200 ? 'accepted' : 'conflict';
      }
      return 'error';
    } catch {
      return 'error';
    }
  });
  agent.destroy();
  return { server: 'session-sync', scenario: scenario.name, writers: scenario.writers, ...result };
}

async function runBare(
  server: ServerChild,
  writers: number,
  timing: Timing,
): Promise<ThroughputRun> {
  const agent = keepAliveAgent(writers);
  const headers = { 'Content-Type': 'application/json' };
  const result = await drive(writers, timing, async (writer) => {
    try {
      const reply = await send(
        agent,
        'PATCH',
        `${server.url}/sessions/s${writer}`,
        headers,
        PATCH_BODY,
      );
      return reply.status === 200 ? 'accepted' : 'error';
    } catch {
      return 'error';
    }
  });
  agent.destroy();
  return {
    server: 'bare node:http',
    scenario: `stores the body, ${writers} writer(s)`,
    writers,
    ...result,
  };
}

export async function runThroughput(config: BenchConfig): Promise<Section> {
  const timing: Timing = config.quick
    ? { seconds: 0.75, warmupMs: 250 }
    : { seconds: 5, warmupMs: 500 };
  const { seconds } = timing;
  const [bare, ours] = await Promise.all([
    startServerChild('bare-http'),
    startServerChild('session-sync'),
  ]);
  const ceilings = new Map<number, ThroughputRun>();
  const runs: ThroughputRun[] = [];
  try {
    for (const writers of [1, CONCURRENT_WRITERS]) {
      config.log(`throughput: bare node:http, ${writers} writer(s)`);
      ceilings.set(writers, await runBare(bare, writers, timing));
    }
    for (const scenario of SCENARIOS) {
      config.log(`throughput: ${scenario.name}`);
      const run = await runOurs(ours, scenario, timing);
      run.ofCeiling = round(
        run.acceptedPerSecond / ceilings.get(scenario.writers)!.requestsPerSecond,
      );
      runs.push(run);
    }
  } finally {
    await Promise.all([bare.stop(), ours.stop()]);
  }

  const all = [...ceilings.values(), ...runs];
  return {
    id: 'throughput',
    title: `Write throughput: PATCH requests, ${seconds} s per row`,
    headers: ['server, scenario', 'requests/s', 'accepted/s', '412s', 'errors', 'of ceiling'],
    rows: all.map((run) => [
      `${run.server}: ${run.scenario}`,
      formatNumber(run.requestsPerSecond),
      formatNumber(run.acceptedPerSecond),
      formatNumber(run.conflicts),
      formatNumber(run.errors),
      run.ofCeiling === undefined ? '' : `${Math.round(run.ofCeiling * 100)} %`,
    ]),
    notes: [
      '"of ceiling": accepted writes/s over the bare server\'s requests/s with as many requests in flight.',
      'Racing writers on one session all send the version they last saw; the losers get 412 and retry.',
    ],
    targets: throughputTargets(runs),
    data: { seconds, ceilings: [...ceilings.values()], runs },
  };
}

function throughputTargets(runs: ThroughputRun[]): TargetCheck[] {
  const pick = (prefix: string) => runs.find((run) => run.scenario.startsWith(prefix));
  return [
    [
      'one session, If-Match, writes in sequence',
      'write throughput, one session with If-Match, >= 1/2 of bare',
    ],
    [
      `${MANY_SESSIONS} sessions`,
      `write throughput, ${MANY_SESSIONS} sessions with If-Match, >= 1/2 of bare`,
    ],
  ].flatMap(([prefix, target]) => {
    const run = pick(prefix);
    if (!run || run.ofCeiling === undefined) return [];
    return [
      {
        target,
        figure: `${formatNumber(run.acceptedPerSecond)}/s = ${Math.round(run.ofCeiling * 100)} %`,
        met: run.errors === 0 && run.ofCeiling >= 0.5,
      },
    ];
  });
}
