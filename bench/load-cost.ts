/**
 * Load cost: bytes a page downloads to get shared state. Our one-file bundle as shipped
 * (dist/session-sync.min.js, from `npm run build`) next to the same minimal use of each
 * alternative (bench/entries/*.js), each bundled and minified by esbuild in this run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { BenchConfig, Section, TargetCheck } from './lib/section.js';
import { formatBytes } from './lib/stats.js';

const SHIPPED = fileURLToPath(new URL('../dist/session-sync.min.js', import.meta.url));
const ENTRIES = fileURLToPath(new URL('./entries/', import.meta.url));
const GZIP_TARGET_BYTES = 10 * 1024;

const ALTERNATIVES: { name: string; entry: string; packages: string[] }[] = [
  { name: 'session-sync (src/index.ts via esbuild)', entry: 'session-sync.js', packages: ['lit'] },
  { name: 'yjs + y-websocket', entry: 'yjs-y-websocket.js', packages: ['yjs', 'y-websocket'] },
  {
    name: '@supabase/realtime-js',
    entry: 'supabase-realtime.js',
    packages: ['@supabase/realtime-js'],
  },
  { name: 'firebase (app + database)', entry: 'firebase-database.js', packages: ['firebase'] },
  { name: '@liveblocks/client', entry: 'liveblocks.js', packages: ['@liveblocks/client'] },
  {
    name: 'partysocket (socket only, no state)',
    entry: 'partysocket.js',
    packages: ['partysocket'],
  },
];

export interface LoadCostRow {
  name: string;
  versions: string;
  minBytes: number;
  gzipBytes: number;
  brotliBytes: number;
}

function sizes(name: string, versions: string, code: Uint8Array): LoadCostRow {
  return {
    name,
    versions,
    minBytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    brotliBytes: brotliCompressSync(code, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
    }).byteLength,
  };
}

function installedVersion(name: string): string {
  const manifest = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

async function bundle(entry: string): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [`${ENTRIES}${entry}`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2021',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    write: false,
  });
  return result.outputFiles[0].contents;
}

export async function runLoadCost(config: BenchConfig): Promise<Section> {
  const rows: LoadCostRow[] = [];
  const ourVersion = installedVersion('lit');
  let shipped: LoadCostRow | undefined;
  if (existsSync(SHIPPED)) {
    shipped = sizes(
      'session-sync (dist/session-sync.min.js)',
      `lit ${ourVersion}`,
      readFileSync(SHIPPED),
    );
    rows.push(shipped);
  } else {
    config.log('load cost: dist/session-sync.min.js is missing; run `npm run build` first');
  }

  for (const alternative of ALTERNATIVES) {
    config.log(`load cost: bundling ${alternative.name}`);
    const versions = alternative.packages
      .map((name) => `${name} ${installedVersion(name)}`)
      .join(', ');
    rows.push(sizes(alternative.name, versions, await bundle(alternative.entry)));
  }

  const others = rows.filter(
    (row) => !row.name.startsWith('session-sync') && !row.name.startsWith('partysocket'),
  );
  const targets: TargetCheck[] = [
    {
      target: 'one-file bundle <= 10 KiB gzip, Lit included',
      figure: shipped ? `${formatBytes(shipped.gzipBytes)} gzip` : 'not built',
      met: shipped ? shipped.gzipBytes <= GZIP_TARGET_BYTES : null,
    },
    {
      target: 'bundle smaller (gzip) than every state-sync library measured',
      figure: shipped
        ? `${formatBytes(shipped.gzipBytes)} vs smallest ${formatBytes(Math.min(...others.map((row) => row.gzipBytes)))}`
        : 'not built',
      met: shipped ? others.every((row) => shipped.gzipBytes < row.gzipBytes) : null,
    },
  ];

  return {
    id: 'loadCost',
    title: 'Load cost: minified bundle of the least code that shares state',
    headers: ['bundle', 'min', 'gzip -9', 'brotli -11', 'versions'],
    rows: rows.map((row) => [
      row.name,
      formatBytes(row.minBytes),
      formatBytes(row.gzipBytes),
      formatBytes(row.brotliBytes),
      row.versions,
    ]),
    notes: [
      'Alternatives: esbuild --bundle --minify, ESM, browser platform, es2021, NODE_ENV=production; entries in bench/entries/.',
      "PartySocket is a reconnecting socket only: state and merge logic are the page's own on top of it.",
    ],
    targets,
    data: { rows },
  };
}
