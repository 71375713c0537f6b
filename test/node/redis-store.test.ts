/**
 * RedisStore against the real Redis: the shared store suite first, then what only a shared,
 * networked store has to get right (layout, pub/sub across stores, history bounds).
 */
import { after } from 'node:test';
import { RedisStore } from '../../src/server/redis-store.js';
import { REDIS_URL, removeKeys, runPrefix } from './fixtures/redis.js';
import { STORE_SUITE_OPTIONS, describeStoreSuite } from './store-suite.js';

const prefix = runPrefix();
after(() => removeKeys(prefix));

describeStoreSuite('RedisStore', async () => {
  const store = new RedisStore({
    url: REDIS_URL,
    keyPrefix: prefix,
    ...STORE_SUITE_OPTIONS,
    sweepIntervalMs: 50,
  });
  await store.ready();
  return store;
});
