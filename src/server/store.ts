/**
 * The interface every session store implements (in-memory, Redis), and the errors a store may
 * raise. The HTTP handler talks only to this interface.
 *
 * Atomicity: `compareAndWrite` is the one write primitive. It succeeds only if the session is
 * still at `expectedVersion`, and then sets the new state, raises the version by exactly one,
 * appends the change to the history, refreshes the TTL and notifies subscribers, all as one
 * step: no other writer, in this process or another instance, can slip in between. The
 * handler reads, merges and retries around it.
 *
 * Notification: `subscribe` delivers events at most once and, across instances, possibly late
 * or out of order. Subscribers must check versions and repair gaps with `changesSince`; a store
 * that knows it may have missed events (a reconnect to Redis) says so with a `resync` event.
 */
import type { Change, Json, Peer } from '../protocol.js';

/** A session as a store holds it. */
export interface StoredSession {
  key: string;
  /** Hex SHA-256 of the write token; the token itself is never stored. */
  tokenHash: string;
  version: number;
  state: Json;
  /** Milliseconds since the epoch of the last accepted write (or of creation). */
  updatedAt: number;
}

/** What `compareAndWrite` stores besides the new state. */
export interface NextWrite {
  state: Json;
  /** The change as subscribers and `changesSince` will see it, without its version. */
  change: Omit<Change, 'version'>;
  updatedAt: number;
}

export type WriteOutcome =
  | { ok: true; version: number; updatedAt: number }
  /** The session moved on: `version` is where it is now. Nothing was written. */
  | { ok: false; reason: 'conflict'; version: number }
  | { ok: false; reason: 'not-found' };

export type ChangesOutcome =
  | { kind: 'changes'; version: number; changes: Change[] }
  /** The history no longer reaches back to the requested version. */
  | { kind: 'reset'; version: number; state: Json };

export type SessionEvent =
  | { type: 'change'; change: Change }
  | { type: 'presence'; peers: Peer[] }
  | { type: 'deleted' }
  /** Events may have been missed (for example while the store reconnected): re-read. */
  | { type: 'resync' }
  /** The store cannot be reached; streams should say so and wait for `resync`. */
  | { type: 'unavailable' };

export type SessionListener = (event: SessionEvent) => void;

export interface SyncStore {
  /** Stores a new session at version `session.version`. Returns false if the key is taken. */
  create(session: StoredSession): Promise<boolean>;

  get(key: string): Promise<StoredSession | undefined>;

  /** The one write primitive; see the module comment for what it guarantees. */
  compareAndWrite(key: string, expectedVersion: number, next: NextWrite): Promise<WriteOutcome>;

  /**
   * Changes after `since`, oldest first; undefined when the session does not exist. When the
   * history no longer reaches back to `since`, or `since` is beyond the session's version (the
   * session was deleted and re-created meanwhile), answers `reset` with the current state.
   */
  changesSince(key: string, since: number): Promise<ChangesOutcome | undefined>;

  /** Removes the session, its history and presence; subscribers get `deleted`. */
  delete(key: string): Promise<boolean>;

  /**
   * Adds or refreshes a peer for `ttlMs`. Returns the peers after the change, or undefined
   * when the session does not exist. Subscribers get `presence` when the list changed.
   */
  putPresence(
    key: string,
    clientId: string,
    data: Json,
    ttlMs: number,
  ): Promise<Peer[] | undefined>;

  /** Removes a peer. Returns the peers after the change, or undefined for an unknown session. */
  removePresence(key: string, clientId: string): Promise<Peer[] | undefined>;

  /** Live (unexpired) peers of a session, in the order they first announced themselves. */
  peers(key: string): Promise<Peer[]>;

  /**
   * Calls `listener` for every event of the session from now on. Registration is synchronous:
   * events of writes that complete after this returns are delivered (at most once).
   * @returns a function that ends the subscription
   */
  subscribe(key: string, listener: SessionListener): () => void;

  /** Releases timers and connections. */
  close(): Promise<void>;
}

/** The store has no room for another session or a larger state. Maps to 507 / 413. */
export class StoreFullError extends Error {
  override name = 'StoreFullError';
}

/**
 * The store cannot be reached right now. Maps to 503 with Retry-After. The write was not
 * confirmed: a command cut off in flight may still have been applied, so clients retry with
 * If-Match rather than assume nothing happened.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}
