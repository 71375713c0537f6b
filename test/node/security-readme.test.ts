/**
 * The README's Security section documents the abuse limits; this keeps its table equal to the
 * code's defaults and complete.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { DEFAULT_OPTIONS } from '../../src/server/index.js';
import type { LimitOptions } from '../../src/server/limits.js';
import { literal, readmeSection, tableRows } from './support/readme.js';

/** Every option the Security section must document: the limits and the slow-sender timeouts. */
const LIMIT_OPTIONS: Array<keyof LimitOptions | 'headersTimeoutMs' | 'requestTimeoutMs'> = [
  'trustProxyHeader',
  'writesPerSecondPerAddress',
  'writeBurstPerAddress',
  'writesPerSecondPerSession',
  'writeBurstPerSession',
  'sessionsPerMinutePerAddress',
  'sessionBurstPerAddress',
  'presencePerSecondPerAddress',
  'presenceBurstPerAddress',
  'presencePerSecondPerSession',
  'presenceBurstPerSession',
  'maxStreamsPerAddress',
  'maxStreamsPerSession',
  'headersTimeoutMs',
  'requestTimeoutMs',
];

/** The rows of the limits table, as option name -> default cell. */
function limitsTable(): Map<string, string> {
  return tableRows(readmeSection('### Limits and their defaults', '### Reporting a problem'));
}

describe('the README Security section', () => {
  test('gives every limit the default the code has', () => {
    const rows = limitsTable();

    for (const [name, cell] of rows) {
      assert.ok(name in DEFAULT_OPTIONS, `${name} is an option`);
      assert.deepStrictEqual(
        literal(cell),
        DEFAULT_OPTIONS[name as keyof typeof DEFAULT_OPTIONS],
        name,
      );
    }
  });

  test('documents every limit', () => {
    const rows = limitsTable();

    assert.deepStrictEqual(
      LIMIT_OPTIONS.filter((name) => !rows.has(name)),
      [],
    );
  });

  test('states the threat model and how to report a problem', () => {
    const security = readmeSection('## Security', '## Browser support');

    for (const heading of [
      '### Threat model',
      '### Limits and their defaults',
      '### Reporting a problem',
    ]) {
      assert.ok(security.includes(heading), heading);
    }
  });
});
