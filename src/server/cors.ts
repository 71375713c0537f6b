/**
 * Cross-origin access, handled by the server itself so no gateway setting is needed.
 *
 * Any origin (or a configured list) may call; credentials are never allowed, because writing
 * is authorised by a bearer token in a header, never by a cookie.
 * https://fetch.spec.whatwg.org/#http-cors-protocol
 */
import { CLIENT_HEADER } from '../protocol.js';

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'If-Match',
  'If-None-Match',
  'Last-Event-ID',
  CLIENT_HEADER,
].join(', ');
const EXPOSED_HEADERS = 'ETag, Location, Retry-After, Allow, Accept-Patch';
const PREFLIGHT_MAX_AGE_SECONDS = '86400';

/** The origin to answer with, or undefined when this request's origin is not allowed. */
function allowedOrigin(
  allow: string | readonly string[],
  origin: string | null,
): string | undefined {
  if (allow === '*') return '*';
  if (!origin) return undefined;
  const list = typeof allow === 'string' ? [allow] : allow;
  return list.includes('*') ? '*' : list.includes(origin) ? origin : undefined;
}

/**
 * Adds the CORS response headers to any response, errors included, so that a browser page
 * can read a problem document as well as a success.
 */
export function applyCors(
  headers: Headers,
  request: Request,
  allow: string | readonly string[],
): void {
  const origin = allowedOrigin(allow, request.headers.get('Origin'));
  if (allow !== '*') headers.append('Vary', 'Origin');
  if (!origin) return;
  headers.set('Access-Control-Allow-Origin', origin);
  headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
}

/**
 * Answers `OPTIONS`: a CORS preflight when the browser asks for one, otherwise the plain
 * list of methods the route allows.
 */
export function optionsResponse(request: Request, allowOfRoute: string): Response {
  const headers = new Headers({ Allow: allowOfRoute });
  if (request.headers.has('Access-Control-Request-Method')) {
    headers.set('Access-Control-Allow-Methods', ALLOWED_METHODS);
    headers.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    headers.set('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS);
  }
  return new Response(null, { status: 204, headers });
}
