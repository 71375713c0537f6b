/**
 * Structured logging: one JSON line per request and one per lifecycle event.
 *
 * A request line names the route pattern (`/sessions/:key`), never the path: the key in a
 * path grants reading, so it stays out of logs, like tokens and state.
 */
import type { LogSink } from './options.js';

export type LogLevel = 'info' | 'warn' | 'error';

/** One log entry. Request entries carry method, route, status and ms. */
export interface LogEntry {
  level: LogLevel;
  /** ISO 8601 time the entry was made. */
  time: string;
  /** What happened: `request`, `listening`, `closing`, `closed`, `error`. */
  msg: string;
  method?: string;
  route?: string;
  status?: number;
  ms?: number;
  url?: string;
  /** For `error`: the error's name and message, never its payload. */
  error?: string;
}

/** Writes each entry as a JSON line on standard output, where a process has one. */
export const jsonLinesToStdout: LogSink = (entry) => {
  const stdout = (globalThis as { process?: { stdout?: { write(line: string): void } } }).process
    ?.stdout;
  stdout?.write(`${JSON.stringify(entry)}\n`);
};

/** A logger bound to a sink; every method is a no-op when logging is off. */
export class Logger {
  readonly #sink: LogSink | undefined;

  constructor(sink: LogSink | false | undefined) {
    this.#sink = sink === false ? undefined : (sink ?? jsonLinesToStdout);
  }

  /** Logs a finished request (for streams: when the stream started). */
  request(method: string, route: string, status: number, startedAt: number): void {
    if (!this.#sink) return;
    const level: LogLevel = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    const ms = Math.round((performance.now() - startedAt) * 10) / 10;
    this.#emit({
      level,
      time: new Date().toISOString(),
      msg: 'request',
      method,
      route,
      status,
      ms,
    });
  }

  /** Logs a lifecycle event such as `listening` or `closed`. */
  lifecycle(msg: string, fields: Partial<LogEntry> = {}): void {
    if (!this.#sink) return;
    this.#emit({ level: 'info', time: new Date().toISOString(), msg, ...fields });
  }

  /** Logs an unexpected failure by name and message only. */
  error(error: unknown, fields: Partial<LogEntry> = {}): void {
    if (!this.#sink) return;
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.#emit({
      level: 'error',
      time: new Date().toISOString(),
      msg: 'error',
      error: text,
      ...fields,
    });
  }

  #emit(entry: LogEntry): void {
    try {
      this.#sink!(entry);
    } catch {
      // A broken log sink must not break the request it reports on.
    }
  }
}
