/**
 * Staying connected to one session: which transport runs, reconnection with backoff, the step
 * down from streams to long-poll to polling, the browser's `online`, `offline`,
 * `visibilitychange` and `pagehide`, presence, and the requests themselves. `SyncClient`
 * builds the session's state and writes on top of it.
 */
import {
  CLIENT_HEADER,
  type Change,
  type ChangesResponse,
  type Json,
  type Peer,
  type ResetResponse,
  type SessionView,
} from '../protocol.js';
import { Backoff } from './backoff.js';
import { Emitter, type SyncStatus } from './client-events.js';
import { errorFromResponse, SyncError } from './errors.js';
import { SYNC_CLIENT_DEFAULTS, type ResolvedOptions, type SyncClientOptions } from './options.js';
import { transports, type TransportHost, type TransportName } from './transports.js';

export const noop = () => {};
export const isOffline = () => globalThis.navigator?.onLine === false;
const WINDOW_EVENTS = ['online', 'offline', 'visibilitychange', 'pagehide'] as const;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

/**
 * The connection half of `SyncClient`: it knows the session's key, version and status and
 * keeps a transport running; the state and the writes belong to the subclass.
 */
export abstract class SessionConnection extends Emitter implements TransportHost {
  /** Sent as `Sync-Client` with writes, so the echo of our own change is recognised. */
  readonly clientId = randomId();

  /** The options in force; a changed transport applies at the next `reconnect()`. */
  readonly options: ResolvedOptions;
  /** The session key, once started or joined. */
  key?: string;

  /** The write token; undefined for a viewer. */
  token?: string;
  /** The version of the last state the server confirmed. */
  version = 0;
  status: SyncStatus = 'idle';
  peers: Peer[] = [];
  protected _name?: string;
  protected _base: string;
  protected _fetch: typeof fetch;
  protected _backoff: Backoff;
  protected _transport: TransportName = 'sse';
  protected _failures = 0;

  /** @internal */
  _moves = 0;

  /** Bumped by every connection attempt, so a slower earlier attempt gives way. */
  protected _connection = 0;
  protected _stop?: () => void;
  protected _timer?: ReturnType<typeof setTimeout>;
  protected _presenceTimer?: ReturnType<typeof setTimeout>;

  /** Bumped by start, join and leave, so answers for a session left behind are ignored. */
  protected _generation = 0;

  /** @throws TypeError when `endpoint` is not a URL (relative URLs need a document). */
  constructor(options: SyncClientOptions) {
    super();
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
   * Drops the current connection and opens a new one at once. In `auto`, it starts again from
   * streams: a client that stepped down (a gateway that could not stream) tries them again
   * here, which the browser's `online` event also does, as a new network may allow them.
   */
  reconnect(): void {
    this._restart(true);
  }

  protected _restart(fromStreams: boolean): void {
    if (!this.key || this.status == 'error') return;
    this._failures = 0;
    if (fromStreams) this._transport = this._firstTransport();
    this._connect();
    this._pump();
  }

  /** @internal */
  _url(path: string): string {
    return `${this._base}sessions/${this.key}${path && '/' + path}`;
  }

  /** @internal */
  _get(path: string, headers?: Record<string, string>, signal?: AbortSignal) {
    return this._request('GET', this._url(path), undefined, headers, signal);
  }

  /** @internal */
  _peers(peers: Peer[]): void {
    this.peers = peers;
    this._emit('presence', { peers });
  }

  /** @internal */
  _live(proven = true): void {
    if (proven) this._failures = 0;
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

  protected _firstTransport(): TransportName {
    const { transport } = this.options;
    if (transport != 'auto') return transport;
    // Node and other runtimes without EventSource start one step down.
    return globalThis.EventSource ? 'sse' : 'long-poll';
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
      // Back online, or a hidden tab that polled slowly is seen again: catch up now. Only a
      // new network is a reason to try streams again.
      this._wake();
      this._restart(event.type == 'online');
    }
  }

  /**
   * Opens the transport; first, unless the state was just read, re-reads the whole session.
   * Resuming from our version alone is not enough: a session the server lost and a writer
   * re-created counts from 0 again, so the same version may now hold another state.
   */
  protected async _connect(reread = true): Promise<void> {
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

  /** Starts or stops following the browser's window events (see `handleEvent`). */
  protected _watchWindow(watch: boolean): void {
    for (const type of WINDOW_EVENTS) {
      globalThis[watch ? 'addEventListener' : 'removeEventListener']?.(type, this);
    }
  }

  /** Stops the transport, a pending reconnection and any connection attempt in progress. */
  protected _disconnect(): void {
    this._stop?.();
    this._stop = undefined;
    clearTimeout(this._timer);
    this._connection++;
  }

  /** Reports the failure, then tries again after a backoff (or once the browser is online). */
  protected _retry(error?: SyncError): void {
    this._disconnect();
    this._setStatus(isOffline() ? 'offline' : 'reconnecting', error);
    // Offline, the `online` event reconnects.
    if (!isOffline()) {
      this._timer = setTimeout(() => this._connect(), this._backoff.next(error?.retryAfterMs));
    }
  }

  /** Tells the server who is here, again before its presence TTL runs out. */
  protected _announce(): void {
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

  protected _setStatus(status: SyncStatus, error?: SyncError): void {
    // Errors are told once per outage, and every time for a fatal one.
    const changed = status != this.status;
    this.status = status;
    if (changed) this._emit('status', { status });
    if (error && (changed || status == 'error')) this._emit('error', error);
  }

  /** One request to the server, with the token and client id; rejects with a `SyncError`. */
  protected async _request(
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

  /** @internal */
  abstract _snapshot(
    data: { version: number; state: Json; peers?: Peer[] },
    movesAtRequest: number,
  ): void;
  /** @internal */
  abstract _catchUp(data: ChangesResponse | ResetResponse, movesAtRequest: number): void;
  /** @internal */
  abstract _changes(changes: Change[]): void;
  /** The server does not know the session (404). */
  protected abstract _recover(): Promise<void>;
  /** A failure that retrying will not repair. */
  protected abstract _halt(error: SyncError): void;
  /** Sends the queued writes. */
  protected abstract _pump(): Promise<void>;
  /** Ends the wait before the next write attempt. */
  protected abstract _wake: () => void;
}
