#!/usr/bin/env node
/**
 * `session-sync-server`: runs the sync server from the command line.
 *
 * Flags win over environment variables, which win over defaults. The server logs JSON lines
 * on stdout (the first one carries the URL) and shuts down cleanly on SIGTERM and SIGINT,
 * ending open event streams so clients reconnect elsewhere at once.
 */
import { parseArgs } from 'node:util';
import { HEADER_NAME_PATTERN } from './limits.js';
import { Logger } from './log.js';
import { startServer } from './node.js';
import { DEFAULT_OPTIONS } from './options.js';
import type { ServerOptions } from './options.js';
import type { SyncStore } from './store.js';

const HELP = `Usage: session-sync-server [options]

Options:
  --port <n>            port to listen on (env PORT; default ${DEFAULT_OPTIONS.port}; 0 = any free port)
  --host <host>         interface to listen on (env HOST; default ${DEFAULT_OPTIONS.host};
                        0.0.0.0 accepts other machines)
  --allow-origin <o>    origins allowed to call, comma-separated (env ALLOW_ORIGIN; default *)
  --ttl <duration>      idle time before a session is removed, such as 90s, 30m, 24h, 7d
                        or milliseconds (env SESSION_TTL; default 24h)
  --redis <url>         keep sessions in Redis, such as redis://127.0.0.1:6379 (env REDIS_URL),
                        so several instances share them; default: in memory
  --trust-proxy-header <name>
                        take the client address for the limits from this header, such as
                        x-forwarded-for, set by a reverse proxy you run in front (env
                        TRUST_PROXY_HEADER); default: the connection's address
  -h, --help            show this help
`;

/** Raised for a bad flag: printed with the usage hint, exit code 2. */
class UsageError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Reads `90s`, `30m`, `24h`, `7d`, `500ms` or a plain number of milliseconds. */
function parseDuration(text: string): number {
  const match = text.trim().match(/^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/);
  const ms = match ? Number(match[1]) * UNITS[match[2] ?? 'ms']! : NaN;
  if (!(ms > 0))
    throw new UsageError(`--ttl: expected a duration such as 30m or 24h, got "${text}"`);
  return ms;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65535) {
    throw new UsageError(`--port: expected a number from 0 to 65535, got "${text}"`);
  }
  return port;
}

function parseHeaderName(text: string): string {
  if (!HEADER_NAME_PATTERN.test(text.trim())) {
    throw new UsageError(`--trust-proxy-header: expected a header name, got "${text}"`);
  }
  return text.trim().toLowerCase();
}

interface Command {
  help: boolean;
  options: Partial<ServerOptions>;
  redisUrl: string | undefined;
}

/** Turns arguments and environment into server options. */
function parseCommand(argv: string[], env: NodeJS.ProcessEnv): Command {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'allow-origin': { type: 'string' },
        ttl: { type: 'string' },
        redis: { type: 'string' },
        'trust-proxy-header': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }

  const options: Partial<ServerOptions> = {};
  const port = values.port ?? env.PORT;
  if (port) options.port = parsePort(port);
  const host = values.host ?? env.HOST;
  if (host) options.host = host;
  const origins = values['allow-origin'] ?? env.ALLOW_ORIGIN;
  if (origins) {
    const list = origins
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean);
    options.allowOrigin = list.length === 1 ? list[0]! : list;
  }
  const ttl = values.ttl ?? env.SESSION_TTL;
  if (ttl) options.sessionTtlMs = parseDuration(ttl);
  const proxyHeader = values['trust-proxy-header'] ?? env.TRUST_PROXY_HEADER;
  if (proxyHeader) options.trustProxyHeader = parseHeaderName(proxyHeader);

  return { help: values.help ?? false, options, redisUrl: values.redis ?? env.REDIS_URL };
}

/** Opens the Redis store, loaded only when asked for so in-memory servers never load ioredis. */
async function redisStore(url: string, options: Partial<ServerOptions>): Promise<SyncStore> {
  const { RedisStore } = await import('./redis-store.js');
  const logger = new Logger(options.log);
  return new RedisStore({
    url,
    sessionTtlMs: options.sessionTtlMs ?? DEFAULT_OPTIONS.sessionTtlMs,
    historyLimit: options.historyLimit ?? DEFAULT_OPTIONS.historyLimit,
    // Connection failures (each failed reconnect) become error lines; requests meanwhile
    // answer 503 with Retry-After.
    onError: (error) => logger.error(error),
  });
}

async function main(): Promise<void> {
  const command = parseCommand(process.argv.slice(2), process.env);
  if (command.help) {
    process.stdout.write(HELP);
    return;
  }
  const options = { ...command.options };
  if (command.redisUrl) options.store = await redisStore(command.redisUrl, options);

  const server = await startServer(options);
  const shutDown = () => {
    // A second signal, or a close that hangs, still ends the process.
    setTimeout(() => process.exit(1), 5000).unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutDown);
  process.once('SIGINT', shutDown);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`session-sync-server: ${message}\n`);
  if (error instanceof UsageError) process.stderr.write('Try --help.\n');
  process.exit(error instanceof UsageError ? 2 : 1);
});
