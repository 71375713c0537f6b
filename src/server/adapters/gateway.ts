/**
 * Shaping requests and responses as they pass between an API gateway and the handler: the
 * gateway's path prefix, the call's deadline, and the `Location` the handler answers with.
 */

/**
 * Removes the gateway's path prefix: with `basePath` `/sync`, `/sync/sessions` becomes
 * `/sessions`. Paths outside the prefix are left as they are (the handler answers 404).
 */
export function stripBasePath(pathname: string, basePath: string): string {
  if (basePath === '') return pathname;
  if (pathname === basePath) return '/';
  if (pathname.startsWith(`${basePath}/`)) return pathname.slice(basePath.length);
  return pathname;
}

/**
 * Shortens the `wait` of a long-poll (`/changes?wait=S`) so the handler answers before the
 * host ends the call. A host that cuts a call answers the browser with a gateway error, which
 * the client would count as a failure; an early `304` is an ordinary "nothing new".
 *
 * @param url - the request URL, changed in place
 * @param remainingMs - time left before the host's deadline for this call, if known
 * @param marginMs - time kept back to build and send the answer
 */
export function limitWaitToDeadline(
  url: URL,
  remainingMs: number | undefined,
  marginMs: number,
): void {
  if (remainingMs === undefined || !Number.isFinite(remainingMs)) return;
  if (!url.pathname.endsWith('/changes')) return;
  const asked = Number(url.searchParams.get('wait'));
  if (!url.searchParams.has('wait') || !Number.isFinite(asked)) return;

  // Tenths of a second: the handler reads `wait` as seconds with up to three decimals.
  const allowedSeconds = Math.max(0, Math.floor((remainingMs - marginMs) / 100) / 10);
  if (asked > allowedSeconds) url.searchParams.set('wait', String(allowedSeconds));
}

/**
 * Puts the gateway's path prefix in front of a root-relative `Location`, so a client that
 * follows it stays behind the gateway.
 */
export function withBasePathLocation(response: Response, basePath: string): Response {
  const location = response.headers.get('Location');
  if (basePath === '' || location === null || !location.startsWith('/')) return response;

  const headers = new Headers(response.headers);
  headers.set('Location', basePath + location);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/** Headers that describe one hop of a connection and must not be copied across a gateway. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Methods whose requests carry no body; `Request` refuses one for them. */
export function methodHasBody(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/**
 * True when a response body is text the gateway can carry as a string; anything else goes
 * base64-encoded. Every body the handler writes is JSON, so this is the common case.
 */
export function isTextual(contentType: string | null): boolean {
  if (contentType === null) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/javascript' ||
    type === 'application/xml'
  );
}

/**
 * Bindings that tell the handler which address a request came from, in the shape the Node
 * entry passes them (`incoming.socket.remoteAddress`), so that per-address limits apply
 * behind a gateway too. Only addresses the host itself vouches for belong here, never one
 * read from a header the client could have written.
 */
export function clientBindings(address: string | undefined): object | undefined {
  return address ? { incoming: { socket: { remoteAddress: address } } } : undefined;
}

/**
 * The URL of a request a gateway forwarded: `target` is a path with its query (or a whole
 * URL), resolved against the `Host` the client sent. A `Host` that is not a valid host name
 * changes nothing the handler reads, so it falls back to `localhost` rather than failing.
 *
 * @throws TypeError when `target` itself is not a URL or a path
 */
export function forwardedUrl(target: string, host: string | null | undefined): URL {
  let base: URL;
  try {
    base = new URL(`https://${host ?? 'localhost'}`);
  } catch {
    base = new URL('https://localhost');
  }
  return new URL(target, base);
}
