import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { REDIS_STORE_DEFAULTS } from '../../src/server/redis-store.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the RedisStore options table, as name -> default cell. */
function optionsTable(): Map<string, string> {
  const start = readme.indexOf('### Several instances on Redis');
  const section = readme.slice(start, readme.indexOf('**What it guarantees.**', start));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const match = line.match(/^\| `(\w+)` \| (.+?) \|/);
    if (match) rows.set(match[1]!, match[2]!);
  }
  return rows;
}

/** Reads the literal at the start of a default cell: `'session-sync:'`, `1_000`. */
function literal(cell: string): unknown {
  const code = cell.match(/^`([^`]+)`/)?.[1];
  if (code === undefined) throw new Error(`No literal in ${cell}`);
  if (/^'.*'$/.test(code)) return code.slice(1, -1);
  return Number(code.replace(/_/g, ''));
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
