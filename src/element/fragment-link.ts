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

/**
 * This page's URL with the session (and token, when given) in its fragment.
 * @returns the link, or '' without a session
 */
export function linkTo(session?: string, token?: string): string {
  if (!session) return '';
  const url = new URL(location.href);
  const params = new URLSearchParams(url.hash.slice(1));
  params.set('session', session);
  token ? params.set('token', token) : params.delete('token');
  url.hash = params.toString();
  return url.href;
}

/** Puts the session into the address bar without a navigation or a history entry. */
export function writeFragment(session?: string, token?: string): void {
  const href = session ? linkTo(session, token) : location.href.replace(/#.*/, '');
  if (href != location.href) history.replaceState(history.state, '', href);
}
