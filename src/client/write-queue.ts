/**
 * Local writes that the server has not acknowledged yet, in order.
 *
 * The state a client shows is always the last state the server confirmed with these writes
 * applied on top. When a remote change moves the confirmed state, the same writes are simply
 * applied again on the newer state: that is how concurrent edits of different keys both
 * survive. Writes queued behind the one in flight are coalesced, so a burst of edits (or an
 * hour offline) becomes one request, and no write is ever dropped.
 */
import { applyMergePatch, composeMergePatches } from '../merge-patch.js';
import type { Json } from '../protocol.js';
import type { SyncError } from './errors.js';

/** One write waiting to be sent, with the promises of every call coalesced into it. */
export interface PendingWrite {
  /** A merge patch, or the whole state when `replace` is true. */
  body: Json;
  replace: boolean;
  /** Set once the write was sent: its request may have been applied, so nothing joins it. */
  sent?: boolean;
  waiters: Array<[resolve: (version: number) => void, reject: (error: SyncError) => void]>;
}

export class WriteQueue {
  /** Oldest first; the head is the write in flight once `sent` is set. */
  _items: PendingWrite[] = [];

  /**
   * Adds a write, merging it into the last unsent write when one request can carry both.
   *
   * @returns a promise for the version at which the server accepted the write
   */
  add(body: Json, replace: boolean): Promise<number> {
    return new Promise((resolve, reject) => {
      const items = this._items;
      const waiters: PendingWrite['waiters'] = [[resolve, reject]];
      if (replace) {
        // A whole new state makes every unsent write before it moot; their callers still
        // learn when it lands.
        while (items.length && !items[items.length - 1].sent) {
          waiters.push(...items.pop()!.waiters);
        }
      } else {
        const last = items[items.length - 1];
        if (last && !last.sent) {
          const body2 = last.replace
            ? applyMergePatch(last.body, body)
            : composeMergePatches(last.body, body);
          if (body2 !== undefined) {
            last.body = body2;
            last.waiters.push(...waiters);
            return;
          }
        }
      }
      items.push({ body, replace, waiters });
    });
  }

  /** The confirmed state with every pending write applied: the state the user sees. */
  apply(confirmed: Json): Json {
    return this._items.reduce(
      (state, write) => (write.replace ? write.body : applyMergePatch(state, write.body)),
      confirmed,
    );
  }

  /** The write to send next, marked as sent. */
  head(): PendingWrite | undefined {
    const head = this._items[0];
    if (head) head.sent = true;
    return head;
  }

  /** Removes the head and settles its callers: accepted at `version`, or refused. */
  settle(outcome: number | SyncError): void {
    const write = this._items.shift();
    for (const [resolve, reject] of write?.waiters ?? []) {
      typeof outcome == 'number' ? resolve(outcome) : reject(outcome);
    }
  }

  /** Refuses every pending write, for a session that is left or can no longer be written. */
  clear(error: SyncError): void {
    while (this._items.length) this.settle(error);
  }
}
