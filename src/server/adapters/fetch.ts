/**
 * The sync handler as a module with a `fetch` method, the shape Deno (`deno serve`), Bun
 * (`bun run`) and Cloudflare Workers serve from a default export.
 *
 * These runtimes keep responses open, so event streams stay on. Settings come from the
 * environment as elsewhere (`REDIS_URL`, `SYNC_ALLOW_ORIGIN`…): `process.env` on Bun and Deno 2,
 * `Deno.env` on older Deno (run with `--allow-env`), and on Cloudflare the string bindings
 * (`vars`, secrets) the runtime passes with each request.
 *
 * @example
 * ```ts
 * // main.ts — deno serve main.ts, bun run main.ts, or the `main` of a Worker
 * export { default } from 'session-sync/server/fetch';
 * ```
 */
import { handlerFromConfig, instanceHandler, readAdapterConfig } from './environment.js';
import type { AdapterOptions, Environment } from './environment.js';
import { stripBasePath, withBasePathLocation } from './gateway.js';

/** A module with a fetch method, as the runtimes above serve it. */
export interface FetchEntry {
  /**
   * Answers one request.
   * @param request - the request the runtime received
   * @param bindings - on Cloudflare, the Worker's environment; other runtimes pass connection
   *   information here, which is ignored
   */
  fetch(request: Request, bindings?: unknown): Promise<Response>;
  /** Closes the sync handler and its store, for tests and orderly shutdowns. */
  close(): Promise<void>;
}

/**
 * Builds a fetch entry. The sync handler and its store are created on the first request, when
 * Cloudflare's bindings are known, and kept for the life of the isolate or process.
 *
 * @param options - handler options, `basePath` and `env`; unset ones come from the environment
 */
export function createFetchEntry(options: AdapterOptions = {}): FetchEntry {
  let config: ReturnType<typeof readAdapterConfig> | undefined;
  const syncHandler = instanceHandler(() => handlerFromConfig(config!));

  return {
    async fetch(request, bindings) {
      config ??= readAdapterConfig({ env: runtimeEnvironment(bindings), ...options });
      const { basePath } = config;

      const url = new URL(request.url);
      const path = stripBasePath(url.pathname, basePath);
      let forwarded = request;
      if (path !== url.pathname) {
        url.pathname = path;
        forwarded = await withUrl(request, url);
      }
      const response = await (await syncHandler.get())(forwarded);
      return withBasePathLocation(response, basePath);
    },
    close: syncHandler.close,
  };
}

const entry: FetchEntry = createFetchEntry();

/** The fetch entry configured from the environment alone. */
export default entry;

/** The environment of whichever runtime this is, with Cloudflare's string bindings on top. */
function runtimeEnvironment(bindings: unknown): Environment {
  const globals = globalThis as {
    process?: { env?: Environment };
    Deno?: { env?: { toObject(): Environment } };
  };
  const merged: Record<string, string | undefined> = { ...globals.process?.env };
  try {
    Object.assign(merged, globals.Deno?.env?.toObject());
  } catch {
    // Deno without --allow-env: settings then come from options and defaults alone.
  }
  // Only a plain object of strings can be a Worker's bindings; Deno's connection info and
  // Bun's server object are not, and pass through untouched.
  if (bindings && Object.getPrototypeOf(bindings) === Object.prototype) {
    for (const [name, value] of Object.entries(bindings)) {
      if (typeof value === 'string') merged[name] = value;
    }
  }
  return merged;
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
