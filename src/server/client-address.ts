/**
 * Which client a request comes from, for the per-address limits.
 *
 * The address comes from the TCP connection when the host exposes it (the Node entry does:
 * `@hono/node-server` hands the handler its `IncomingMessage`). A header such as
 * `X-Forwarded-For` is read only when the operator names it in `trustProxyHeader`, because
 * anyone can send that header: trusting it without a proxy in front that overwrites it would
 * let every request pick its own address and escape the limits.
 *
 * Addresses are grouped the way providers hand them out: an IPv4 address counts alone, an
 * IPv6 address counts by its /64 prefix (one customer usually holds a whole /64, so limits per
 * single IPv6 address would be free to evade).
 */

/** The part of a host's environment this module reads. */
interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

/**
 * The client address of a request, or undefined when neither the connection nor a trusted
 * header tells it (per-address limits then do not apply; per-session limits still do).
 *
 * @param request - the incoming request
 * @param env - the host's bindings; on Node, `{ incoming, outgoing }`
 * @param trustProxyHeader - a header set by a proxy you run in front, or null
 * @returns the address grouped for limiting (an IPv6 address as its /64 prefix)
 * @example clientAddress(request, c.env, 'x-forwarded-for') // '203.0.113.7'
 */
export function clientAddress(
  request: Request,
  env: unknown,
  trustProxyHeader: string | null,
): string | undefined {
  if (trustProxyHeader) {
    const forwarded = fromProxyHeader(request.headers.get(trustProxyHeader));
    if (forwarded) return limitKeyOf(forwarded);
  }
  const fromSocket = (env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress;
  return fromSocket ? limitKeyOf(fromSocket) : undefined;
}

/**
 * The address a proxy recorded. In a comma-separated list (`X-Forwarded-For: a, b, c`) the
 * last entry is the one our own proxy appended; the ones before it came from the client and
 * prove nothing.
 */
function fromProxyHeader(value: string | null): string | undefined {
  if (!value) return undefined;
  const last = value.split(',').pop()!.trim();
  return last.length > 0 && last.length <= 64 ? last : undefined;
}

/** An address as limits count it: IPv4 alone, IPv6 by its /64, anything else as given. */
export function limitKeyOf(address: string): string {
  const bare = address.replace(/^\[|\](?::\d+)?$/g, '').replace(/%.*$/, '');
  const mappedIpv4 = bare.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i);
  if (mappedIpv4) return mappedIpv4[1]!;
  if (!bare.includes(':')) return bare;

  const groups = expandIpv6(bare);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : bare;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function expandIpv6(address: string): string[] | undefined {
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) return undefined;

  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;

  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return groups.map((group) => group.replace(/^0+(?=.)/, ''));
}
