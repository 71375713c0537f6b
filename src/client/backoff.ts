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
   * The next delay: uniform in [0, min(maxMs, baseMs * 2^attempt)], and never shorter than
   * what the server asked for with `Retry-After`.
   *
   * @param retryAfterMs - the server's `Retry-After`, in milliseconds
   * @returns milliseconds to wait
   */
  next(retryAfterMs = 0): number {
    const cap = Math.min(this._maxMs, this._baseMs * 2 ** this._attempt++);
    return Math.max(retryAfterMs, Math.random() * cap);
  }

  /** Starts over after a success. */
  reset(): void {
    this._attempt = 0;
  }
}
