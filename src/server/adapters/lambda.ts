/**
 * AWS Lambda: the sync handler behind API Gateway (REST APIs, payload format 1.0; HTTP APIs,
 * format 2.0) or a Lambda function URL (format 2.0).
 *
 * Lambda returns each answer whole, so event streams are off by default and clients long-poll,
 * each wait kept inside the time the invocation has left. Cookies are not forwarded: the
 * server authenticates by the `Authorization` header and never reads them.
 *
 * @example
 * ```js
 * // index.mjs, handler `index.handler`
 * export { handler } from 'session-sync/server/lambda';
 * ```
 */
import {
  FUNCTION_DEFAULTS,
  handlerFromConfig,
  instanceHandler,
  readAdapterConfig,
} from './environment.js';
import type { AdapterOptions } from './environment.js';
import {
  clientBindings,
  forwardedUrl,
  HOP_BY_HOP_HEADERS,
  isTextual,
  limitWaitToDeadline,
  methodHasBody,
  stripBasePath,
  withBasePathLocation,
} from './gateway.js';
import { loadRedisStore } from './redis-loader.js';

type Values<T> = Record<string, T | undefined> | null | undefined;

/** API Gateway REST API (and HTTP API with payload format 1.0) proxy event. */
export interface ApiGatewayProxyEvent {
  version?: '1.0';
  httpMethod: string;
  /** The resource path, without the stage of an `execute-api` URL. */
  path: string;
  headers?: Values<string>;
  multiValueHeaders?: Values<string[]>;
  queryStringParameters?: Values<string>;
  multiValueQueryStringParameters?: Values<string[]>;
  requestContext?: { domainName?: string; stage?: string; identity?: { sourceIp?: string } };
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** API Gateway HTTP API (payload format 2.0) and Lambda function URL event. */
export interface ApiGatewayV2Event {
  version: '2.0';
  /** The path as requested; on an HTTP API stage other than `$default` it starts with it. */
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers?: Values<string>;
  requestContext: {
    domainName?: string;
    stage?: string;
    http: { method: string; sourceIp?: string };
  };
  body?: string;
  isBase64Encoded?: boolean;
}

export type LambdaHttpEvent = ApiGatewayProxyEvent | ApiGatewayV2Event;

/** The proxy result both payload formats accept. */
export interface LambdaHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** The part of the Lambda context object this adapter uses. */
export interface LambdaContext {
  getRemainingTimeInMillis?(): number;
}

export interface LambdaHttpHandler {
  (event: LambdaHttpEvent, context?: LambdaContext): Promise<LambdaHttpResult>;
  /** Closes the sync handler and its store (a Redis connection, for one). */
  close(): Promise<void>;
}

/**
 * Builds a Lambda handler that answers API Gateway and function URL events with the sync
 * handler. The sync handler and its store are created on the first event and kept while the
 * instance lives.
 *
 * @param options - handler options, `basePath` (a custom domain's base path) and `env`; unset
 *   ones come from the environment (`REDIS_URL`, `BASE_PATH`…)
 * @throws TypeError from the returned handler when the event is not an HTTP event
 */
export function createLambdaHandler(options: AdapterOptions = {}): LambdaHttpHandler {
  const config = readAdapterConfig(options, FUNCTION_DEFAULTS);
  const syncHandler = instanceHandler(() => handlerFromConfig(config, loadRedisStore));

  const handle = async (event: LambdaHttpEvent, context?: LambdaContext) => {
    const remainingMs = context?.getRemainingTimeInMillis?.();
    const request = requestFromEvent(event, config.basePath, remainingMs);
    const response = await (await syncHandler.get())(request, clientBindings(sourceIp(event)));
    return resultFromResponse(withBasePathLocation(response, config.basePath));
  };
  return Object.assign(handle, { close: syncHandler.close });
}

let defaultHandler: LambdaHttpHandler | undefined;

/**
 * A handler configured from the environment alone, for `export { handler } from …`. It reads
 * the environment on its first event.
 */
export const handler: LambdaHttpHandler = Object.assign(
  (event: LambdaHttpEvent, context?: LambdaContext) => {
    defaultHandler ??= createLambdaHandler();
    return defaultHandler(event, context);
  },
  { close: async () => defaultHandler?.close() },
);

function requestFromEvent(
  event: LambdaHttpEvent,
  basePath: string,
  remainingMs: number | undefined,
): Request {
  const isV2 =
    event.version === '2.0' && 'requestContext' in event && 'http' in event.requestContext;
  if (!isV2 && typeof (event as ApiGatewayProxyEvent).httpMethod !== 'string') {
    throw new TypeError(
      'session-sync: expected an API Gateway or function URL event (payload format 1.0 or 2.0)',
    );
  }

  const headers = new Headers();
  let method: string;
  let url: URL;
  if (isV2) {
    const v2 = event as ApiGatewayV2Event;
    method = v2.requestContext.http.method.toUpperCase();
    copySingleValues(headers, v2.headers);
    url = forwardedUrl('/', hostOf(headers, v2.requestContext));
    url.pathname = withoutStage(v2.rawPath, v2.requestContext.stage);
    url.search = v2.rawQueryString;
  } else {
    const v1 = event as ApiGatewayProxyEvent;
    method = v1.httpMethod.toUpperCase();
    if (v1.multiValueHeaders) copyMultiValues(headers, v1.multiValueHeaders);
    else copySingleValues(headers, v1.headers);
    url = forwardedUrl('/', hostOf(headers, v1.requestContext));
    url.pathname = v1.path;
    url.search = queryOf(v1).toString();
  }
  headers.delete('Cookie');
  url.pathname = stripBasePath(url.pathname, basePath);
  limitWaitToDeadline(url, remainingMs, FUNCTION_DEFAULTS.deadlineMarginMs);

  const body =
    event.body && methodHasBody(method)
      ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
      : undefined;
  return new Request(url, { method, headers, body });
}

async function resultFromResponse(response: Response): Promise<LambdaHttpResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP_HEADERS.has(name)) headers[name] = value;
  });

  const bytes = Buffer.from(await response.arrayBuffer());
  const text = isTextual(response.headers.get('Content-Type'));
  return {
    statusCode: response.status,
    headers,
    body: bytes.toString(text ? 'utf8' : 'base64'),
    isBase64Encoded: !text,
  };
}

/** The client address API Gateway or the function URL saw; AWS sets it, not the client. */
function sourceIp(event: LambdaHttpEvent): string | undefined {
  return event.version === '2.0'
    ? (event as ApiGatewayV2Event).requestContext.http.sourceIp
    : (event as ApiGatewayProxyEvent).requestContext?.identity?.sourceIp;
}

function copySingleValues(headers: Headers, values: Values<string>): void {
  for (const [name, value] of Object.entries(values ?? {})) {
    if (value !== undefined && !HOP_BY_HOP_HEADERS.has(name.toLowerCase())) {
      headers.set(name, value);
    }
  }
}

function copyMultiValues(headers: Headers, values: Values<string[]>): void {
  for (const [name, list] of Object.entries(values ?? {})) {
    if (HOP_BY_HOP_HEADERS.has(name.toLowerCase())) continue;
    for (const value of list ?? []) headers.append(name, value);
  }
}

/** The query of a format 1.0 event; API Gateway hands it over decoded, so encode it again. */
function queryOf(event: ApiGatewayProxyEvent): URLSearchParams {
  const query = new URLSearchParams();
  if (event.multiValueQueryStringParameters) {
    for (const [name, list] of Object.entries(event.multiValueQueryStringParameters)) {
      for (const value of list ?? []) query.append(name, value);
    }
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) query.append(name, value);
    }
  }
  return query;
}

function hostOf(headers: Headers, context: { domainName?: string } | undefined): string {
  return headers.get('Host') ?? context?.domainName ?? 'localhost';
}

/** An HTTP API stage other than `$default` leads `rawPath` (`/prod/sessions`); drop it. */
function withoutStage(rawPath: string, stage: string | undefined): string {
  if (!stage || stage === '$default') return rawPath;
  return stripBasePath(rawPath, `/${stage}`);
}
