/**
 * The session-sync server: a fetch-style handler, a Node entry point, and the stores.
 */
export { createSyncHandler } from './handler.js';
export type { SyncHandler } from './handler.js';
export { createNodeListener, startServer } from './node.js';
export type { RunningServer } from './node.js';
export { MemoryStore } from './memory-store.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { DEFAULT_OPTIONS } from './options.js';
export type { LogSink, ServerOptions, SyncHandlerOptions } from './options.js';
export type { LogEntry, LogLevel } from './log.js';
export { HttpProblem } from './problems.js';
export { StoreFullError, StoreUnavailableError } from './store.js';
export type {
  ChangesOutcome,
  NextWrite,
  SessionEvent,
  SessionListener,
  StoredSession,
  SyncStore,
  WriteOutcome,
} from './store.js';
