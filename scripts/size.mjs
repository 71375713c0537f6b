// Prints the size of the one-file bundle, minified and gzipped, against the 10 KiB gzip budget.
// Run `npm run build` (or `npx rollup -c`) first. Prints figures; asserts nothing.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const FILE = 'dist/session-sync.min.js';
const BUDGET_GZIP_BYTES = 10 * 1024;

let code;
try {
  code = readFileSync(FILE);
} catch {
  console.error(`${FILE} is missing: run \`npm run build\` first.`);
  process.exit(1);
}
const gzip = gzipSync(code, { level: 9 }).length;
console.log(
  `${FILE}: ${code.length} bytes min, ${gzip} bytes gzip (budget ${BUDGET_GZIP_BYTES} gzip)`,
);
