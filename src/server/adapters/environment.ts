/**
 * What every serverless entry shares: its settings read from the environment, the store it
 * keeps sessions in, and defaults suited to hosts that answer one request at a time.
 *
 * A function instance lives for minutes (Oracle Cloud Functions keeps an idle one for 5 to 10
 * minutes, Lambda for a similar, unannounced time), so the in-memory store there is for demos
 * only: sessions vanish with the instance. Set `REDIS_URL` and every instance shares one store.
 */
// The handler module, not the package index: the index also loads the Node server, which
// edge runtimes cannot bundle.
import { createSyncHandler } from '../handler.js';
import type { SyncHandler } from '../handler.js';
import type { SyncHandlerOptions } from '../options.js';
import type { SyncStore } from '../store.js';

/** Environment variables as hosts hand them over: names to string values. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Options every adapter takes: the handler's own, plus where the API sits on the gateway. */
export interface AdapterOptions extends Partial<SyncHandlerOptions> {
  /**
   * Path in front of the API on the gateway (an OCI deployment's path prefix, a custom
   * domain's base path), such as `/sync`. It is removed from incoming paths and put in front
   * of `Location`. Default: `BASE_PATH`, else none.
   */
  basePath?: string;
  /** Where settings not given here are read. Default: the process environment. */
  env?: Environment;
}

/** Where a Redis store is, when the environment names one. */
export interface RedisSettings {
  url: string;
  /** `REDIS_KEY_PREFIX`, so several deployments can share one Redis. */
  keyPrefix?: string;
}

/** Options with every environment setting applied; what adapters build their handler from. */
export interface AdapterConfig {
  handlerOptions: Partial<SyncHandlerOptions>;
  basePath: string;
  /** Set when `REDIS_URL` is: sessions must outlive the instance. */
  redis: RedisSettings | undefined;
}

/**
 * Defaults for hosts that buffer each response and cut long ones: no event streams (clients
 * fall back to long-poll at once) and long-polls well under the 29 to 30 s that API gateways
 * allow. Adapters also shorten each wait to the time left before the call's own deadline.
 */
export const FUNCTION_DEFAULTS = Object.freeze({
  eventStreams: false,
  longPollMaxMs: 20_000,
  /** Kept back from a call's deadline to build and send the answer. */
  deadlineMarginMs: 2_000,
});

/**
 * The environment variables adapters read and what each sets. The names and formats are the
 * `session-sync-server` command's, so one set of settings serves every host.
 */
export const ENVIRONMENT_VARIABLES = Object.freeze({
  REDIS_URL: 'store: a RedisStore on this URL instead of the in-memory store',
  REDIS_KEY_PREFIX: "the Redis store's key prefix, to share one Redis between deployments",
  ALLOW_ORIGIN: 'allowOrigin: `*` or a comma-separated list of origins',
  SESSION_TTL: 'sessionTtlMs: idle time before a session is removed (`30m`, `24h`, `7d`)',
  BASE_PATH: 'basePath: path prefix of the API on the gateway',
  LONG_POLL_MAX: 'longPollMaxMs: longest long-poll (`20s`)',
  EVENT_STREAMS: 'eventStreams: `true` or `false`',
});

/**
 * Reads adapter settings: explicit options first, then the environment, then `defaults`.
 *
 * @param options - what the code that mounts the adapter passed
 * @param defaults - the host's defaults (`FUNCTION_DEFAULTS` for functions)
 * @throws TypeError when an environment variable holds a value that cannot work
 */
export function readAdapterConfig(
  options: AdapterOptions = {},
  defaults: Partial<SyncHandlerOptions> = {},
): AdapterConfig {
  const { basePath, env = processEnvironment(), ...handlerOptions } = options;
  const fromEnv: Partial<SyncHandlerOptions> = {};

  const origins = nonEmpty(env.ALLOW_ORIGIN);
  if (origins !== undefined) fromEnv.allowOrigin = parseOrigins(origins);
  const ttl = nonEmpty(env.SESSION_TTL);
  if (ttl !== undefined) fromEnv.sessionTtlMs = parseDuration('SESSION_TTL', ttl);
  const longPoll = nonEmpty(env.LONG_POLL_MAX);
  if (longPoll !== undefined) fromEnv.longPollMaxMs = parseDuration('LONG_POLL_MAX', longPoll);
  const streams = nonEmpty(env.EVENT_STREAMS);
  if (streams !== undefined) fromEnv.eventStreams = parseBoolean('EVENT_STREAMS', streams);

  const redisUrl = nonEmpty(env.REDIS_URL);
  const keyPrefix = nonEmpty(env.REDIS_KEY_PREFIX);
  return {
    handlerOptions: { ...defaults, ...fromEnv, ...definedOnly(handlerOptions) },
    basePath: normaliseBasePath(basePath ?? nonEmpty(env.BASE_PATH) ?? ''),
    redis: redisUrl === undefined ? undefined : { url: redisUrl, ...(keyPrefix && { keyPrefix }) },
  };
}

/** What a Redis store is opened with: where it is, and the handler's store options. */
export interface RedisStoreSettings extends RedisSettings {
  sessionTtlMs?: number;
  historyLimit?: number;
}

/** Opens a Redis store; each adapter brings the loader that suits its runtime. */
export type RedisStoreLoader = (settings: RedisStoreSettings) => Promise<SyncStore>;

/**
 * Builds the handler an adapter serves: with the store passed in options, else a Redis store
 * when `REDIS_URL` is set, else the handler's default in-memory store.
 */
export async function handlerFromConfig(
  config: AdapterConfig,
  loadRedisStore: RedisStoreLoader,
): Promise<SyncHandler> {
  const { handlerOptions } = config;
  let store = handlerOptions.store;
  if (!store && config.redis) {
    // A store passed to the handler keeps its own TTL and history length: hand them over.
    store = await loadRedisStore({
      ...config.redis,
      sessionTtlMs: handlerOptions.sessionTtlMs,
      historyLimit: handlerOptions.historyLimit,
    });
  }
  return createSyncHandler({ ...handlerOptions, store });
}

/** A sync handler built on first use and kept for the life of the instance. */
export interface InstanceHandler {
  /** The handler, built on the first call; a failed start is retried on the next. */
  get(): Promise<SyncHandler>;
  /** Closes the handler and its store, if it was built. */
  close(): Promise<void>;
}

/**
 * Builds the handler on first use and keeps it, so a warm function reuses its store (and its
 * Redis connection) across calls instead of connecting on every request.
 */
export function instanceHandler(build: () => Promise<SyncHandler>): InstanceHandler {
  let pending: Promise<SyncHandler> | undefined;
  return {
    get() {
      pending ??= build().catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
      return pending;
    },
    async close() {
      const built = pending;
      pending = undefined;
      const handler = await built?.catch(() => undefined);
      await handler?.close();
    },
  };
}

function processEnvironment(): Environment {
  const candidate = (globalThis as { process?: { env?: Environment } }).process;
  try {
    return { ...candidate?.env };
  } catch {
    // A runtime that guards the environment (Deno without --allow-env) refuses to list it.
    return {};
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

function parseOrigins(value: string): string | string[] {
  if (value === '*') return '*';
  return value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

function parseBoolean(name: string, value: string): boolean {
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new TypeError(`session-sync: ${name} must be true or false, got "${value}"`);
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Reads `500ms`, `20s`, `30m`, `24h`, `7d` or a plain number of milliseconds. */
function parseDuration(name: string, value: string): number {
  const match = value.match(/^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/);
  const ms = match ? Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']! : NaN;
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new TypeError(
      `session-sync: ${name} must be a duration such as 20s or 24h, got "${value}"`,
    );
  }
  return ms;
}

/** `sync/` and `/sync/` become `/sync`; `/` and empty become no prefix. */
function normaliseBasePath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}
