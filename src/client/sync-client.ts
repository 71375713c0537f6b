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
  CLIENT_HEADER,
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
import { errorFromResponse, SyncError } from './errors.js';
import { SYNC_CLIENT_DEFAULTS, type ResolvedOptions, type SyncClientOptions } from './options.js';
import { diffStates } from './state-diff.js';
import { transports, type TransportHost, type TransportName } from './transports.js';
import { WriteQueue } from './write-queue.js';

// What users of the client alone (`session-sync/client`) need beside the class.
export { SyncError } from './errors.js';
export { SYNC_CLIENT_DEFAULTS } from './options.js';
export type { SyncClientOptions, TransportMode } from './options.js';
export type { ErrorCode, Json, Peer } from '../protocol.js';

export type SyncStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline' | 'error';

export interface SyncReadyDetail {
  key: string;
  version: number;
  state: Json;
  canWrite: boolean;
  /** True when the server had lost the session and this client re-created it. */
  recovered: boolean;
}

export interface SyncChangeDetail {
  state: Json;
  version: number;
  /** Merge patch from the previous state to `state`. */
  patch: Json;
  /** `local`: this client's own write, shown at once; `remote`: anything else. */
  origin: 'local' | 'remote';
}

export interface SyncClientEventMap {
  ready: SyncReadyDetail;
  change: SyncChangeDetail;
  status: { status: SyncStatus };
  presence: { peers: Peer[] };
  error: SyncError;
}

const noop = () => {};
const isOffline = () => globalThis.navigator?.onLine === false;
const WINDOW_EVENTS = ['online', 'offline', 'visibilitychange', 'pagehide'] as const;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

/**
 * A client of one session at a time.
 *
 * @example
 * const client = new SyncClient({ endpoint: 'https://sync.example.com' });
 * client.on('change', ({ state }) => render(state));
 * const { key } = await client.start({ board: [] });
 * await client.update({ board: ['x'] });
 */
export class SyncClient implements TransportHost {
  /** Sent as `Sync-Client` with writes, so the echo of our own change is recognised. */
  readonly clientId = randomId();
  /** The options in force; a changed transport applies at the next `reconnect()`. */
  readonly options: ResolvedOptions;
  key?: string;
  /** The write token; undefined for a viewer. */
  token?: string;
  version = 0;
  state: Json = null;
  status: SyncStatus = 'idle';
  peers: Peer[] = [];

  private _name?: string;
  private _base: string;
  private _fetch: typeof fetch;
  private _confirmed: Json = null;
  private _queue = new WriteQueue();
  private _backoff: Backoff;
  private _transport: TransportName = 'sse';
  private _failures = 0;
  /** @internal */
  _moves = 0;
  /** Bumped by every connection attempt, so a slower earlier attempt gives way. */
  private _connection = 0;
  private _stop?: () => void;
  private _timer?: ReturnType<typeof setTimeout>;
  private _presenceTimer?: ReturnType<typeof setTimeout>;
  private _pumping = false;
  private _wake = noop;
  private _recovering?: Promise<void>;
  /** Bumped by start, join and leave, so answers for a session left behind are ignored. */
  private _generation = 0;
  private _listeners: {
    [K in keyof SyncClientEventMap]?: Set<(d: SyncClientEventMap[K]) => void>;
  } = {};

  /** @throws TypeError when `endpoint` is not a URL (relative URLs need a document). */
  constructor(options: SyncClientOptions) {
    const base = new URL(String(options.endpoint), globalThis.document?.baseURI);
    base.search = base.hash = '';
    this._base = base.href.replace(/\/?$/, '/');
    this._fetch = options.fetch ?? fetch.bind(globalThis);
    this._name = options.name;
    this.options = { ...SYNC_CLIENT_DEFAULTS };
    for (const key of Object.keys(SYNC_CLIENT_DEFAULTS) as (keyof ResolvedOptions)[]) {
      if (options[key] !== undefined) (this.options as any)[key] = options[key];
    }
    this._backoff = new Backoff(this.options.retryBaseDelayMs, this.options.retryMaxDelayMs);
  }

  /** True when a session is held together with its write token. */
  get canWrite(): boolean {
    return !!(this.key && this.token);
  }

  /** The name peers see; setting it announces it at once. */
  get name(): string | undefined {
    return this._name;
  }
  set name(name: string | undefined) {
    this._name = name;
    if (this.key) this._announce();
  }

  /**
   * Listens to an event of the client.
   * @returns a function that stops listening
   */
  on<K extends keyof SyncClientEventMap>(
    type: K,
    listener: (detail: SyncClientEventMap[K]) => void,
  ): () => void {
    const set = ((this._listeners as any)[type] ??= new Set()) as Set<typeof listener>;
    set.add(listener);
    return () => set.delete(listener);
  }

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

  /** Drops the current connection and opens a new one at once. */
  reconnect(): void {
    if (!this.key || this.status == 'error') return;
    this._failures = 0;
    if (this.options.transport != 'auto') this._transport = this.options.transport;
    this._connect();
    this._pump();
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
  private async _pump(): Promise<void> {
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
  private _recover(): Promise<void> {
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

  // ---- what transports report (TransportHost) ----

  /** @internal */
  _url(path: string): string {
    return `${this._base}sessions/${this.key}${path && '/' + path}`;
  }

  /** @internal */
  _get(path: string, headers?: Record<string, string>, signal?: AbortSignal) {
    return this._request('GET', this._url(path), undefined, headers, signal);
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

  /** @internal */
  _peers(peers: Peer[]): void {
    this.peers = peers;
    this._emit('presence', { peers });
  }

  /** @internal */
  _live(): void {
    this._failures = 0;
    this._backoff.reset();
    this._setStatus('live');
  }

  /** @internal */
  _failed(error?: SyncError): void | Promise<void> {
    this._stop = undefined;
    if (error?.status == 404) return this._recover();
    if (error && !error.transient) return this._halt(error);
    // The server answers (or the stream could not say), yet this transport does not work (a
    // gateway that cannot stream or hold requests): step down to the next one. Going live
    // resets the count, and an unreachable server does not add to it.
    if (this.options.transport == 'auto' && (!error || error.status) && ++this._failures >= 2) {
      this._failures = 0;
      this._transport = this._transport == 'sse' ? 'long-poll' : 'poll';
    }
    this._retry(error);
  }

  // ---- internals ----

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
    for (const type of WINDOW_EVENTS) globalThis.addEventListener?.(type, this);
    this._connect(false);
    this._announce();
    const ready = this._ready(false);
    this._emit('ready', ready);
    return ready;
  }

  private _firstTransport(): TransportName {
    const { transport } = this.options;
    if (transport != 'auto') return transport;
    // Node and other runtimes without EventSource start one step down.
    return globalThis.EventSource ? 'sse' : 'long-poll';
  }

  private _ready(recovered: boolean): SyncReadyDetail {
    const { key, version, state, canWrite } = this;
    return { key: key!, version, state, canWrite, recovered };
  }

  /** Window events: `online`, `offline`, `visibilitychange`, `pagehide`. @internal */
  handleEvent(event: Event): void {
    if (event.type == 'offline') {
      this._disconnect();
      this._setStatus('offline');
    } else if (event.type == 'pagehide') {
      this._request(
        'DELETE',
        this._url('presence/' + this.clientId),
        undefined,
        {},
        undefined,
        true,
      ).catch(noop);
    } else if (event.type == 'online' || (this._transport == 'poll' && !document.hidden)) {
      // Back online, or a hidden tab that polled slowly is seen again: catch up now.
      this._wake();
      this.reconnect();
    }
  }

  /**
   * Opens the transport; first, unless the state was just read, re-reads the whole session.
   * Resuming from our version alone is not enough: a session the server lost and a writer
   * re-created counts from 0 again, so the same version may now hold another state.
   */
  private async _connect(reread = true): Promise<void> {
    this._disconnect();
    const attempt = this._connection;
    if (this.status != 'live') {
      this._setStatus(this.status == 'connecting' ? 'connecting' : 'reconnecting');
    }
    if (reread) {
      try {
        const moves = this._moves;
        const view: SessionView = await (await this._get('')).json();
        if (attempt != this._connection) return;
        this._snapshot(view, moves);
      } catch (error) {
        if (attempt == this._connection) this._failed(error as SyncError);
        return;
      }
    }
    this._stop = transports[this._transport](this, this.options);
  }

  /** Stops the transport, a pending reconnection and any connection attempt in progress. */
  private _disconnect(): void {
    this._stop?.();
    this._stop = undefined;
    clearTimeout(this._timer);
    this._connection++;
  }

  private _retry(error?: SyncError): void {
    this._disconnect();
    this._setStatus(isOffline() ? 'offline' : 'reconnecting', error);
    // Offline, the `online` event reconnects.
    if (!isOffline()) {
      this._timer = setTimeout(() => this._connect(), this._backoff.next(error?.retryAfterMs));
    }
  }

  private _announce(): void {
    clearTimeout(this._presenceTimer);
    const generation = this._generation;
    this._request('PUT', this._url('presence/' + this.clientId), { name: this._name ?? null })
      .then((response) => response.json())
      .then((data) => {
        const peers = Array.isArray(data) ? data : data?.peers;
        if (peers && generation == this._generation) this._peers(peers);
      })
      .catch(noop);
    this._presenceTimer = setTimeout(() => this._announce(), this.options.presenceIntervalMs);
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
    for (const type of WINDOW_EVENTS) globalThis.removeEventListener?.(type, this);
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
  private _halt(error: SyncError): void {
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

  private _setStatus(status: SyncStatus, error?: SyncError): void {
    // Errors are told once per outage, and every time for a fatal one.
    const changed = status != this.status;
    this.status = status;
    if (changed) this._emit('status', { status });
    if (error && (changed || status == 'error')) this._emit('error', error);
  }

  private _emit<K extends keyof SyncClientEventMap>(type: K, detail: SyncClientEventMap[K]): void {
    this._listeners[type]?.forEach((listener) => {
      try {
        listener(detail);
      } catch (error) {
        // A listener's bug must not stop the client; report it as the platform would.
        setTimeout(() => {
          throw error;
        });
      }
    });
  }

  private async _request(
    method: string,
    url: string,
    body?: Json,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
    keepalive?: boolean,
  ): Promise<Response> {
    if (this.token && method != 'GET') headers.Authorization = `Bearer ${this.token}`;
    if (method != 'GET') headers[CLIENT_HEADER] = this.clientId;
    if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    let response: Response;
    try {
      response = await this._fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        signal,
        keepalive,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new SyncError('network', 'The sync server cannot be reached');
    }
    if (response.ok || response.status == 304) return response;
    throw await errorFromResponse(response);
  }
}
