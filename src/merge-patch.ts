/**
 * JSON Merge Patch (RFC 7396), shared by the server (to apply writes) and the client (to apply
 * its own writes at once and remote changes as they arrive).
 *
 * Keys such as `__proto__`, `constructor` and `prototype` are plain data here: results are
 * built with `Object.defineProperty`, so no key can reach an object's prototype.
 * https://www.rfc-editor.org/rfc/rfc7396
 */
import type { Json } from './protocol.js';

type JsonObject = { [key: string]: Json };

/**
 * How deeply nested a patch may be. Recursion this deep is safe on any engine's default stack;
 * deeper input would otherwise escape as the engine's own `RangeError`. The server refuses
 * bodies long before this (its nesting limit defaults to 64).
 */
export const MERGE_PATCH_MAX_DEPTH = 1000;

/** A patch nested deeper than {@link MERGE_PATCH_MAX_DEPTH}; nothing was changed. */
export class MergePatchDepthError extends RangeError {
  override name = 'MergePatchDepthError';
  constructor() {
    super(`merge patch nested deeper than ${MERGE_PATCH_MAX_DEPTH} levels`);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own, enumerable property even when the key is `__proto__`. */
function define(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/**
 * Returns `target` with `patch` applied. Neither argument is changed; unchanged branches of
 * `target` are shared with the result, so treat states as immutable.
 *
 * @param target - the current document
 * @param patch - an RFC 7396 merge patch; a non-object replaces the document whole
 * @returns the patched document
 * @throws MergePatchDepthError when `patch` is nested deeper than `MERGE_PATCH_MAX_DEPTH`
 * @example applyMergePatch({ a: 1, b: 2 }, { b: null, c: 3 }) // { a: 1, c: 3 }
 */
export function applyMergePatch(target: Json, patch: Json): Json {
  return applyAt(target, patch, 0);
}

function applyAt(target: Json, patch: Json, depth: number): Json {
  if (!isObject(patch)) return patch;
  if (depth >= MERGE_PATCH_MAX_DEPTH) throw new MergePatchDepthError();

  const result: JsonObject = {};
  if (isObject(target)) {
    for (const key of Object.keys(target)) define(result, key, target[key]);
  }
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete result[key];
    } else {
      const current = Object.prototype.hasOwnProperty.call(result, key) ? result[key] : null;
      define(result, key, applyAt(current, value, depth + 1));
    }
  }
  return result;
}

/**
 * Composes two merge patches into one with the same effect as applying `first` then `second`.
 * The client uses it to coalesce writes queued while offline or while a write is in flight.
 *
 * Some pairs have no single merge patch: when `second` puts an object where `first` put a
 * scalar or deleted the key, the object must replace whatever the document held there, and a
 * merge patch can only merge into it. Those pairs return undefined and must be sent in turn.
 *
 * @returns a patch `p` such that `applyMergePatch(applyMergePatch(s, first), second)` equals
 *   `applyMergePatch(s, p)` for every document `s`, or undefined when no such patch exists
 * @throws MergePatchDepthError when the patches are nested deeper than `MERGE_PATCH_MAX_DEPTH`
 * @example composeMergePatches({ a: 1 }, { b: 2 }) // { a: 1, b: 2 }
 */
export function composeMergePatches(first: Json, second: Json): Json | undefined {
  return composeAt(first, second, 0);
}

function composeAt(first: Json, second: Json, depth: number): Json | undefined {
  if (!isObject(second)) return second;
  if (!isObject(first)) return undefined;
  if (depth >= MERGE_PATCH_MAX_DEPTH) throw new MergePatchDepthError();

  const result: JsonObject = {};
  for (const key of Object.keys(first)) define(result, key, first[key]);
  for (const key of Object.keys(second)) {
    const next = second[key];
    const hasPrevious = Object.prototype.hasOwnProperty.call(first, key);
    if (!hasPrevious || !isObject(next)) {
      define(result, key, next);
      continue;
    }
    const composed = composeAt(first[key], next, depth + 1);
    if (composed === undefined) return undefined;
    define(result, key, composed);
  }
  return result;
}
