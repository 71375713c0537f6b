import { expect } from '@open-wc/testing';
import { SYNC_CLIENT_DEFAULTS } from '../../src/index.js';
import '../../src/define.js';

/**
 * The README table that has a row for `rowName`, as a map from each row's first cell to its
 * cell in `column` (1 is the second column).
 */
async function readmeTableWith(rowName: string, column: number): Promise<Map<string, string>> {
  const readme = await (await fetch('/README.md')).text();
  const at = readme.indexOf(`| \`${rowName}\` |`);
  const table = readme.slice(readme.lastIndexOf('\n\n', at) + 2, readme.indexOf('\n\n', at));
  const rows = table.split('\n').map((row) => row.split('|').slice(1, -1));
  return new Map(
    rows
      .map((cells) => cells.map((cell) => cell.trim().replace(/`/g, '')))
      .map((c) => [c[0], c[column]]),
  );
}

describe('README', () => {
  it('documents the SyncClient defaults the code uses', async () => {
    const documented = await readmeTableWith('pollIntervalMs', 1);

    for (const [option, value] of Object.entries(SYNC_CLIENT_DEFAULTS)) {
      expect(documented.get(option), option).to.equal(String(value));
    }
  });

  it('documents the element attribute defaults the code uses', async () => {
    const documented = await readmeTableWith('poll-interval', 2);
    const el = document.createElement('session-sync');

    expect(documented.get('transport')).to.equal(el.transport);
    expect(documented.get('poll-interval')).to.equal(String(el.pollInterval));
  });
});
