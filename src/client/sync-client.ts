/**
 * `SyncClient`: one client of one session, without any DOM element. It creates or joins a
 * session, keeps `state` in step with the server, and sends local writes safely.
 *
 * The model: `state` is always the last state the server confirmed with the pending local
 * writes applied on top (see `WriteQueue`). Remote changes move the confirmed state; writes
 * are sent one at a time with `If-Match`, and a `412` only means "catch up, then send again".
 */
import { applyMergePatch } from '../merge-patch.js';
import {
  KEY_PATTERN,
  MERGE_PATCH_TYPE,
  versionTag,
  type Change,
  type ChangesResponse,
  type Json,
  type Peer,
  type ResetResponse,
  type SessionCreated,
  type SessionView,
  type WriteAck,
} from '../protocol.js';
import { Backoff } from './backoff.js';
import type { SyncChangeDetail, SyncReadyDetail, SyncStatus } from './client-events.js';
import { isOffline, noop, SessionConnection } from './connection.js';
import { SyncError } from './errors.js';
import { diffStates } from './state-diff.js';
import { WriteQueue } from './write-queue.js';

// What users of the client alone (`session-sync/client`) need beside the class.
export { SyncError } from './errors.js';
export { SYNC_CLIENT_DEFAULTS } from './options.js';
export type { SyncClientOptions, TransportMode } from './options.js';
export type { ErrorCode, Json, Peer } from '../protocol.js';
export type {
  SyncChangeDetail,
  SyncClientEventMap,
  SyncReadyDetail,
  SyncStatus,
} from './client-events.js';

/**
 * A client of one session at a time.
 *
 * @example
 * const client = new SyncClient({ endpoint: 'https://sync.example.com' });
 * client.on('change', ({ state }) => render(state));
 * const { key } = await client.start({ board: [] });
 * await client.update({ board: ['x'] });
 */
export class SyncClient extends SessionConnection {
  /** The shared state: the server's last confirmed state with pending local writes on top. */
  state: Json = null;
  /** The last state the server confirmed, at `version`. */
  private _confirmed: Json = null;
  private _queue = new WriteQueue();
  private _pumping = false;
  protected _wake = noop;
  private _recovering?: Promise<void>;

  /**
   * Creates a session on the server and joins it with its write token.
   * @param initialState - the state to start from; default `{}`
   */
  async start(initialState: Json = {}): Promise<SyncReadyDetail> {
    const generation = this._reset('connecting');
    try {
      const response = await this._request('POST', this._base + 'sessions', {
        state: initialState,
      });
      const created: SessionCreated = await response.json();
      this._check(generation);
      this.token = created.writeToken;
      return this._begin(created.key, created, []);
    } catch (error) {
      throw this._fail(error, generation);
    }
  }

  /**
   * Joins a session by its key. Without a token the client is a viewer: it follows the
   * state, and its writes are refused with `forbidden`.
   */
  async join(key: string, token?: string): Promise<SyncReadyDetail> {
    const generation = this._reset('connecting');
    try {
      if (!KEY_PATTERN.test(key)) throw new SyncError('bad-request', `Not a session key: "${key}"`);
      this.token = token || undefined;
      const response = await this._request('GET', this._base + 'sessions/' + key);
      const view: SessionView = await response.json();
      this._check(generation);
      return this._begin(key, view, view.peers);
    } catch (error) {
      throw this._fail(error, generation);
    }
  }

  /** Leaves the session. Writes not yet sent are refused with `unavailable`. */
  async leave(): Promise<void> {
    const url = this.key && this._url('presence/' + this.clientId);
    this._reset('idle');
    if (url) await this._request('DELETE', url).catch(noop);
  }

  /**
   * Applies an RFC 7396 merge patch to `state` at once and sends it to the server. Writes made
   * while offline or while another is in flight are queued and coalesced, never dropped.
   *
   * @returns the version at which the server accepted the write
   * @example client.update({ players: { o: 'Ada' }, winner: null })
   */
  update(patch: Json): Promise<number> {
    return this._write(patch, false);
  }

  /** Replaces the whole state (a `PUT`). @returns the version of the accepted write */
  replace(state: Json): Promise<number> {
    return this._write(state, true);
  }

  private _write(body: Json, replace: boolean): Promise<number> {
    if (!this.canWrite || this.status == 'error' || JSON.stringify(body) === undefined) {
      const error = !this.key
        ? new SyncError('forbidden', 'No session yet: start() or join() one first')
        : !this.token
          ? new SyncError('forbidden', 'This session is view-only here: writing needs its token')
          : this.status == 'error'
            ? new SyncError('unavailable', 'This session has failed: join it again')
            : new SyncError('bad-request', 'A write must be a JSON value');
      this._emit('error', error);
      return Promise.reject(error);
    }
    const accepted = this._queue.add(body, replace);
    this._refresh('local');
    this._pump();
    return accepted;
  }

  /** Sends queued writes one at a time until none is left or the network is gone. */
  protected async _pump(): Promise<void> {
    if (this._pumping) return;
    this._pumping = true;
    const generation = this._generation;
    const backoff = new Backoff(this.options.retryBaseDelayMs, this.options.retryMaxDelayMs);
    let stale = false;
    let write;
    while (generation == this._generation && !isOffline() && (write = this._queue.head())) {
      try {
        if (stale) await this._catchUpNow();
        stale = false;
        const response = await this._request(
          write.replace ? 'PUT' : 'PATCH',
          this._url(''),
          write.body,
          {
            'Content-Type': write.replace ? 'application/json' : MERGE_PATCH_TYPE,
            'If-Match': versionTag(this.version),
          },
        );
        const ack: WriteAck = await response.json();
        // The echo of the change on the stream may have settled the write already.
        if (generation == this._generation && this._queue._items[0] == write) {
          if (ack.version > this.version) {
            this._confirmed = write.replace
              ? write.body
              : applyMergePatch(this._confirmed, write.body);
            this.version = ack.version;
            this._moves++;
          }
          this._queue.settle(ack.version);
        }
        backoff.reset();
      } catch (error) {
        if (!(error instanceof SyncError) || generation != this._generation) break;
        if (error.code == 'version-conflict') {
          stale = true;
        } else if (error.status == 404) {
          await this._recover();
        } else if (error.transient) {
          await new Promise((wake) => {
            this._wake = wake as () => void;
            setTimeout(wake, backoff.next(error.retryAfterMs));
          });
        } else {
          // Refused for good: take the write back and say why. A refused token refuses the rest.
          this._queue.settle(error);
          if (error.status == 401 || error.status == 403) {
            this.token = undefined;
            this._queue.clear(error);
          }
          this._refresh('remote');
          this._emit('error', error);
        }
      }
    }
    this._pumping = false;
  }

  /** The server no longer knows the session: re-create it if we can, else give up. */
  protected _recover(): Promise<void> {
    if (!this.token) {
      // A viewer cannot restore it, but a writer may be about to: keep asking, slowly.
      this._retry(new SyncError('session-not-found', 'The server does not know this session', 404));
      return Promise.resolve();
    }
    return (this._recovering ??= this._recreate().finally(() => (this._recovering = undefined)));
  }

  private async _recreate(): Promise<void> {
    const generation = this._generation;
    this._disconnect();
    try {
      // `If-Match: "0"`: should another writer have re-created it first (versions start at 0
      // again) and written since, the server answers 412 and we take its state instead.
      const response = await this._request('PUT', this._url(''), this._confirmed, {
        'Content-Type': 'application/json',
        'If-Match': versionTag(0),
      });
      const body: SessionCreated | WriteAck = await response.json();
      if (generation != this._generation) return;
      this.version = body.version;
      this._moves++;
      if ('state' in body) this._confirmed = body.state;
      this._refresh('remote');
      this._emit('ready', this._ready(true));
      this._connect(false);
    } catch (error) {
      if (generation != this._generation) return;
      if (!(error instanceof SyncError) || !(error.transient || error.status == 412)) {
        this._halt(error as SyncError);
      } else this._retry(error.status == 412 ? undefined : error);
    }
  }

  /** @internal */
  _snapshot(
    { version, state, peers }: { version: number; state: Json; peers?: Peer[] },
    movesAtRequest: number,
  ): void {
    if (peers) this._peers(peers);
    // A whole state is the server's word even at a lower version (a session the server lost
    // and a writer re-created counts from 0 again), unless the version moved on while it was
    // on its way: then it is merely late.
    if (version < this.version && movesAtRequest != this._moves) return;
    this._confirmed = state;
    this.version = version;
    this._moves++;
    this._refresh('remote');
  }

  /** @internal */
  _catchUp(data: ChangesResponse | ResetResponse, movesAtRequest: number): void {
    'reset' in data ? this._snapshot(data, movesAtRequest) : this._changes(data.changes);
  }

  /** @internal */
  _changes(changes: Change[]): void {
    for (const change of changes) {
      if (change.version <= this.version) continue;
      if (change.version > this.version + 1) {
        // A gap: never guess, ask for what was missed.
        this._catchUpNow().catch(noop);
        break;
      }
      this._confirmed = change.replace
        ? change.patch
        : applyMergePatch(this._confirmed, change.patch);
      this.version = change.version;
      this._moves++;
      if (change.by == this.clientId && this._queue._items[0]?.sent) {
        this._queue.settle(change.version);
      }
    }
    this._refresh('remote');
  }

  private async _catchUpNow(): Promise<void> {
    const moves = this._moves;
    const response = await this._get(`changes?since=${this.version}`);
    this._catchUp(await response.json(), moves);
  }

  private _begin(key: string, at: { version: number; state: Json }, peers: Peer[]) {
    this.key = key;
    this.version = at.version;
    this._confirmed = this.state = at.state;
    this.peers = peers;
    this._transport = this._firstTransport();
    this._watchWindow(true);
    this._connect(false);
    this._announce();
    const ready = this._ready(false);
    this._emit('ready', ready);
    return ready;
  }

  private _ready(recovered: boolean): SyncReadyDetail {
    const { key, version, state, canWrite } = this;
    return { key: key!, version, state, canWrite, recovered };
  }

  /** Shows the confirmed state with pending writes on top, and tells what changed. */
  private _refresh(origin: SyncChangeDetail['origin']): void {
    const previous = this.state;
    this.state = this._queue.apply(this._confirmed);
    const patch = diffStates(previous, this.state);
    if (patch !== undefined) {
      this._emit('change', { state: this.state, version: this.version, patch, origin });
    }
  }

  /** Ends all activity of the current session and starts a new generation. */
  private _reset(status: SyncStatus): number {
    this._disconnect();
    clearTimeout(this._presenceTimer);
    this._watchWindow(false);
    this._queue.clear(
      new SyncError('unavailable', 'The session was left before this write was sent'),
    );
    this.key = this.token = undefined;
    this.version = 0;
    this._confirmed = this.state = null;
    this.peers = [];
    this._setStatus(status);
    return ++this._generation;
  }

  /** A failure nothing will repair by retrying: stop and say so. */
  protected _halt(error: SyncError): void {
    this._disconnect();
    clearTimeout(this._presenceTimer);
    this._queue.clear(error);
    this._refresh('remote');
    this._setStatus('error', error);
  }

  /** Turns whatever `start`/`join` caught into a `SyncError` and reports it. */
  private _fail(error: unknown, generation: number): SyncError {
    const failure =
      error instanceof SyncError
        ? error
        : new SyncError('internal', String((error as Error)?.message ?? error));
    if (generation == this._generation) this._halt(failure);
    return failure;
  }

  private _check(generation: number): void {
    if (generation != this._generation) {
      throw new SyncError('unavailable', 'Another start(), join() or leave() came first');
    }
  }
}
