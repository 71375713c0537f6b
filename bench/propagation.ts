/**
 * Propagation: one writer and N readers on one session, writes at a fixed rate; latency from
 * the moment a write is sent to the moment each reader has decoded it, and the deliveries per
 * second the readers sustained. Our SSE path, our long-poll path and Yjs with y-websocket run
 * side by side in the same run; the cross-instance figure (two server processes on one Redis)
 * joins when the Redis store is there.
 */
import { performance } from 'node:perf_hooks';
import { formatNumber, summarise, type LatencySummary } from './lib/stats.js';
import type { BenchConfig, Section, TargetCheck } from './lib/section.js';
import type { PropagationTarget } from './transports/transport.js';
import { availableTargets } from './transports/targets.js';

/** What one (target, readers, rate) run measured. */
export interface PropagationRun {
  target: string;
  readers: number;
  writesPerSecond: number;
  writes: number;
  expected: number;
  delivered: number;
  missing: number;
  writeErrors: number;
  /** The first failed write's error, when any failed. */
  firstWriteError?: string;
  latencyMs: LatencySummary;
  deliveriesPerSecond: number;
}

/** Writes at ramp steps until p99 exceeds this, or deliveries fall behind. */
const CEILING_P99_MS = 100;
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Runs one measurement: `seconds` of writes at `rate` per second to `readers` readers, after
 * a short warm-up whose deliveries are not counted.
 */
export async function measureRun(
  target: PropagationTarget,
  readers: number,
  rate: number,
  seconds: number,
): Promise<PropagationRun> {
  const warmup = Math.max(20, Math.round(rate / 2));
  const writes = Math.round(rate * seconds);
  const sentAt = new Float64Array(warmup + writes + 1);
  const latencies = new Float64Array(readers * writes);
  let delivered = 0;
  let lastDeliveryAt = 0;
  let writeErrors = 0;
  let firstWriteError: string | undefined;
  let allDelivered = () => {};

  await target.openReaders(readers, (_reader, seq) => {
    if (seq <= warmup || seq >= sentAt.length) return;
    const now = performance.now();
    latencies[delivered] = now - sentAt[seq];
    delivered += 1;
    lastDeliveryAt = now;
    if (delivered === latencies.length) allDelivered();
  });

  try {
    const write = (seq: number) => {
      sentAt[seq] = performance.now();
      return target.write(seq).catch((error: unknown) => {
        writeErrors += 1;
        firstWriteError ??= error instanceof Error ? error.message : String(error);
      });
    };
    await Promise.all(await paced(rate, warmup, (index) => write(index + 1)));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const drained = new Promise<void>((resolve) => (allDelivered = resolve));
    const firstSentAt = performance.now();
    await Promise.all(await paced(rate, writes, (index) => write(warmup + index + 1)));
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS))]);

    const elapsedSeconds = (lastDeliveryAt - firstSentAt) / 1000;
    return {
      target: target.name,
      readers,
      writesPerSecond: rate,
      writes,
      expected: latencies.length,
      delivered,
      missing: latencies.length - delivered,
      writeErrors,
      firstWriteError,
      latencyMs: summarise(latencies.subarray(0, delivered)),
      deliveriesPerSecond: elapsedSeconds > 0 ? Math.round(delivered / elapsedSeconds) : 0,
    };
  } finally {
    await target.closeReaders();
  }
}

/**
 * Calls `send(index)` for index 0..count-1, spaced evenly at `rate` per second on the
 * wall clock (a late timer sends the writes that fell due together, as a real client would).
 * @returns the promises `send` returned
 */
function paced<T>(rate: number, count: number, send: (index: number) => T): Promise<T[]> {
  const results: T[] = [];
  const start = performance.now();
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (results.length < due) results.push(send(results.length));
      if (results.length >= count) resolve(results);
      else
        setTimeout(tick, Math.max(0, start + (results.length * 1000) / rate - performance.now()));
    };
    tick();
  });
}

export async function runPropagation(config: BenchConfig): Promise<Section> {
  const readerCounts = config.quick ? [10, 200] : [10, 50, 200];
  const rate = 50;
  const seconds = config.quick ? 1 : 10;
  const targets = await availableTargets(config);

  const runs: PropagationRun[] = [];
  const ramp: PropagationRun[] = [];
  try {
    await Promise.all(targets.map((target) => target.start()));
    for (const readers of readerCounts) {
      for (const target of targets) {
        config.log(`propagation: ${target.name}, ${readers} readers, ${rate} writes/s`);
        runs.push(await measureRun(target, readers, rate, seconds));
      }
    }
    if (!config.quick) ramp.push(...(await rampAt200(targets, config)));
  } finally {
    await Promise.allSettled(targets.map((target) => target.stop()));
  }

  const sustained = sustainedAt200([...runs, ...ramp]);
  return {
    id: 'propagation',
    title: `Propagation: 1 writer, N readers on one session, ${rate} writes/s for ${seconds} s`,
    headers: [
      'system',
      'readers',
      'writes/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'deliveries/s',
      'missing',
    ],
    rows: [...runs, ...ramp].map((run) => [
      run.target,
      String(run.readers),
      String(run.writesPerSecond),
      formatNumber(run.latencyMs.p50),
      formatNumber(run.latencyMs.p95),
      formatNumber(run.latencyMs.p99),
      formatNumber(run.latencyMs.max),
      formatNumber(run.deliveriesPerSecond),
      String(run.missing),
    ]),
    notes: [
      'Latency: from sending the write to the reader having parsed it, both in the load generator process.',
      'Servers run in child processes; readers and the writer share the load generator process.',
      ...[...runs, ...ramp]
        .filter((run) => run.writeErrors > 0)
        .map(
          (run) =>
            `${run.target}, ${run.readers} readers at ${run.writesPerSecond}/s: ${run.writeErrors} write(s) failed, first: ${run.firstWriteError}.`,
        ),
      ...(ramp.length
        ? [
            `Rows above ${rate} writes/s: a ramp at 200 readers until p99 > ${CEILING_P99_MS} ms or deliveries fall behind.`,
            `Most deliveries/s sustained at 200 readers with p99 <= ${CEILING_P99_MS} ms: ${
              Object.entries(sustained)
                .map(([name, perSecond]) => `${name} ${formatNumber(perSecond)}`)
                .join('; ') || 'none'
            }.`,
          ]
        : []),
    ],
    targets: propagationTargets(runs),
    data: { rate, seconds, runs, ramp, sustainedAt200: sustained },
  };
}

/**
 * Ramps the write rate at 200 readers, the targets interleaved at each step so that drift on
 * the machine hits them alike; a target leaves the ramp at its first step that misses the bar.
 */
async function rampAt200(
  targets: PropagationTarget[],
  config: BenchConfig,
): Promise<PropagationRun[]> {
  const steps: PropagationRun[] = [];
  let climbing = [...targets];
  for (const rate of [100, 200, 400, 800, 1600]) {
    const held: PropagationTarget[] = [];
    for (const target of climbing) {
      config.log(`propagation ramp: ${target.name}, 200 readers, ${rate} writes/s`);
      const run = await measureRun(target, 200, rate, 3);
      steps.push(run);
      if (holds(run)) held.push(target);
    }
    climbing = held;
  }
  return steps;
}

const holds = (run: PropagationRun) => run.latencyMs.p99 <= CEILING_P99_MS && run.missing === 0;

/** Per target, the most deliveries/s any 200-reader run sustained with p99 within the bar. */
function sustainedAt200(runs: PropagationRun[]): Record<string, number> {
  const best: Record<string, number> = {};
  for (const run of runs) {
    if (run.readers !== 200 || !holds(run)) continue;
    best[run.target] = Math.max(best[run.target] ?? 0, run.deliveriesPerSecond);
  }
  return best;
}

function propagationTargets(runs: PropagationRun[]): TargetCheck[] {
  const at200 = (name: string) => runs.find((run) => run.target === name && run.readers === 200);
  const sse = at200('session-sync SSE');
  const yjs = at200('Yjs + y-websocket');
  const checks: TargetCheck[] = [];
  if (sse) {
    checks.push({
      target: 'p50 propagation at N=200 under 5 ms (SSE)',
      figure: `${formatNumber(sse.latencyMs.p50)} ms`,
      met: sse.missing === 0 && sse.latencyMs.p50 < 5,
    });
  }
  if (sse && yjs) {
    checks.push({
      target: 'p99 propagation at N=200 no worse than y-websocket (SSE)',
      figure: `${formatNumber(sse.latencyMs.p99)} ms vs ${formatNumber(yjs.latencyMs.p99)} ms`,
      met: sse.missing === 0 && sse.latencyMs.p99 <= yjs.latencyMs.p99,
    });
  }
  return checks;
}
