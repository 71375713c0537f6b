/**
 * session-sync for browsers and bundlers: the element class (not registered; import
 * `session-sync/define` for that), the framework-free client, and their types.
 */
export { SessionSync } from './element/session-sync.js';
export type { SessionSyncEventMap } from './element/events.js';
export { SyncClient } from './client/sync-client.js';
export type {
  SyncChangeDetail,
  SyncClientEventMap,
  SyncReadyDetail,
  SyncStatus,
} from './client/sync-client.js';
export { SYNC_CLIENT_DEFAULTS } from './client/options.js';
export type { SyncClientOptions, TransportMode } from './client/options.js';
export { SyncError } from './client/errors.js';
export { applyMergePatch } from './merge-patch.js';
export type { ErrorCode, Json, Peer } from './protocol.js';
