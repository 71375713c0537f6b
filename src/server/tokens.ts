/**
 * Session keys and write tokens: random, URL-safe, stored only as hashes.
 *
 * No `node:crypto`: random bytes come from Web Crypto and hashes from `sha256.ts`, so the
 * handler runs unchanged on edge runtimes.
 */
import { sha256Hex } from './sha256.js';

/** 144 bits: above the contract's 128 and a whole number of base64 characters (24). */
const RANDOM_BYTES = 18;

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh random identifier: 24 URL-safe characters carrying 144 random bits. */
export function randomId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(RANDOM_BYTES)));
}

/**
 * Hashes of tokens seen lately. A writer sends the same token with every write, so each is
 * hashed once rather than per request. Cleared whenever it fills, so a flood of made-up tokens
 * costs a hash each, as without it, and cannot grow it. The tokens stay in this process's
 * memory, where their requests were anyway; what a store keeps is still the hash alone.
 */
const recentHashes = new Map<string, string>();
const RECENT_HASHES_MAX = 4096;

/** Hex SHA-256 of a token, as stores keep it. */
export function hashToken(token: string): string {
  let hash = recentHashes.get(token);
  if (hash === undefined) {
    hash = sha256Hex(token);
    if (recentHashes.size >= RECENT_HASHES_MAX) recentHashes.clear();
    recentHashes.set(token, hash);
  }
  return hash;
}

/**
 * Compares two strings in time that depends only on their length, so a wrong token's answer
 * time says nothing about how much of it was right. Both sides are hashes of equal length.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** True when `token` hashes to `tokenHash`. */
export function tokenMatches(token: string, tokenHash: string): boolean {
  return constantTimeEqual(hashToken(token), tokenHash);
}
