/**
 * Opens the Redis store for the Node hosts (Oracle Cloud Functions, Lambda).
 *
 * The import is written out literally so that bundlers used for functions (esbuild in SAM and
 * CDK, for one) include the store and its client; it runs only when `REDIS_URL` is set, so a
 * function on the in-memory store never loads the Redis client.
 */
import type { SyncStore } from '../store.js';
import type { RedisStoreSettings } from './environment.js';

/** Connects a `RedisStore` to `settings.url` (`redis://`, or `rediss://` for TLS). */
export async function loadRedisStore(settings: RedisStoreSettings): Promise<SyncStore> {
  const { RedisStore } = await import('../redis-store.js');
  return new RedisStore(definedOnly(settings));
}

function definedOnly<T extends object>(values: T): T {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as T;
}
