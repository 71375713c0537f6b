/**
 * Reads the README the way its tests need it: a section between two headings, the option
 * tables in it, and the code literal that opens a default cell. Several tests keep README
 * tables equal to the code's defaults; they share this reader so they agree on the format.
 */
import { readFileSync } from 'node:fs';

export const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The text from the first `start` heading (or marker) to the next `end` after it. */
export function readmeSection(start: string, end: string): string {
  const from = readme.indexOf(start);
  if (from < 0) throw new Error(`The README has no "${start}"`);
  const to = readme.indexOf(end, from);
  return readme.slice(from, to < 0 ? undefined : to);
}

/** The rows of the tables in `text` whose first cell is a code name, as name -> second cell. */
export function tableRows(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = line.match(/^\| `(\w+)` \| (.+?) \|/);
    if (match) rows.set(match[1]!, match[2]!);
  }
  return rows;
}

/** The literal a default cell opens with: `'*'`, `true`, `86_400_000`, `null`, `undefined`. */
export function literal(cell: string): unknown {
  const code = cell.match(/^`([^`]+)`/)?.[1];
  if (code === undefined) throw new Error(`No literal in ${cell}`);
  if (code === 'undefined') return undefined;
  if (code === 'null') return null;
  if (code === 'true' || code === 'false') return code === 'true';
  if (/^'.*'$/.test(code)) return code.slice(1, -1);
  return Number(code.replace(/_/g, ''));
}
