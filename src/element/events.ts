/**
 * The events of `<session-sync>`, typed for TypeScript users. All of them bubble and are
 * composed, so a page can listen on `document` even when the element sits in a shadow root.
 *
 * `error` carries a `SyncError` as its `detail`. It cannot join `HTMLElementEventMap`, where
 * `error` is already the platform's `ErrorEvent`; the element's own `addEventListener`
 * signature types it instead.
 */
import type { SyncError } from '../client/errors.js';
import type { SyncChangeDetail, SyncReadyDetail, SyncStatus } from '../client/sync-client.js';
import type { Peer } from '../protocol.js';

export interface SessionSyncEventMap {
  /** Joined or started a session (again, with `recovered`, after the server lost it). */
  'session-sync-ready': CustomEvent<SyncReadyDetail>;
  /** The state changed, by a local write (shown at once) or a remote one. */
  'session-sync-change': CustomEvent<SyncChangeDetail>;
  'session-sync-status': CustomEvent<{ status: SyncStatus }>;
  /** Who is here changed. */
  'session-sync-presence': CustomEvent<{ peers: Peer[] }>;
  /** Something failed; `detail.code` says what. */
  error: CustomEvent<SyncError>;
}

/** Dispatches one of the element's events: bubbling and composed, like all of them. */
export function dispatchSyncEvent(target: EventTarget, type: string, detail: unknown): void {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementEventMap extends Omit<SessionSyncEventMap, 'error'> {}
}
