import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_OPTIONS } from '../../src/server/index.js';
import { PROBLEM_TITLES } from '../../src/server/problems.js';
import { literal, readme, readmeSection, tableRows } from './support/readme.js';

/** The rows of the options table in the README's server section, as name -> default cell. */
function optionsTable(): Map<string, string> {
  const server = readmeSection('## The server', '## Deploying');
  return tableRows(
    server.slice(server.indexOf('### Options'), server.indexOf('### HTTP contract')),
  );
}

describe('the README server section', () => {
  test('every default in the options table is the code default', () => {
    const rows = optionsTable();
    assert.ok(rows.size >= 15, `found ${rows.size} rows`);
    for (const [name, cell] of rows) {
      if (name === 'store') continue;
      assert.ok(name in DEFAULT_OPTIONS, `${name} is an option`);
      assert.deepEqual(literal(cell), DEFAULT_OPTIONS[name as keyof typeof DEFAULT_OPTIONS], name);
    }
  });

  test('the options table lists every server option', () => {
    const rows = optionsTable();
    const documented = [
      'allowOrigin',
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
      'eventStreams',
      'log',
      'port',
      'host',
    ];
    for (const name of documented) assert.ok(rows.has(name), `${name} is in the table`);
  });

  test('the server error table lists every code the server answers with', () => {
    const errors = readme.slice(
      readme.indexOf('### From the server'),
      readme.indexOf('## The server'),
    );
    const listed = new Set(
      [...errors.matchAll(/^\| (\d{3}) \| `([a-z-]+)` \|/gm)].map((m) => m[2]),
    );
    const clientOnly = new Set(['network']);
    for (const code of Object.keys(PROBLEM_TITLES)) {
      if (!clientOnly.has(code)) assert.ok(listed.has(code), `${code} is in the table`);
    }
  });

  test('every route of the contract has a curl example', () => {
    const server = readme.slice(readme.indexOf('## The server'), readme.indexOf('## Deploying'));
    for (const example of [
      'curl -i -X POST $S/sessions',
      'curl -i $S/sessions/$KEY',
      'curl -i -X PATCH $S/sessions/$KEY',
      'curl -i -X PUT $S/sessions/$KEY',
      'curl -i "$S/sessions/$KEY/changes?since=',
      'curl -N $S/sessions/$KEY/events',
      'curl -i -X DELETE $S/sessions/$KEY ',
      'curl -i -X PUT $S/sessions/$KEY/presence/',
      'curl -i -X DELETE $S/sessions/$KEY/presence/',
      'curl -i $S/healthz',
      'curl -i -X OPTIONS $S/sessions/$KEY',
    ]) {
      assert.ok(server.includes(example), example);
    }
  });
});
