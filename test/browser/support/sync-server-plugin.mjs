// A web-test-runner plugin that runs the real sync server beside the test page, on another
// origin, so every browser test goes through real sockets and real CORS.
//
// It starts two servers on 127.0.0.1 with free ports: a normal one, and one with
// `eventStreams: false` (like an API gateway that cannot stream). Tests import their URLs:
//
//   import { endpoint, noStreamEndpoint } from '/__sync-server.js';
//
// and act on the server side with `executeServerCommand` from '@web/test-runner-commands':
//   'sync-server:restart'  { server?: 'normal' | 'no-stream' }  drop every connection and listen
//                          again on the same port with the same store (open streams end);
//   'sync-server:forget'   { key, server? }  remove a session, as a recycled serverless instance
//                          that lost its memory would;
//   'sync-server:offline'  { forMs }  take the test page's network away (navigator.onLine turns
//                          false, requests fail) for that long, starting just after the command
//                          returns: an offline page could not send the command that ends it.
//
// The server is TypeScript: run the test runner under tsx (see the test:browser script).
import { startServer } from '../../../src/server/index.js';

const VIRTUAL_MODULE = '/__sync-server.js';
// Every test page comes from one address and starts many sessions: the abuse limits that
// protect a public server would throttle the suite, so these servers raise them.
const GENEROUS_LIMITS = {
  sessionsPerMinutePerAddress: 100_000,
  sessionBurstPerAddress: 100_000,
  writesPerSecondPerAddress: 100_000,
  writeBurstPerAddress: 100_000,
  presencePerSecondPerAddress: 100_000,
  presenceBurstPerAddress: 100_000,
  maxStreamsPerAddress: 100_000,
};
const SERVERS = { normal: {}, 'no-stream': { eventStreams: false } };

export function syncServerPlugin() {
  /** @type {Record<string, Awaited<ReturnType<typeof startServer>>>} */
  const running = {};
  const start = (name, port = 0, store = undefined) =>
    startServer({
      port,
      host: '127.0.0.1',
      log: false,
      ...GENEROUS_LIMITS,
      ...SERVERS[name],
      ...(store && { store }),
    });

  return {
    name: 'sync-server',

    async serverStart() {
      for (const name of Object.keys(SERVERS)) running[name] = await start(name);
    },

    async serverStop() {
      await Promise.all(Object.values(running).map((server) => server.close()));
    },

    serve(context) {
      if (context.path !== VIRTUAL_MODULE) return undefined;
      return [
        `export const endpoint = ${JSON.stringify(running.normal.url)};`,
        `export const noStreamEndpoint = ${JSON.stringify(running['no-stream'].url)};`,
      ].join('\n');
    },

    async executeCommand({ command, payload = {}, session }) {
      const name = payload.server ?? 'normal';
      switch (command) {
        case 'sync-server:restart': {
          const old = running[name];
          // The store outlives the server: closing a memory store only stops its sweep timer.
          await old.close();
          running[name] = await start(name, old.port, old.handler.store);
          return true;
        }
        case 'sync-server:forget':
          return running[name].handler.store.delete(payload.key);
        case 'sync-server:offline': {
          const page = session.browser.getPage(session.id);
          setTimeout(() => page.setOfflineMode(true), 50);
          setTimeout(() => page.setOfflineMode(false), 50 + payload.forMs);
          return true;
        }
        default:
          return undefined;
      }
    },
  };
}
