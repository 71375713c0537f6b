/**
 * The merge patch (RFC 7396) that turns one state into another. The client reports every
 * change of the state it shows as such a patch, whatever moved it: a remote write, a catch-up
 * after a gap, a write the server refused and the client took back.
 */
import type { Json } from '../protocol.js';

type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject =>
  typeof value == 'object' && value !== null && !Array.isArray(value);

const has = (object: JsonObject, key: string) => Object.hasOwn(object, key);

/**
 * Returns a merge patch `p` with `applyMergePatch(from, p)` equal to `to`, or undefined when
 * the two are equal. States share unchanged branches, so equal branches are found by identity
 * before any deep comparison.
 *
 * Merge patches cannot set a value to null (null deletes), so a state holding nulls inside
 * objects is reported with those keys deleted; the state itself is always exact.
 *
 * @example diffStates({ a: 1, b: 2 }, { a: 1, c: 3 }) // { b: null, c: 3 }
 */
export function diffStates(from: Json, to: Json): Json | undefined {
  if (from === to) return undefined;
  if (!isObject(from) || !isObject(to)) {
    return !isObject(to) && JSON.stringify(from) === JSON.stringify(to) ? undefined : to;
  }

  const patch: JsonObject = {};
  let changed = false;
  const set = (key: string, value: Json) => {
    // defineProperty keeps a `__proto__` key as data instead of a prototype change.
    Object.defineProperty(patch, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    changed = true;
  };
  for (const key of Object.keys(from)) if (!has(to, key)) set(key, null);
  for (const key of Object.keys(to)) {
    const inner = has(from, key) ? diffStates(from[key], to[key]) : to[key];
    if (inner !== undefined) set(key, inner);
  }
  return changed ? patch : undefined;
}
