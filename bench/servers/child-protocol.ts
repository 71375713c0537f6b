/**
 * The child side of the IPC protocol in bench/lib/children.ts: report the URL once
 * listening, answer memory requests after a full GC, close on `stop`.
 */
import type { ChildMessage, MemorySample, ParentMessage } from '../lib/children.js';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Runs `start`, tells the parent where it listens, and serves its requests until `stop`. */
export async function serveAsChild(start: () => Promise<Listening>): Promise<void> {
  const send = (message: ChildMessage) => process.send?.(message);

  let listening: Listening;
  try {
    listening = await start();
  } catch (error) {
    send({
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exit(1);
  }

  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'memory') {
      send({ type: 'memory', sample: sampleMemory() });
    } else if (message.type === 'stop') {
      await Promise.race([listening.close(), new Promise((resolve) => setTimeout(resolve, 3000))]);
      process.exit(0);
    }
  });
  // The parent going away (even by a crash) ends the child too.
  process.on('disconnect', () => process.exit(0));

  send({ type: 'ready', url: listening.url });
}

function sampleMemory(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Two passes: the first may only schedule finalisers that free more on the second.
  gc?.();
  gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}
