/**
 * Options of `SyncClient`, with their defaults in one place. The element's attributes map
 * onto these (`poll-interval` is `pollIntervalMs`, `transport` is `transport`).
 */
import type { TransportName } from './transports.js';

/** `auto` starts with Server-Sent Events and falls back to long-poll, then to polling. */
export type TransportMode = 'auto' | TransportName;

export interface SyncClientOptions {
  /**
   * Base URL of the sync server, such as `https://sync.example.com` or `/api/sync/`.
   * A relative URL is resolved against the document's base URL.
   */
  endpoint: string | URL;
  /** How to receive changes. Default `auto`. */
  transport?: TransportMode;
  /** Between two polls with `transport: 'poll'`. Default 5000. */
  pollIntervalMs?: number;
  /** Between two polls while the page is hidden. Default 30000. */
  hiddenPollIntervalMs?: number;
  /** How long the server may hold a long-poll request. Default 25. */
  longPollWaitSeconds?: number;
  /** Cap of the first reconnection delay; it doubles per failure. Default 500. */
  retryBaseDelayMs?: number;
  /** Cap of any reconnection delay, unless the server's `Retry-After` asks for more. Default 30000. */
  retryMaxDelayMs?: number;
  /** How often presence is refreshed; keep it under the server's TTL (30 s). Default 15000. */
  presenceIntervalMs?: number;
  /** Shown to peers in the presence list. */
  name?: string;
  /** The `fetch` to use, for tests and runtimes that need their own. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

export type ResolvedOptions = Required<Omit<SyncClientOptions, 'name' | 'fetch' | 'endpoint'>>;

/** The defaults, as documented in the README. */
export const SYNC_CLIENT_DEFAULTS: ResolvedOptions = {
  transport: 'auto',
  pollIntervalMs: 5000,
  hiddenPollIntervalMs: 30000,
  longPollWaitSeconds: 25,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 30000,
  presenceIntervalMs: 15000,
};
