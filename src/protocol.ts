/**
 * The wire contract between the session-sync server and its clients.
 *
 * Both sides import these types and constants, so a change to the contract is a change to this
 * one file. Nothing here touches the DOM or Node: it must load in browsers, Node and edge
 * runtimes alike.
 */

/** Any value JSON can carry. The shared state of a session is one of these. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Answer to `POST /sessions` (201). Also the answer to a `PUT` that re-creates a session. */
export interface SessionCreated {
  key: string;
  /** Secret that grants writing. The key alone grants reading. */
  writeToken: string;
  version: number;
  state: Json;
  /** ISO 8601 time of the last accepted write. */
  updatedAt: string;
}

/** A client that announced itself with `PUT /sessions/{key}/presence/{clientId}`. */
export interface Peer {
  clientId: string;
  /** Whatever the client announced: a name, a colour, a cursor position. */
  data: Json;
}

/** Answer to `GET /sessions/{key}` (200, with `ETag: "<version>"`). */
export interface SessionView {
  key: string;
  version: number;
  state: Json;
  updatedAt: string;
  peers: Peer[];
}

/**
 * One accepted write. `patch` is an RFC 7396 merge patch, or the whole new state when
 * `replace` is true (a `PUT`). `by` echoes the writer's `Sync-Client` header, or null.
 */
export interface Change {
  version: number;
  patch: Json;
  by: string | null;
  replace?: true;
}

/** Answer to `GET /sessions/{key}/changes?since=V` when the history reaches back to V. */
export interface ChangesResponse {
  version: number;
  changes: Change[];
}

/** Answer to `GET /sessions/{key}/changes?since=V` when the history no longer reaches V. */
export interface ResetResponse {
  version: number;
  state: Json;
  reset: true;
}

/** Answer to an accepted `PATCH` or `PUT` (200, with `ETag`). */
export interface WriteAck {
  version: number;
  updatedAt: string;
}

/** Data of the SSE `snapshot` event; its `id:` is the version. */
export interface SnapshotEventData {
  version: number;
  state: Json;
  peers: Peer[];
}

/** Data of the SSE `change` event; its `id:` is the version. */
export type ChangeEventData = Change;

/** Data of the SSE `presence` event: the whole list of peers after the change. */
export interface PresenceEventData {
  peers: Peer[];
}

/**
 * Data of the SSE `unavailable` event: the server's store cannot be reached, so changes may
 * pause. The stream stays open; missed changes follow, in order, once the store is back.
 */
export interface UnavailableEventData {
  detail: string;
}

/**
 * Stable error codes. The server puts one in every problem document (as `code`, and as the
 * last segment of `type`); the element puts one in every `error` event.
 */
export type ErrorCode =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'session-not-found'
  | 'method-not-allowed'
  | 'version-conflict'
  | 'too-large'
  | 'unsupported-media-type'
  | 'rate-limited'
  | 'store-full'
  | 'unavailable'
  | 'streams-unsupported'
  | 'internal'
  | 'network';

/** An RFC 9457 problem document, as every error response of the server carries. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  /** On `412`: the version the session is at now. */
  version?: number;
}

/** Prefix of every problem `type`; the error code follows it. */
export const PROBLEM_TYPE_PREFIX = 'urn:session-sync:problem:';

/** Media types and headers the contract names. */
export const MERGE_PATCH_TYPE = 'application/merge-patch+json';
export const PROBLEM_TYPE = 'application/problem+json';
export const CLIENT_HEADER = 'Sync-Client';

/**
 * Session keys and write tokens: URL-safe base64 of at least 128 random bits (22 characters).
 * The upper bound keeps hostile keys from growing store key names without limit.
 */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,128}$/;

/** Client ids (the `Sync-Client` header and presence ids): short and printable. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Formats a version as the strong entity tag the server sends and expects. */
export function versionTag(version: number): string {
  return `"${version}"`;
}

/**
 * Reads a version out of an `If-Match` / `If-None-Match` / `ETag` value such as `"12"` or
 * `W/"12"`. Returns undefined for anything else, including `*` and lists.
 */
export function parseVersionTag(value: string | null | undefined): number | undefined {
  const match = value?.trim().match(/^(?:W\/)?"(\d{1,15})"$/);
  return match ? Number(match[1]) : undefined;
}
