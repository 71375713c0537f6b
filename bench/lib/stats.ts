/**
 * Summaries of latency samples and the small formatting helpers the runner's tables use.
 */

/** Latency percentiles in milliseconds, rounded for printing. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Nearest-rank percentiles of `samples` (milliseconds). Sorts a copy, so the caller's array
 * keeps its arrival order.
 */
export function summarise(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  if (sorted.length === 0) return { samples: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  return {
    samples: sorted.length,
    p50: round(rank(0.5)),
    p95: round(rank(0.95)),
    p99: round(rank(0.99)),
    max: round(sorted[sorted.length - 1]),
  };
}

/** Two decimals under 10, one under 100, none above: enough for figures that drift anyway. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const digits = Math.abs(value) < 10 ? 100 : Math.abs(value) < 100 ? 10 : 1;
  return Math.round(value * digits) / digits;
}

/** `12345` -> `12,345`; non-finite values print as a dash. */
export function formatNumber(value: number | undefined | null): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return '–';
  return round(value).toLocaleString('en-US');
}

/** Bytes as B, KiB or MiB with one decimal. */
export function formatBytes(bytes: number | undefined | null): string {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes)) return '–';
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`;
  if (Math.abs(bytes) < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Cells that read as figures (digits, a dash for none, a sign) line up on the right. */
const FIGURE = /^([-–+]?[\d.,]+|–)(\s|$)/;

/** A plain-text table: columns of figures right-aligned, text columns left-aligned. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const numeric = headers.map((_, column) =>
    rows.every((row) => (row[column] ?? '') === '' || FIGURE.test(row[column])),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.map(line),
  ].join('\n');
}

/** The same table as Markdown, for pasting a run into BENCHMARKS.md. */
export function renderMarkdownTable(headers: string[], rows: string[][]): string {
  const numeric = headers.map((_, column) =>
    rows.every((row) => (row[column] ?? '') === '' || FIGURE.test(row[column])),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    line(headers),
    `|${numeric.map((right) => (right ? '---:' : '---')).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}
