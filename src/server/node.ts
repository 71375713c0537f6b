/**
 * The sync handler as a Node HTTP server.
 */
import { createAdaptorServer, getRequestListener } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSyncHandler } from './handler.js';
import type { SyncHandler } from './handler.js';
import { Logger } from './log.js';
import { DEFAULT_OPTIONS } from './options.js';
import type { ServerOptions } from './options.js';
import { ALREADY_SENT, SOCKET_WRITES } from './stream-sinks.js';

/** A listening server. */
export interface RunningServer {
  /** Base URL to give clients, such as `http://127.0.0.1:8787`. */
  url: string;
  port: number;
  handler: SyncHandler;
  /** Stops listening, ends open streams and connections, and closes the store. */
  close(): Promise<void>;
}

/** Node's default is 30 s, which would let a slow sender outstay its time limit by as much. */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

/**
 * The binding that lets event streams write straight to the socket (see `stream-sinks.ts`).
 * The marker must be a plain platform `Response`: one made after `@hono/node-server` replaced
 * the global `Response` (it does so when a listener is created) carries a cached body the
 * adapter would write out, so the streams then keep to the web stream path.
 */
function directStreamBinding(socketWrites: boolean) {
  const marker = RESPONSE_ALREADY_SENT;
  const cached = Object.getOwnPropertySymbols(marker).some((key) => key.description === 'cache');
  if (cached) return undefined;
  return { [ALREADY_SENT]: marker, [SOCKET_WRITES]: socketWrites };
}

/**
 * The fetch callback for `@hono/node-server`, with the direct stream binding when possible.
 *
 * @param socketWrites - let streams write events to the socket under the response: only where
 *   nothing else wraps the response (see `NodeResponseSink`)
 */
function nodeFetch(handler: SyncHandler, socketWrites: boolean) {
  const directStreams = directStreamBinding(socketWrites);
  if (!directStreams) return handler;
  return (request: Request, env: object) => handler(request, { ...env, ...directStreams });
}

/**
 * Turns the handler into a `node:http` request listener, for mounting it in a Node server of
 * your own. Event streams then write straight to each response; under `startServer` they go
 * one step further, to the socket, which middleware of yours that wraps responses would miss.
 *
 * @param handler - from `createSyncHandler`
 * @returns a `(request, response)` listener for `http.createServer` or a route of your server
 * @example
 * const listener = createNodeListener(createSyncHandler());
 * http.createServer((req, res) => (req.url?.startsWith('/sessions') ? listener(req, res) : app(req, res)));
 */
export function createNodeListener(
  handler: SyncHandler,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  // Your server may wrap responses (compression...), so streams keep to the response here.
  return getRequestListener(nodeFetch(handler, false));
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the sync server on a port.
 *
 * @param options - handler options plus `port` (default 8787; 0 picks a free one) and `host`
 *   (default `127.0.0.1`; `0.0.0.0` to accept other machines)
 * @returns the running server once it listens
 * @example
 * const server = await startServer({ port: 0 });
 * console.info(server.url);
 * await server.close();
 */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const {
    port = DEFAULT_OPTIONS.port,
    host = DEFAULT_OPTIONS.host,
    headersTimeoutMs = DEFAULT_OPTIONS.headersTimeoutMs,
    requestTimeoutMs = DEFAULT_OPTIONS.requestTimeoutMs,
    ...handlerOptions
  } = options;
  const handler = createSyncHandler(handlerOptions);
  const logger = new Logger(handlerOptions.log);
  const server = createAdaptorServer({
    fetch: nodeFetch(handler, true),
    // Slow senders are cut off: Node answers 408 and closes when the headers or the whole
    // request take longer than these. It checks every CONNECTIONS_CHECK_INTERVAL_MS, so a
    // slow sender holds its connection at most that much longer.
    serverOptions: {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
    },
  }) as Server;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await handler.close();
    throw error;
  }

  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${actualPort}`;
  logger.lifecycle('listening', { url });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      logger.lifecycle('closing', { url });
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
      server.closeAllConnections();
      await stopped;
      logger.lifecycle('closed', { url });
    })();
    return closed;
  };
  return { url, port: actualPort, handler, close };
}
