/**
 * Oracle Cloud Functions and the Fn Project: the sync handler as an Fn function built on the
 * Node FDK (`@fnproject/fdk`), reached through OCI API Gateway.
 *
 * Fn starts the function with `FN_FORMAT=http-stream` and `FN_LISTENER=unix:/…/fn.sock`; the
 * FDK listens on that socket and receives every call as `POST /call`. For HTTP calls the
 * gateway's request travels in headers: `Fn-Http-Method`, `Fn-Http-Request-Url` (an absolute
 * URL from an Fn trigger, a path with its query from OCI API Gateway) and `Fn-Http-H-<name>`
 * per request header, with `Content-Type` also passed unprefixed. The answer goes back as
 * `Fn-Http-Status`, `Fn-Http-H-<name>` and the body.
 *
 * Fn buffers each answer, so event streams cannot work here: the defaults turn them off and
 * clients long-poll, each wait kept inside the call's `Fn-Deadline`.
 *
 * @example
 * ```js
 * // func.js, with `entrypoint: node func.js` in func.yaml
 * import { serveFn } from 'session-sync/server/fn';
 * serveFn();
 * ```
 */
import { createRequire } from 'node:module';
import { HttpProblem, problemResponse } from '../problems.js';
import {
  FUNCTION_DEFAULTS,
  handlerFromConfig,
  instanceHandler,
  readAdapterConfig,
} from './environment.js';
import type { AdapterOptions } from './environment.js';
import {
  forwardedUrl,
  HOP_BY_HOP_HEADERS,
  limitWaitToDeadline,
  methodHasBody,
  stripBasePath,
  withBasePathLocation,
} from './gateway.js';
import { loadRedisStore } from './redis-loader.js';

/** The part of the FDK's HTTP gateway context this adapter uses. */
export interface FnHttpGateway {
  readonly requestURL: string | null;
  readonly method: string | null;
  /** Request headers without their `Fn-Http-H-` prefix, each a list of values. */
  readonly headers: Record<string, string[]>;
  statusCode: number;
  setResponseHeader(name: string, ...values: string[]): void;
}

/** The part of the FDK's call context this adapter uses. */
export interface FnContext {
  readonly httpGateway: FnHttpGateway;
  /** From `Fn-Deadline`; null when the call has none. */
  readonly deadline: Date | null;
  getHeader(name: string): string | null;
}

/** What the function returns to the FDK: raw bytes, written as they are. */
export type FnResult = unknown;

/** The function handed to `fdk.handle`, taking the call body as a `Buffer`. */
export interface FnFunction {
  (body: Buffer, context: FnContext): Promise<FnResult>;
  /** Closes the sync handler and its store (a Redis connection, for one). */
  close(): Promise<void>;
}

interface FdkModule {
  handle(fn: FnFunction, options: { inputMode: 'buffer' }): () => void;
  rawResult(bytes: Buffer | string): FnResult;
}

const require = createRequire(import.meta.url);

/**
 * Builds the Fn function: it turns each gateway call into a `Request`, lets the sync handler
 * answer, and writes status, headers and body back through the FDK's gateway context.
 *
 * @param options - handler options, `basePath` (the deployment's path prefix) and `env`;
 *   unset ones come from the environment (`REDIS_URL`, `BASE_PATH`…)
 * @returns a function for `fdk.handle(fn, { inputMode: 'buffer' })`
 */
export function createFnFunction(options: AdapterOptions = {}): FnFunction {
  const fdk = require('@fnproject/fdk') as FdkModule;
  const config = readAdapterConfig(options, FUNCTION_DEFAULTS);
  const syncHandler = instanceHandler(() => handlerFromConfig(config, loadRedisStore));

  const fn = async (body: Buffer, context: FnContext) => {
    const request = requestFromCall(body, context, config.basePath);
    const response =
      request instanceof Response
        ? request
        : withBasePathLocation(await (await syncHandler.get())(request), config.basePath);
    return writeResponse(response, context.httpGateway, fdk);
  };
  return Object.assign(fn, { close: syncHandler.close });
}

/**
 * Starts serving: hands the function to the FDK, which listens on `FN_LISTENER`. Call it once,
 * from the function's entry file.
 *
 * @returns a function that stops listening and closes the store
 */
export function serveFn(options: AdapterOptions = {}): () => Promise<void> {
  const fdk = require('@fnproject/fdk') as FdkModule;
  const fn = createFnFunction(options);
  const stopListening = fdk.handle(fn, { inputMode: 'buffer' });
  return async () => {
    stopListening();
    await fn.close();
  };
}

/**
 * The gateway's request as a `Request`, or a problem response when the call did not come
 * through an HTTP gateway (`fn invoke` sends no method or URL).
 */
function requestFromCall(body: Buffer, context: FnContext, basePath: string): Request | Response {
  const gateway = context.httpGateway;
  const method = gateway.method?.toUpperCase();
  const target = gateway.requestURL;
  if (!method || !target) {
    return problemResponse(
      new HttpProblem(
        400,
        'bad-request',
        'This function answers HTTP requests; call it through OCI API Gateway or an Fn trigger.',
      ),
    );
  }

  const headers = new Headers();
  for (const [name, values] of Object.entries(gateway.headers)) {
    if (HOP_BY_HOP_HEADERS.has(name.toLowerCase())) continue;
    for (const value of values) headers.append(name, value);
  }
  // Newer Fn servers pass the request's Content-Type unprefixed, as the call's own.
  const callContentType = context.getHeader('Content-Type');
  if (!headers.has('Content-Type') && callContentType && body.length > 0) {
    headers.set('Content-Type', callContentType);
  }

  let url: URL;
  try {
    url = forwardedUrl(target, headers.get('Host'));
  } catch {
    return problemResponse(new HttpProblem(400, 'bad-request', 'The request URL is not valid.'));
  }
  url.pathname = stripBasePath(url.pathname, basePath);
  const deadline = context.deadline?.getTime();
  const remainingMs = Number.isFinite(deadline) ? deadline! - Date.now() : undefined;
  limitWaitToDeadline(url, remainingMs, FUNCTION_DEFAULTS.deadlineMarginMs);

  return new Request(url, {
    method,
    headers,
    body: methodHasBody(method) && body.length > 0 ? new Uint8Array(body) : undefined,
  });
}

async function writeResponse(
  response: Response,
  gateway: FnHttpGateway,
  fdk: FdkModule,
): Promise<FnResult> {
  const bytes = Buffer.from(await response.arrayBuffer());

  gateway.statusCode = response.status;
  response.headers.forEach((value, name) => {
    // Fn sets Content-Length itself from the buffered body.
    if (name === 'content-length' || HOP_BY_HOP_HEADERS.has(name)) return;
    gateway.setResponseHeader(name, value);
  });
  // The FDK labels every answer application/json unless told otherwise; a bodiless answer
  // (204, 304) keeps that label, which clients ignore when there is no body.
  if (!response.headers.has('Content-Type') && bytes.length > 0) {
    gateway.setResponseHeader('Content-Type', 'application/octet-stream');
  }
  // A raw result: returning a string or null would make the FDK JSON-encode it or fail.
  return fdk.rawResult(bytes);
}
