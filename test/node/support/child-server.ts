/**
 * Starts `probed-server.ts` as a child process and talks to it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface Probe {
  heapUsed: number;
  prototypeClean: boolean;
}

export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** The child's heap after a full collection, and whether Object.prototype is untouched. */
  probe(): Promise<Probe>;
  /** Whether the child process is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./probed-server.ts', import.meta.url));

/** Starts the server in a child process with `options` and waits until it listens. */
export async function startChildServer(options: Record<string, unknown>): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  let exited = false;
  child.once('exit', () => (exited = true));

  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n')[0];
      if (output.includes('\n')) resolve((JSON.parse(line!) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });

  return {
    url,
    child,
    alive: () => !exited,
    async probe() {
      const answer = once(child, 'message') as Promise<[Probe]>;
      child.send('probe');
      return (await answer)[0];
    },
    async stop() {
      if (exited) return;
      const gone = once(child, 'exit');
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
