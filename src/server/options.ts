/**
 * Options of the sync handler and of the in-memory store, with their defaults in one place.
 *
 * Every option is flat and names its unit, so `{ sessionTtlMs: 60_000 }` reads without a
 * lookup. The README's options table is checked against `DEFAULT_OPTIONS` by a test.
 */
import type { SyncStore } from './store.js';
import type { LimitOptions } from './limits.js';
import type { LogEntry } from './log.js';

/** Receives one structured entry per request and per lifecycle event. */
export type LogSink = (entry: LogEntry) => void;

/** The abuse limits (rates, stream ceilings, proxy header) are documented in `limits.ts`. */
export interface SyncHandlerOptions extends LimitOptions {
  /**
   * Where sessions live. Defaults to a new `MemoryStore` built from the store options below;
   * when you pass a store, `sessionTtlMs`, `historyLimit`, `maxSessions` and `maxStoreBytes`
   * are that store's business and are ignored here.
   */
  store?: SyncStore;
  /** `*` for any origin, or the exact origins (`https://app.example.com`) allowed to call. */
  allowOrigin: string | readonly string[];
  /** A session nobody wrote to for this long is removed. */
  sessionTtlMs: number;
  /** A peer that did not refresh its presence for this long disappears. */
  presenceTtlMs: number;
  /** Largest request body accepted (413 `too-large` above it). */
  maxBodyBytes: number;
  /** Largest state a session may hold after a write, as UTF-8 JSON. */
  maxStateBytes: number;
  /** Largest presence body a peer may announce. */
  maxPresenceBytes: number;
  /** Deepest nesting of arrays and objects accepted in a body. */
  maxDepth: number;
  /** Changes kept per session for catch-up; older readers get a snapshot instead. */
  historyLimit: number;
  /** Most sessions the in-memory store holds (507 `store-full` beyond). */
  maxSessions: number;
  /** Most bytes of state, history and presence the in-memory store holds. */
  maxStoreBytes: number;
  /** How often the in-memory store looks for expired sessions and peers. */
  sweepIntervalMs: number;
  /** Interval of the comment line that keeps idle event streams open through proxies. */
  heartbeatMs: number;
  /** Longest a `/changes?wait=` request is held, whatever the client asks for. */
  longPollMaxMs: number;
  /**
   * Bytes an event stream may fall behind before the server ends it; the client reconnects
   * with `Last-Event-ID` and catches up, so a stalled reader cannot grow memory without bound.
   */
  streamBufferMaxBytes: number;
  /**
   * Whether `/events` streams. Hosts that cannot hold a response open (many serverless
   * platforms and API gateways) set false: `/events` then answers 501
   * `streams-unsupported` at once and clients fall back to long-poll.
   */
  eventStreams: boolean;
  /** Where log entries go: a function, or false for silence. Default: JSON lines on stdout. */
  log: LogSink | false | undefined;
}

export interface ServerOptions extends SyncHandlerOptions {
  /** TCP port; 0 lets the system choose a free one. */
  port: number;
  /** Interface to listen on. `0.0.0.0` or `::` to accept connections from other machines. */
  host: string;
  /** A client must send its request headers within this time, or the connection is cut. */
  headersTimeoutMs: number;
  /**
   * A client must send its whole request, body included, within this time, or it is answered
   * 408 and cut off. Event streams and long-polls are not affected: the limit ends once the
   * request has arrived.
   */
  requestTimeoutMs: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** The defaults of every option, in one place. */
export const DEFAULT_OPTIONS = Object.freeze({
  allowOrigin: '*',
  sessionTtlMs: 24 * 60 * 60 * 1000,
  presenceTtlMs: 30_000,
  maxBodyBytes: 256 * KIB,
  maxStateBytes: 256 * KIB,
  maxPresenceBytes: 4 * KIB,
  maxDepth: 64,
  historyLimit: 1000,
  maxSessions: 10_000,
  maxStoreBytes: 256 * MIB,
  sweepIntervalMs: 1000,
  heartbeatMs: 15_000,
  longPollMaxMs: 25_000,
  streamBufferMaxBytes: 1 * MIB,
  eventStreams: true,
  log: undefined,
  trustProxyHeader: null,
  writesPerSecondPerAddress: 50,
  writeBurstPerAddress: 200,
  writesPerSecondPerSession: 100,
  writeBurstPerSession: 300,
  sessionsPerMinutePerAddress: 60,
  sessionBurstPerAddress: 30,
  presencePerSecondPerAddress: 20,
  presenceBurstPerAddress: 100,
  presencePerSecondPerSession: 100,
  presenceBurstPerSession: 300,
  maxStreamsPerAddress: 200,
  maxStreamsPerSession: 2000,
  port: 8787,
  host: '127.0.0.1',
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
} satisfies Omit<ServerOptions, 'store'>);

/** Options after defaults are filled in. */
export type ResolvedOptions = SyncHandlerOptions & { store?: SyncStore };

const POSITIVE_NUMBERS = [
  'sessionTtlMs',
  'presenceTtlMs',
  'maxBodyBytes',
  'maxStateBytes',
  'maxPresenceBytes',
  'maxDepth',
  'historyLimit',
  'maxSessions',
  'maxStoreBytes',
  'sweepIntervalMs',
  'heartbeatMs',
  'longPollMaxMs',
  'streamBufferMaxBytes',
] as const;

/**
 * Fills in defaults and rejects values that cannot work, so a typo fails at start-up with a
 * message instead of misbehaving later.
 *
 * @throws TypeError naming the option and the value received
 */
export function resolveOptions(options: Partial<SyncHandlerOptions> = {}): ResolvedOptions {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<SyncHandlerOptions>;
  const resolved: ResolvedOptions = { ...DEFAULT_OPTIONS, ...defined };

  for (const name of POSITIVE_NUMBERS) {
    const value = resolved[name];
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw new TypeError(`session-sync: option ${name} must be a positive number, got ${value}`);
    }
  }
  const origins = resolved.allowOrigin;
  if (typeof origins !== 'string' && !Array.isArray(origins)) {
    throw new TypeError('session-sync: option allowOrigin must be "*", an origin or a list');
  }
  return resolved;
}
