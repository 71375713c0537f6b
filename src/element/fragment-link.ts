/**
 * Sharing links. A session travels in the page URL's fragment (`#session=KEY&token=TOKEN`):
 * the fragment never reaches any server, so a write token in a link is not logged by the
 * page's host. Other parameters in the fragment are kept as they are.
 */

/** The session and token named in the current page's fragment, if any. */
export function readFragment(): { session?: string; token?: string } {
  const params = new URLSearchParams(location.hash.slice(1));
  return { session: params.get('session') ?? undefined, token: params.get('token') ?? undefined };
}

/** This page's URL with the session and token (each when given) in its fragment, or without. */
function withSession(session?: string, token?: string): string {
  const url = new URL(location.href);
  const params = new URLSearchParams(url.hash.slice(1));
  params.delete('session');
  params.delete('token');
  if (session) params.set('session', session);
  if (session && token) params.set('token', token);
  url.hash = params.toString();
  return url.href;
}

/**
 * A link to this page that joins the session: with write access when `token` is given.
 * @returns the link, or '' without a session
 */
export function linkTo(session?: string, token?: string): string {
  return session ? withSession(session, token) : '';
}

/** Puts the session into the address bar, or takes it out, without a navigation. */
export function writeFragment(session?: string, token?: string): void {
  const href = withSession(session, token);
  if (href != location.href) history.replaceState(history.state, '', href);
}
