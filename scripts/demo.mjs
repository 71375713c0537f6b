#!/usr/bin/env node
/**
 * The demo server behind `npm start`: the sync API (in-memory store) and the demo pages on one
 * origin, so the pages can use `endpoint="/"`.
 *
 *   node scripts/demo.mjs [--port 8787] [--host 127.0.0.1] [--verbose]
 *
 * `--port 0` (or PORT=0) lets the system choose a free port; the URL printed on the first line
 * of output always carries the real one. The server logs failed requests as JSON lines, and
 * every request with --verbose.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEMO_DIR = join(ROOT, 'demo');
const DIST_DIR = join(ROOT, 'dist');
const DEFAULT_PORT = 8787;

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

const options = readOptions();
const api = await loadApi();

const server = createServer((request, response) => {
  const path = new URL(request.url ?? '/', 'http://demo').pathname;
  if (path === '/healthz' || path === '/sessions' || path.startsWith('/sessions/')) {
    api.listener(request, response);
  } else {
    serveStatic(request, response, path).catch((error) => {
      console.error(`demo: cannot serve ${path}: ${error.message}`);
      if (!response.headersSent) reply(response, 500, 'Internal error');
      else response.destroy();
    });
  }
});

server.once('error', (error) => {
  const hint =
    error.code === 'EADDRINUSE'
      ? ` Port ${options.port} is taken: pick another with --port or PORT (0 picks a free one).`
      : '';
  console.error(`demo: cannot listen on ${options.host}:${options.port}: ${error.message}.${hint}`);
  process.exit(1);
});

server.listen(options.port, options.host, () => {
  const { port } = server.address();
  const { host } = options;
  const anyLocal = ['127.0.0.1', '::1', '0.0.0.0', '::'].includes(host);
  const shownHost = anyLocal ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  console.log(`session-sync demo: open http://${shownHost}:${port}/ in two windows`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    // Open event streams would keep close() waiting for ever: end them first.
    const stopped = new Promise((resolve) => server.close(resolve));
    await api.handler.close();
    server.closeAllConnections();
    await stopped;
    process.exit(0);
  });
}

function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        verbose: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`demo: ${error.message}`);
    console.error('usage: node scripts/demo.mjs [--port 8787] [--host 127.0.0.1] [--verbose]');
    process.exit(2);
  }
  const rawPort = values.port ?? process.env.PORT ?? String(DEFAULT_PORT);
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    console.error(`demo: the port must be a number from 0 to 65535, not "${rawPort}"`);
    process.exit(2);
  }
  return { port, host: values.host ?? process.env.HOST ?? '127.0.0.1', verbose: values.verbose };
}

/** Loads the built server; `npm start` builds first, a bare `node scripts/demo.mjs` may not. */
async function loadApi() {
  const built = join(DIST_DIR, 'server', 'index.js');
  try {
    await stat(built);
    await stat(join(DIST_DIR, 'session-sync.min.js'));
  } catch {
    console.error('demo: dist/ is missing or incomplete. Run `npm run build` (npm start does).');
    process.exit(1);
  }

  const { createNodeListener, createSyncHandler } = await import(built);
  const handler = createSyncHandler({ log: options.verbose ? undefined : quietLog });
  return { handler, listener: createNodeListener(handler) };
}

/** Without --verbose, only what needs attention: failed requests and errors. */
function quietLog(entry) {
  if (entry.level !== 'info') console.log(JSON.stringify(entry));
}

/** Serves demo/ at the root and dist/ at /dist/, and nothing outside those two folders. */
async function serveStatic(request, response, path) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return reply(response, 405, 'Method not allowed');
  }

  const file = await resolveFile(path);
  if (!file) return reply(response, 404, 'Not found');

  response.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream',
    'Content-Length': file.size,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (request.method === 'HEAD') return response.end();
  createReadStream(file.path).pipe(response);
}

/** Maps a URL path to a regular file inside demo/ or dist/, or undefined. */
async function resolveFile(path) {
  let decoded;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;

  const [root, rest] =
    decoded === '/dist' || decoded.startsWith('/dist/')
      ? [DIST_DIR, decoded.slice('/dist'.length)]
      : [DEMO_DIR, decoded];
  let candidate = resolve(root, `.${rest}`);
  // resolve() has already collapsed any `..`; whatever still lies outside the root is refused.
  if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;

  let info = await stat(candidate).catch(() => undefined);
  if (info?.isDirectory()) {
    candidate = join(candidate, 'index.html');
    info = await stat(candidate).catch(() => undefined);
  }
  return info?.isFile() ? { path: candidate, size: info.size } : undefined;
}

function reply(response, status, text) {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`${text}\n`);
}
