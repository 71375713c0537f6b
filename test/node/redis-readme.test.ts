import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDIS_STORE_DEFAULTS } from '../../src/server/redis-store.js';
import { literal, readmeSection, tableRows } from './support/readme.js';

/** The rows of the RedisStore options table, as name -> default cell. */
function optionsTable(): Map<string, string> {
  return tableRows(readmeSection('### Several instances on Redis', '**What it guarantees.**'));
}

describe('the README Redis section', () => {
  test('it documents every RedisStore option with the code default', () => {
    const rows = optionsTable();
    for (const name of ['url', 'redis', 'onError', ...Object.keys(REDIS_STORE_DEFAULTS)]) {
      assert.ok(rows.has(name), `${name} is in the table`);
    }
    for (const [name, value] of Object.entries(REDIS_STORE_DEFAULTS)) {
      assert.deepEqual(literal(rows.get(name)!), value, name);
    }
  });
});
