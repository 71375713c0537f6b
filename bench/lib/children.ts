/**
 * Servers under test run in child processes, so the load generator (readers, writers) never
 * shares an event loop with the server it measures. A child speaks a tiny IPC protocol:
 * it sends `ready` with its URL, answers `memory` with a sample taken after a full GC, and
 * leaves on `stop`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Process memory in bytes, taken in the child right after `global.gc()`. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export type ParentMessage = { type: 'memory' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'memory'; sample: MemorySample }
  | { type: 'failed'; message: string };

export interface ServerChild {
  readonly url: string;
  readonly pid: number;
  memory(): Promise<MemorySample>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const running = new Set<ChildProcess>();

// A benchmark that throws must not leave servers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `bench/servers/<name>.ts` in a child process and waits for it to listen.
 * @param name file name under bench/servers, without extension
 * @param env extra environment for the child
 */
export async function startServerChild(
  name: string,
  env: Record<string, string> = {},
): Promise<ServerChild> {
  const entry = fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));
  // BENCH_PROFILE_DIR=dir writes a V8 CPU profile of every server child into dir on exit.
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...profile],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server child ${name} did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.url);
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`server child ${name} failed: ${message.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server child ${name} exited with ${code} before it was ready`));
    });
  });

  return {
    url,
    pid: child.pid ?? -1,
    memory: () => requestMemory(child),
    stop: () => stopChild(child),
  };
}

function requestMemory(child: ChildProcess): Promise<MemorySample> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('memory sample timed out')), 30_000);
    const onMessage = (message: ChildMessage) => {
      if (message.type !== 'memory') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message.sample);
    };
    child.on('message', onMessage);
    child.send({ type: 'memory' } satisfies ParentMessage);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send({ type: 'stop' } satisfies ParentMessage);
  });
}
