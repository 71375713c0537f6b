/**
 * The sync server as one fetch-style function, `Request -> Response`, so the same code serves
 * Node, serverless functions and edge runtimes.
 *
 * Around the routes (built on Hono) this module adds what every response needs: CORS on
 * successes and errors alike, 405 with `Allow` for a known path and an unknown method, one
 * problem funnel for errors, and one log line per request.
 */
import { Hono } from 'hono';
import { getPath } from 'hono/utils/url';
import { applyCors, optionsResponse } from './cors.js';
import type { RouteContext } from './context.js';
import { jsonResponse } from './context.js';
import { EventHub } from './event-hub.js';
import { AbuseLimits } from './limits.js';
import { limitsMiddleware } from './limits-middleware.js';
import { registerLiveRoutes } from './live-routes.js';
import { Logger } from './log.js';
import { MemoryStore } from './memory-store.js';
import { resolveOptions } from './options.js';
import type { SyncHandlerOptions } from './options.js';
import { HttpProblem, problemResponse, toHttpProblem } from './problems.js';
import { registerSessionRoutes } from './session-routes.js';
import { ALREADY_SENT_HEADER } from './stream-sinks.js';
import type { SyncStore } from './store.js';

/** A fetch-style handler with its store, and a way to end its streams and timers. */
export interface SyncHandler {
  /**
   * @param env - the host's bindings, passed on to the routes; on Node, `@hono/node-server`
   *   passes `{ incoming, outgoing }`, from which the limits read the client's address
   */
  (request: Request, env?: unknown): Promise<Response>;
  /** The store the handler reads and writes. */
  readonly store: SyncStore;
  /** Ends open event streams and held long-polls, then closes the store. */
  close(): Promise<void>;
}

interface Route {
  /** The route's name in logs: a pattern, never a real key. */
  name: string;
  pattern: RegExp;
  allow: string;
}

const SEGMENT = '[^/]+';
const ROUTES: Route[] = [
  { name: '/healthz', pattern: /^\/healthz$/, allow: 'GET, HEAD, OPTIONS' },
  { name: '/sessions', pattern: /^\/sessions$/, allow: 'POST, OPTIONS' },
  {
    name: '/sessions/:key',
    pattern: new RegExp(`^/sessions/${SEGMENT}$`),
    allow: 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS',
  },
  {
    name: '/sessions/:key/changes',
    pattern: new RegExp(`^/sessions/${SEGMENT}/changes$`),
    allow: 'GET, OPTIONS',
  },
  {
    name: '/sessions/:key/events',
    pattern: new RegExp(`^/sessions/${SEGMENT}/events$`),
    allow: 'GET, OPTIONS',
  },
  {
    name: '/sessions/:key/presence/:clientId',
    pattern: new RegExp(`^/sessions/${SEGMENT}/presence/${SEGMENT}$`),
    allow: 'PUT, DELETE, OPTIONS',
  },
];

function routeOf(pathname: string): Route | undefined {
  return ROUTES.find((route) => route.pattern.test(pathname));
}

/**
 * Creates the sync server's request handler.
 *
 * @param options - see `SyncHandlerOptions`; every option has a default
 * @returns a function from `Request` to `Response`, with its `store` and `close()`
 * @example
 * const handler = createSyncHandler({ allowOrigin: 'https://app.example.com' });
 * const response = await handler(new Request('http://localhost/sessions', { method: 'POST' }));
 */
export function createSyncHandler(options: Partial<SyncHandlerOptions> = {}): SyncHandler {
  const resolved = resolveOptions(options);
  const store =
    resolved.store ??
    new MemoryStore({
      sessionTtlMs: resolved.sessionTtlMs,
      historyLimit: resolved.historyLimit,
      maxSessions: resolved.maxSessions,
      maxStoreBytes: resolved.maxStoreBytes,
      sweepIntervalMs: resolved.sweepIntervalMs,
    });
  const logger = new Logger(resolved.log);
  const hub = new EventHub(store, logger, resolved.heartbeatMs, resolved.streamBufferMaxBytes);
  const closing = new AbortController();
  const context: RouteContext = {
    options: resolved,
    store,
    hub,
    logger,
    closing: closing.signal,
    heldRequests: new Set(),
  };

  const app = new Hono();
  app.use(limitsMiddleware(new AbuseLimits(resolved)));
  app.get('/healthz', () => jsonResponse({ status: 'ok' }));
  registerSessionRoutes(app, context);
  registerLiveRoutes(app, context);
  app.notFound(() => problemResponse(new HttpProblem(404, 'not-found', 'No such route.')));
  app.onError((error) => {
    if (toHttpProblem(error).status >= 500) logger.error(error);
    return problemResponse(error);
  });

  const handle = async (request: Request, env?: unknown): Promise<Response> => {
    const startedAt = performance.now();
    const route = routeOf(getPath(request));
    let response: Response;
    if (closing.signal.aborted) {
      response = problemResponse(
        new HttpProblem(503, 'unavailable', 'The server is shutting down.', {
          headers: { 'Retry-After': '1' },
        }),
      );
    } else if (route && request.method === 'OPTIONS') {
      response = optionsResponse(request, route.allow);
    } else if (route && !route.allow.split(', ').includes(request.method)) {
      const detail = `${request.method} is not allowed here; use ${route.allow}.`;
      response = problemResponse(
        new HttpProblem(405, 'method-not-allowed', detail, { headers: { Allow: route.allow } }),
      );
    } else {
      response = await app.fetch(request, env);
    }

    // A stream written straight to a Node response carried its CORS headers itself, and its
    // marker response is shared: leave it untouched.
    if (!response.headers.has(ALREADY_SENT_HEADER)) {
      applyCors(response.headers, request, resolved.allowOrigin);
    }
    logger.request(request.method, route?.name ?? 'unmatched', response.status, startedAt);
    return response;
  };

  let closed: Promise<void> | undefined;
  return Object.assign(handle, {
    store,
    close(): Promise<void> {
      closed ??= (async () => {
        closing.abort();
        for (const wake of context.heldRequests) wake();
        hub.close();
        await store.close();
      })();
      return closed;
    },
  });
}
