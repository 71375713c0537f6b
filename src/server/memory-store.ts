/**
 * The default store: sessions in this process's memory.
 *
 * Bounded by a number of sessions and a number of bytes (state, history and presence, as
 * UTF-8 JSON), it refuses with `StoreFullError` rather than growing until the process dies.
 * When a write would pass the byte bound it first drops that session's oldest history, which
 * readers can do without (they get a snapshot instead). Idle sessions and silent peers expire,
 * checked on access and by one unref'd sweep timer, so the timer never keeps a process alive.
 *
 * Everything here happens synchronously inside each call, which is what makes
 * `compareAndWrite` atomic in a single process. For several instances use a shared store.
 */
import type { Change, Json, Peer } from '../protocol.js';
import { utf8Length } from './body.js';
import { DEFAULT_OPTIONS } from './options.js';
import { StoreFullError } from './store.js';
import type {
  ChangesOutcome,
  NextWrite,
  SessionEvent,
  SessionListener,
  StoredSession,
  SyncStore,
  WriteOutcome,
} from './store.js';

export interface MemoryStoreOptions {
  /** A session nobody wrote to (or announced presence in) for this long is removed. */
  sessionTtlMs: number;
  /** Changes kept per session. */
  historyLimit: number;
  maxSessions: number;
  maxStoreBytes: number;
  /** How often expired sessions and peers are looked for. */
  sweepIntervalMs: number;
}

interface PeerEntry {
  data: Json;
  json: string;
  bytes: number;
  expiresAt: number;
}

interface Entry {
  session: StoredSession;
  stateBytes: number;
  history: { change: Change; bytes: number }[];
  peers: Map<string, PeerEntry>;
  /** State, history and presence bytes of this session. */
  bytes: number;
  expiresAt: number;
}

const jsonBytes = (value: unknown): number => utf8Length(JSON.stringify(value));

/** Sessions in memory; the store `createSyncHandler` uses unless given another. */
export class MemoryStore implements SyncStore {
  readonly options: MemoryStoreOptions;
  #entries = new Map<string, Entry>();
  #listeners = new Map<string, Set<SessionListener>>();
  #bytes = 0;
  #sweepTimer: ReturnType<typeof setInterval>;

  /** @param options - limits and TTLs; each defaults to the server's default */
  constructor(options: Partial<MemoryStoreOptions> = {}) {
    this.options = {
      sessionTtlMs: options.sessionTtlMs ?? DEFAULT_OPTIONS.sessionTtlMs,
      historyLimit: options.historyLimit ?? DEFAULT_OPTIONS.historyLimit,
      maxSessions: options.maxSessions ?? DEFAULT_OPTIONS.maxSessions,
      maxStoreBytes: options.maxStoreBytes ?? DEFAULT_OPTIONS.maxStoreBytes,
      sweepIntervalMs: options.sweepIntervalMs ?? DEFAULT_OPTIONS.sweepIntervalMs,
    };
    this.#sweepTimer = setInterval(() => this.#sweep(), this.options.sweepIntervalMs);
    (this.#sweepTimer as { unref?: () => void }).unref?.();
  }

  /** Bytes held now, as counted against `maxStoreBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  async create(session: StoredSession): Promise<boolean> {
    if (this.#live(session.key)) return false;
    if (this.#entries.size >= this.options.maxSessions) {
      this.#sweep();
      if (this.#entries.size >= this.options.maxSessions) {
        throw new StoreFullError(`The store holds its maximum of ${this.options.maxSessions}.`);
      }
    }
    const stateBytes = jsonBytes(session.state);
    if (this.#bytes + stateBytes > this.options.maxStoreBytes) {
      throw new StoreFullError('The store has no room for another session.');
    }

    this.#entries.set(session.key, {
      session: { ...session },
      stateBytes,
      history: [],
      peers: new Map(),
      bytes: stateBytes,
      expiresAt: Date.now() + this.options.sessionTtlMs,
    });
    this.#bytes += stateBytes;
    return true;
  }

  async get(key: string): Promise<StoredSession | undefined> {
    const entry = this.#live(key);
    return entry && { ...entry.session };
  }

  async compareAndWrite(key: string, expected: number, next: NextWrite): Promise<WriteOutcome> {
    const entry = this.#live(key);
    if (!entry) return { ok: false, reason: 'not-found' };
    if (entry.session.version !== expected) {
      return { ok: false, reason: 'conflict', version: entry.session.version };
    }

    const version = expected + 1;
    const change: Change = { version, ...next.change };
    const changeBytes = jsonBytes(change);
    const stateBytes = jsonBytes(next.state);
    let total = this.#bytes - entry.stateBytes + stateBytes + changeBytes;
    let dropped = 0;
    while (total > this.options.maxStoreBytes && dropped < entry.history.length) {
      total -= entry.history[dropped++]!.bytes;
    }
    if (total > this.options.maxStoreBytes) {
      throw new StoreFullError('The store has no room for this state.');
    }

    const removed = entry.history.splice(0, dropped);
    entry.history.push({ change, bytes: changeBytes });
    while (entry.history.length > this.options.historyLimit) removed.push(entry.history.shift()!);
    const removedBytes = removed.reduce((sum, item) => sum + item.bytes, 0);
    const delta = stateBytes - entry.stateBytes + changeBytes - removedBytes;
    entry.bytes += delta;
    this.#bytes += delta;
    entry.stateBytes = stateBytes;
    entry.session = { ...entry.session, version, state: next.state, updatedAt: next.updatedAt };
    entry.expiresAt = Date.now() + this.options.sessionTtlMs;

    this.#notify(key, { type: 'change', change });
    return { ok: true, version, updatedAt: next.updatedAt };
  }

  async changesSince(key: string, since: number): Promise<ChangesOutcome | undefined> {
    const entry = this.#live(key);
    if (!entry) return undefined;
    const { version, state } = entry.session;
    const oldest = entry.history[0]?.change.version ?? version + 1;
    // A reader ahead of the session (it was re-created) or behind the history starts over.
    if (since > version || since < oldest - 1) return { kind: 'reset', version, state };

    const changes = entry.history.slice(since - oldest + 1).map((item) => item.change);
    return { kind: 'changes', version, changes };
  }

  async delete(key: string): Promise<boolean> {
    if (!this.#live(key)) return false;
    this.#remove(key);
    return true;
  }

  async putPresence(key: string, clientId: string, data: Json, ttlMs: number) {
    const entry = this.#live(key);
    if (!entry) return undefined;
    const now = Date.now();
    const expired = this.#expirePeers(key, entry, now, false);

    const json = JSON.stringify(data);
    const bytes = utf8Length(json) + clientId.length;
    const previous = entry.peers.get(clientId);
    const delta = bytes - (previous?.bytes ?? 0);
    if (this.#bytes + delta > this.options.maxStoreBytes) {
      throw new StoreFullError('The store has no room for this peer.');
    }
    entry.peers.set(clientId, { data, json, bytes, expiresAt: now + ttlMs });
    entry.bytes += delta;
    this.#bytes += delta;
    // Someone is here, so the session is not idle.
    entry.expiresAt = Math.max(entry.expiresAt, now + this.options.sessionTtlMs);

    const peers = peerList(entry);
    if (expired || previous?.json !== json) this.#notify(key, { type: 'presence', peers });
    return peers;
  }

  async removePresence(key: string, clientId: string): Promise<Peer[] | undefined> {
    const entry = this.#live(key);
    if (!entry) return undefined;
    const peer = entry.peers.get(clientId);
    if (peer) {
      entry.peers.delete(clientId);
      entry.bytes -= peer.bytes;
      this.#bytes -= peer.bytes;
    }
    const peers = peerList(entry);
    if (peer) this.#notify(key, { type: 'presence', peers });
    return peers;
  }

  async peers(key: string): Promise<Peer[]> {
    const entry = this.#live(key);
    if (!entry) return [];
    this.#expirePeers(key, entry, Date.now(), true);
    return peerList(entry);
  }

  subscribe(key: string, listener: SessionListener): () => void {
    let listeners = this.#listeners.get(key);
    if (!listeners) this.#listeners.set(key, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(key) === listeners) {
        this.#listeners.delete(key);
      }
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
  }

  /** The entry when it exists and has not expired; an expired one is removed on the way. */
  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#remove(key);
      return undefined;
    }
    return entry;
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    this.#notify(key, { type: 'deleted' });
  }

  /** Drops the peers whose TTL passed; returns whether any did. */
  #expirePeers(key: string, entry: Entry, now: number, notify: boolean): boolean {
    let removed = false;
    for (const [clientId, peer] of entry.peers) {
      if (peer.expiresAt > now) continue;
      entry.peers.delete(clientId);
      entry.bytes -= peer.bytes;
      this.#bytes -= peer.bytes;
      removed = true;
    }
    if (removed && notify) this.#notify(key, { type: 'presence', peers: peerList(entry) });
    return removed;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#remove(key);
      else if (entry.peers.size > 0) this.#expirePeers(key, entry, now, true);
    }
  }

  #notify(key: string, event: SessionEvent): void {
    const listeners = this.#listeners.get(key);
    if (!listeners) return;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A failing subscriber must not fail the write that notified it.
      }
    }
  }
}

function peerList(entry: Entry): Peer[] {
  const peers: Peer[] = [];
  for (const [clientId, peer] of entry.peers) peers.push({ clientId, data: peer.data });
  return peers;
}
