/**
 * Delays between retries: exponential growth with full jitter, so a crowd of clients that lost
 * the server at the same moment does not come back at the same moment.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export class Backoff {
  private _attempt = 0;

  /**
   * @param baseMs - the cap of the first delay
   * @param maxMs - the cap no delay exceeds (unless the server asks for longer)
   */
  constructor(
    private _baseMs: number,
    private _maxMs: number,
  ) {}

  /**
   * The next delay: uniform in [0, cap] with cap = min(maxMs, baseMs * 2^attempt). When the
   * server asked for a wait with `Retry-After`, the delay is that wait plus a uniform share of
   * as long again (or of the cap, if longer): a server that tells every client "1 s" while it
   * restarts must not see them all return in the same millisecond.
   *
   * @param retryAfterMs - the server's `Retry-After`, in milliseconds
   * @returns milliseconds to wait, never shorter than `retryAfterMs`
   */
  next(retryAfterMs = 0): number {
    const cap = Math.min(this._maxMs, this._baseMs * 2 ** this._attempt++);
    if (retryAfterMs > 0) return retryAfterMs + Math.random() * Math.max(cap, retryAfterMs);
    return Math.random() * cap;
  }

  /** Starts over after a success. */
  reset(): void {
    this._attempt = 0;
  }
}
