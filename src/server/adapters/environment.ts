/**
 * What every serverless entry shares: its settings read from the environment, the store it
 * keeps sessions in, and defaults suited to hosts that answer one request at a time.
 *
 * A function instance lives for minutes (Oracle Cloud Functions keeps an idle one for 5 to 10
 * minutes, Lambda for a similar, unannounced time), so the in-memory store there is for demos
 * only: sessions vanish with the instance. Set `REDIS_URL` and every instance shares one store.
 */
import { createSyncHandler } from '../index.js';
import type { SyncHandler } from '../index.js';
import type { SyncHandlerOptions } from '../options.js';
import type { SyncStore } from '../store.js';

/** Environment variables as hosts hand them over: names to string values. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Options every adapter takes: the handler's own, plus where the API sits on the gateway. */
export interface AdapterOptions extends Partial<SyncHandlerOptions> {
  /**
   * Path in front of the API on the gateway (an OCI deployment's path prefix, a custom
   * domain's base path), such as `/sync`. It is removed from incoming paths and put in front
   * of `Location`. Default: `SYNC_BASE_PATH`, else none.
   */
  basePath?: string;
  /** Where settings not given here are read. Default: the process environment. */
  env?: Environment;
}

/** Options with every environment setting applied; what adapters build their handler from. */
export interface AdapterConfig {
  handlerOptions: Partial<SyncHandlerOptions>;
  basePath: string;
  /** `REDIS_URL`, when sessions must outlive the instance. */
  redisUrl: string | undefined;
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

/** The environment variables adapters read, with the option each one sets. */
export const ENVIRONMENT_VARIABLES = Object.freeze({
  REDIS_URL: 'store: a RedisStore on this URL instead of the in-memory store',
  SYNC_ALLOW_ORIGIN: 'allowOrigin: `*` or a comma-separated list of origins',
  SYNC_BASE_PATH: 'basePath: path prefix of the API on the gateway',
  SYNC_EVENT_STREAMS: 'eventStreams: `true` or `false`',
  SYNC_LONG_POLL_MAX_MS: 'longPollMaxMs: longest long-poll in milliseconds',
  SYNC_SESSION_TTL_MS: 'sessionTtlMs: idle time after which a session is removed',
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

  const origins = nonEmpty(env.SYNC_ALLOW_ORIGIN);
  if (origins !== undefined) fromEnv.allowOrigin = parseOrigins(origins);
  const streams = nonEmpty(env.SYNC_EVENT_STREAMS);
  if (streams !== undefined) fromEnv.eventStreams = parseBoolean('SYNC_EVENT_STREAMS', streams);
  const longPoll = nonEmpty(env.SYNC_LONG_POLL_MAX_MS);
  if (longPoll !== undefined) {
    fromEnv.longPollMaxMs = parsePositive('SYNC_LONG_POLL_MAX_MS', longPoll);
  }
  const ttl = nonEmpty(env.SYNC_SESSION_TTL_MS);
  if (ttl !== undefined) fromEnv.sessionTtlMs = parsePositive('SYNC_SESSION_TTL_MS', ttl);

  return {
    handlerOptions: { ...defaults, ...fromEnv, ...definedOnly(handlerOptions) },
    basePath: normaliseBasePath(basePath ?? nonEmpty(env.SYNC_BASE_PATH) ?? ''),
    redisUrl: nonEmpty(env.REDIS_URL),
  };
}

/**
 * The store the configuration asks for: a `RedisStore` when `REDIS_URL` is set, otherwise
 * undefined so the handler builds its default in-memory store. Redis support is loaded only
 * when used, so runtimes without TCP sockets can still run the in-memory demo.
 */
export async function storeFromConfig(config: AdapterConfig): Promise<SyncStore | undefined> {
  if (config.handlerOptions.store || config.redisUrl === undefined) {
    return config.handlerOptions.store;
  }
  const { RedisStore } = await import('../redis-store.js');
  return new RedisStore({ url: config.redisUrl });
}

/** Builds the handler an adapter serves, with the store the configuration names. */
export async function handlerFromConfig(config: AdapterConfig): Promise<SyncHandler> {
  const store = await storeFromConfig(config);
  return createSyncHandler({ ...config.handlerOptions, store });
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
  return candidate?.env ?? {};
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

function parsePositive(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new TypeError(`session-sync: ${name} must be a positive number, got "${value}"`);
  }
  return number;
}

/** `sync/` and `/sync/` become `/sync`; `/` and empty become no prefix. */
function normaliseBasePath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}
