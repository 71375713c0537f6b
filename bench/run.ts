/**
 * `npm run bench`: runs each measurement in turn, prints its table, and writes the same
 * figures as JSON to bench/results/latest.json. `--quick` is the CI variant (shorter runs,
 * smaller counts); `--only=propagation,memory` picks measurements; `--markdown` prints the
 * tables as Markdown for BENCHMARKS.md. A quick or partial run writes bench/results/scratch.json
 * instead, which git ignores, so latest.json keeps the full run BENCHMARKS.md records. Nothing
 * here asserts: the figures are for people to read and compare (BENCHMARKS.md says how).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { renderMarkdownTable, renderTable } from './lib/stats.js';
import type { BenchConfig, Measurement, Section } from './lib/section.js';

/** Loaded on demand, so `--only=load-cost` does not pay for loading Yjs and ws. */
const MEASUREMENTS: Record<string, () => Promise<Measurement>> = {
  propagation: async () => (await import('./propagation.js')).runPropagation,
  throughput: async () => (await import('./throughput.js')).runThroughput,
  'bytes-per-change': async () => (await import('./bytes-per-change.js')).runBytesPerChange,
  'load-cost': async () => (await import('./load-cost.js')).runLoadCost,
  memory: async () => (await import('./memory.js')).runMemory,
};

/** Where a run's JSON goes: the full run's file, or the scratch file of a quick or partial one. */
function resultsFile(quick: boolean, only: string[]): string {
  const full = !quick && only.length === Object.keys(MEASUREMENTS).length;
  return `bench/results/${full ? 'latest' : 'scratch'}.json`;
}

interface Args {
  quick: boolean;
  markdown: boolean;
  only: string[];
}

function parseArgs(argv: string[]): Args {
  // `npm run bench --quick` (without `--`) reaches us as npm_config_quick.
  let quick = process.env.npm_config_quick === 'true';
  let markdown = false;
  let only = Object.keys(MEASUREMENTS);
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--markdown') markdown = true;
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length).split(',');
    else
      throw new Error(
        `unknown argument ${arg}; use --quick, --markdown, --only=${Object.keys(MEASUREMENTS).join(',')}`,
      );
  }
  const unknown = only.filter((name) => !(name in MEASUREMENTS));
  if (unknown.length > 0) throw new Error(`unknown measurement ${unknown.join(', ')}`);
  return { quick, markdown, only };
}

function machine() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout (a published tarball): the commit stays unknown.
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    // Other work on the machine skews every figure; the load average says how much there was.
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
    commit,
  };
}

function print(section: Section, markdown: boolean): void {
  console.log(`\n## ${section.title}\n`);
  const render = markdown ? renderMarkdownTable : renderTable;
  console.log(render(section.headers, section.rows));
  if (markdown && section.notes.length > 0) console.log('');
  for (const note of section.notes) console.log(markdown ? `- ${note}` : `  ${note}`);
}

async function main(): Promise<void> {
  const { quick, markdown, only } = parseArgs(process.argv.slice(2));
  const config: BenchConfig = { quick, log: (message) => console.error(`… ${message}`) };
  const started = Date.now();
  const about = { ...machine(), mode: quick ? 'quick' : 'full' };
  console.log(
    `session-sync benchmarks (${about.mode}) on ${about.cpus} × ${about.cpuModel}, Node ${about.node}, ${about.date}, load average ${about.loadAverageAtStart.join(' ')}`,
  );
  if (about.loadAverageAtStart[0] > about.cpus / 2) {
    config.log('the machine is already busy: expect noisy latencies; compare rows of one run only');
  }

  const sections: Section[] = [];
  for (const name of only) {
    const measure = await MEASUREMENTS[name]();
    const section = await measure(config);
    sections.push(section);
    print(section, markdown);
  }

  const targets = sections.flatMap((section) => section.targets);
  if (targets.length > 0) {
    console.log('\n## Targets\n');
    const verdict = (met: boolean | null) =>
      met === null ? 'not measured' : met ? 'met' : 'MISSED';
    console.log(
      (markdown ? renderMarkdownTable : renderTable)(
        ['target', 'this run', 'verdict'],
        targets.map((t) => [t.target, t.figure, verdict(t.met)]),
      ),
    );
  }

  const seconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  const results = {
    machine: {
      ...about,
      loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100),
    },
    seconds,
    targets,
    ...Object.fromEntries(sections.map((section) => [section.id, section.data])),
  };
  const file = resultsFile(quick, only);
  writeFileSync(new URL(`../${file}`, import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\n${seconds} s; load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}; figures written to ${file}`,
  );
}

main().then(
  // Keep-alive sockets and timers of the clients must not hold the run open.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
