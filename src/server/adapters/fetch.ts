/**
 * The sync handler as a module with a `fetch` method: the shape Deno (`deno serve`) and Bun
 * (`bun run`) serve from a default export, as Cloudflare Workers do.
 *
 * These runtimes keep responses open, so event streams stay on. Settings come from the
 * environment as elsewhere (`REDIS_URL`, `ALLOW_ORIGIN`…): `process.env` on Bun and Deno 2,
 * `Deno.env` on older Deno (run with `--allow-env`), and any plain object of strings the
 * runtime passes as the second argument (a Worker's bindings).
 *
 * Cloudflare Workers cannot run it yet: a Worker ties every stream, timer and abort signal to
 * the request that made it, and the handler shares those between requests (a write wakes the
 * streams and long-polls of other requests). Run on workerd, the second request fails with
 * "Cannot perform I/O on behalf of a different request", so a Worker refuses to start with a
 * message saying so. What ends this limit: a store and stream hub living in a Durable Object
 * per session.
 *
 * @example
 * ```ts
 * // main.ts — deno serve main.ts, or bun run main.ts
 * export { default } from 'session-sync/server/fetch';
 * ```
 */
import { handlerFromConfig, instanceHandler, readAdapterConfig } from './environment.js';
import type { AdapterOptions, Environment, RedisStoreSettings } from './environment.js';
import type { SyncStore } from '../store.js';
import { clientBindings, stripBasePath, withBasePathLocation } from './gateway.js';

/** A module with a fetch method, as the runtimes above serve it. */
export interface FetchEntry {
  /**
   * Answers one request.
   * @param request - the request the runtime received
   * @param bindings - string settings, as a Worker's bindings are; Deno and Bun pass
   *   connection information here, which is ignored
   */
  fetch(request: Request, bindings?: unknown): Promise<Response>;
  /** Closes the sync handler and its store, for tests and orderly shutdowns. */
  close(): Promise<void>;
  /**
   * Read by Bun, which serves the default export with these options: seconds a connection may
   * stay silent. Bun's own default (10 s) is shorter than the 15 s event-stream heartbeat and
   * the long-poll wait, and would cut both. Other runtimes ignore it.
   */
  idleTimeout: number;
}

/** Longer than the heartbeat and the longest long-poll, within Bun's ceiling of 255 s. */
const IDLE_TIMEOUT_SECONDS = 60;

/**
 * Builds a fetch entry. The sync handler and its store are created on the first request, when
 * settings passed with requests are known, and kept for the life of the process.
 *
 * @param options - handler options, `basePath` and `env`; unset ones come from the environment
 * @throws Error from `fetch` on Cloudflare Workers, which cannot share state between requests
 */
export function createFetchEntry(options: AdapterOptions = {}): FetchEntry {
  let config: ReturnType<typeof readAdapterConfig> | undefined;
  const syncHandler = instanceHandler(() => handlerFromConfig(config!, loadRedisStoreUnbundled));

  return {
    async fetch(request, bindings) {
      refuseWorkers();
      config ??= readAdapterConfig({ env: runtimeEnvironment(bindings), ...options });
      const { basePath } = config;

      const url = new URL(request.url);
      const path = stripBasePath(url.pathname, basePath);
      let forwarded = request;
      if (path !== url.pathname) {
        url.pathname = path;
        forwarded = await withUrl(request, url);
      }
      const handler = await syncHandler.get();
      const response = await handler(forwarded, clientBindings(remoteAddress(request, bindings)));
      return withBasePathLocation(response, basePath);
    },
    close: syncHandler.close,
    idleTimeout: IDLE_TIMEOUT_SECONDS,
  };
}

const entry: FetchEntry = createFetchEntry();

/** The fetch entry configured from the environment alone. */
export default entry;

/** See the module comment: a Worker would fail on its second request, with less to go on. */
function refuseWorkers(): void {
  const agent = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent;
  if (agent === 'Cloudflare-Workers') {
    throw new Error(
      'session-sync: Cloudflare Workers cannot run the sync handler: a Worker cannot share ' +
        'streams and timers between requests. Run it on Deno, Bun, Node or a function host.',
    );
  }
}

/** The environment of whichever runtime this is, with string settings passed in on top. */
function runtimeEnvironment(bindings: unknown): Environment {
  const globals = globalThis as {
    process?: { env?: Environment };
    Deno?: { env?: { toObject(): Environment } };
  };
  const merged: Record<string, string | undefined> = {};
  try {
    Object.assign(merged, globals.process?.env, globals.Deno?.env?.toObject());
  } catch {
    // Deno without --allow-env refuses both: settings then come from options and bindings.
  }
  // Only a plain object's strings count as settings; Deno's connection info and Bun's server
  // object are not plain objects of strings, and pass through untouched.
  if (bindings && Object.getPrototypeOf(bindings) === Object.prototype) {
    for (const [name, value] of Object.entries(bindings)) {
      if (typeof value === 'string') merged[name] = value;
    }
  }
  return merged;
}

/**
 * The address of the connection a request came in on, where the runtime tells it: Deno passes
 * `{ remoteAddr }` with each request, Bun its server, which answers `requestIP(request)`.
 */
function remoteAddress(request: Request, bindings: unknown): string | undefined {
  const info = bindings as
    { remoteAddr?: { hostname?: unknown }; requestIP?: (request: Request) => unknown } | undefined;
  const deno = info?.remoteAddr?.hostname;
  if (typeof deno === 'string') return deno;
  if (typeof info?.requestIP === 'function') {
    const bun = info.requestIP(request) as { address?: unknown } | null;
    if (typeof bun?.address === 'string') return bun.address;
  }
  return undefined;
}

/**
 * The Redis store's module, named through a variable so that bundlers for edge runtimes leave
 * out a Redis client that needs TCP sockets. Deno and Bun, which run the package from its
 * files, load it when `REDIS_URL` is set.
 */
const REDIS_STORE_MODULE = '../redis-store.js';

async function loadRedisStoreUnbundled(settings: RedisStoreSettings): Promise<SyncStore> {
  let module: { RedisStore: new (settings: RedisStoreSettings) => SyncStore };
  try {
    module = await import(REDIS_STORE_MODULE);
  } catch (error) {
    throw new Error(
      'session-sync: REDIS_URL is set, but the Redis store cannot be loaded here (bundled ' +
        'without it?). Pass `store` to createFetchEntry instead.',
      { cause: error },
    );
  }
  return new module.RedisStore(
    Object.fromEntries(
      Object.entries(settings).filter(([, value]) => value !== undefined),
    ) as RedisStoreSettings,
  );
}

async function withUrl(request: Request, url: URL): Promise<Request> {
  const body =
    request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  return new Request(url, {
    method: request.method,
    headers: request.headers,
    body,
    signal: request.signal,
  });
}
