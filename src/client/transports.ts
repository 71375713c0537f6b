/**
 * The three ways a client hears about changes. Each runs until it is stopped or fails once;
 * on failure it tells its host and ends, and the host decides when to try again and with
 * which transport (backoff and fallback live in one place, the client).
 *
 * - `sse`: one Server-Sent Events stream, resumed with `?since=` so nothing is missed.
 * - `long-poll`: `GET /changes?since=V&wait=S`, which the server holds until something happens.
 * - `poll`: `GET /sessions/{key}` every few seconds with `If-None-Match`, so an idle poll
 *   costs a `304` and no body.
 */
import type {
  Change,
  ChangesResponse,
  Json,
  Peer,
  ResetResponse,
  SessionView,
  SnapshotEventData,
} from '../protocol.js';
import { versionTag } from '../protocol.js';
import type { SyncError } from './errors.js';

export type TransportName = 'sse' | 'long-poll' | 'poll';

/** What a transport needs from the client that runs it. */
export interface TransportHost {
  /** The version the client has reached. */
  readonly version: number;
  /** Absolute URL of a path below the session, such as `events?since=3`. */
  _url(path: string): string;
  /** GET below the session; rejects with a `SyncError` on any answer but 2xx and 304. */
  _get(path: string, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response>;
  /** Counts every step of `version`; read it when sending a request that may return a state. */
  readonly _moves: number;
  /**
   * A whole state at a version (SSE snapshot, a poll's answer); `movesAtRequest` is `_moves`
   * when it was asked for.
   */
  _snapshot(data: { version: number; state: Json; peers?: Peer[] }, movesAtRequest: number): void;
  /** Answer of `/changes`: changes after our version, or a reset to a whole state. */
  _catchUp(data: ChangesResponse | ResetResponse, movesAtRequest: number): void;
  _changes(changes: Change[]): void;
  _peers(peers: Peer[]): void;
  /**
   * The transport is connected and current; `proven` (the default) when it has also shown that
   * it works here, which ends the count of failures that makes `auto` step down.
   */
  _live(proven?: boolean): void;
  /** The transport stopped by itself; `error` is undefined when it could not say why. */
  _failed(error?: SyncError): void;
}

export interface TransportOptions {
  longPollWaitSeconds: number;
  pollIntervalMs: number;
  hiddenPollIntervalMs: number;
}

/** Starts a transport. @returns a function that stops it without reporting a failure. */
export type Transport = (host: TransportHost, options: TransportOptions) => () => void;

const sse: Transport = (host) => {
  const source = new EventSource(host._url(`events?since=${host.version}`));
  const on = <T>(type: string, handle: (data: T) => void) =>
    source.addEventListener(type, (event) => handle(JSON.parse((event as MessageEvent).data)));

  const moves = host._moves;
  source.onopen = () => host._live();
  on<SnapshotEventData>('snapshot', (data) => host._snapshot(data, moves));
  on<Change>('change', (change) => host._changes([change]));
  on<{ peers: Peer[] }>('presence', (data) => host._peers(data.peers));
  // EventSource hides the status and would retry on its own without backoff; the host asks
  // the server why (a catch-up request) and reconnects on its own schedule instead.
  source.onerror = () => {
    source.close();
    host._failed();
  };
  return () => source.close();
};

/** Runs `step` until stopped; `step` resolves the delay before the next round. */
function loop(
  host: TransportHost,
  step: (signal: AbortSignal, first: boolean) => Promise<number>,
): () => void {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout>;
  const round = (first: boolean) =>
    step(abort.signal, first).then(
      (delayMs) => {
        if (!abort.signal.aborted) timer = setTimeout(round, delayMs, false);
      },
      (error: SyncError) => abort.signal.aborted || host._failed(error),
    );
  round(true);
  return () => {
    abort.abort();
    clearTimeout(timer);
  };
}

const longPoll: Transport = (host, { longPollWaitSeconds }) =>
  loop(host, async (signal, first) => {
    // The first request returns at once, so the client is current (and says so) before the
    // long wait starts.
    const wait = first ? '' : `&wait=${longPollWaitSeconds}`;
    const moves = host._moves;
    const response = await host._get(`changes?since=${host.version}${wait}`, {}, signal);
    if (response.status == 200) host._catchUp(await response.json(), moves);
    // Only a held request that came back shows that long-poll works: a gateway that cuts held
    // requests lets the first one through every time.
    host._live(!first);
    return 0;
  });

const poll: Transport = (host, options) =>
  loop(host, async (signal) => {
    const moves = host._moves;
    const response = await host._get('', { 'If-None-Match': versionTag(host.version) }, signal);
    if (response.status == 200) {
      const view: SessionView = await response.json();
      host._snapshot(view, moves);
    }
    host._live();
    return globalThis.document?.hidden
      ? Math.max(options.hiddenPollIntervalMs, options.pollIntervalMs)
      : options.pollIntervalMs;
  });

export const transports: Record<TransportName, Transport> = { sse, 'long-poll': longPoll, poll };
