/**
 * The sync server in a child process of its own, for tests that must see it survive hostile
 * input and measure its memory. Run with `node --expose-gc --import tsx`; the options come as
 * JSON in argv[2]. It prints `{"url": ...}` on its first stdout line, and answers each IPC
 * message `"probe"` with its heap after a full collection and whether Object.prototype is as
 * it was at start.
 */
import { startServer } from '../../../src/server/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const prototypeAtStart = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
const server = await startServer({ port: 0, host: '127.0.0.1', log: false, ...options });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);

const collect = (globalThis as { gc?: () => void }).gc;

process.on('message', (message) => {
  if (message !== 'probe') return;
  collect?.();
  collect?.();
  const prototypeNow = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  process.send?.({
    heapUsed: process.memoryUsage().heapUsed,
    prototypeClean:
      prototypeNow === prototypeAtStart &&
      (Object.prototype as Record<string, unknown>).polluted === undefined,
  });
});

process.on('disconnect', () => {
  void server.close().then(() => process.exit(0));
});
