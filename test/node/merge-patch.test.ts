/**
 * Property tests for the RFC 7396 merge patch shared by server and client.
 * https://www.rfc-editor.org/rfc/rfc7396
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import {
  applyMergePatch,
  composeMergePatches,
  MERGE_PATCH_MAX_DEPTH,
  MergePatchDepthError,
} from '../../src/merge-patch.js';
import type { Json } from '../../src/protocol.js';

const RUNS = process.env.SYNC_LONG_TESTS === '1' ? 20_000 : 1_000;

type JsonObject = { [key: string]: Json };

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The RFC's pseudo-code, written as plainly as possible and independently of the module:
 * a Map holds the members, so no key can be special, and `Object.fromEntries` builds the
 * result with own data properties.
 */
function referenceMergePatch(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return patch;

  const members = new Map<string, Json>(isPlainObject(target) ? Object.entries(target) : []);
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) members.delete(name);
    else members.set(name, referenceMergePatch(members.get(name) ?? null, value));
  }
  return Object.fromEntries(members) as JsonObject;
}

/** JSON text with object members sorted, so equal documents compare equal as strings. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isPlainObject(value)) {
    const names = Object.keys(value).sort();
    return `{${names.map((name) => `${JSON.stringify(name)}:${canonical(value[name])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Asserts every object in `value` is an ordinary object whose members are own properties. */
function assertOrdinaryObjects(value: Json): void {
  if (Array.isArray(value)) return value.forEach(assertOrdinaryObjects);
  if (!isPlainObject(value)) return;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  for (const name of Object.keys(value)) {
    assert.ok(Object.prototype.hasOwnProperty.call(value, name));
    assertOrdinaryObjects(value[name]);
  }
}

/** Names that attack prototypes, mixed with a few ordinary names so patches hit documents. */
const memberName = fc.constantFrom(
  'a',
  'b',
  'c',
  'title',
  '',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
);

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6 }),
);

/**
 * Random JSON values in wire form: generated, then sent through JSON text the way a request
 * body arrives, so `__proto__` members are own data properties exactly as `JSON.parse` makes.
 */
const { json: jsonValue } = fc.letrec<{ json: Json }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('json'), { maxLength: 3 }),
    fc.dictionary(memberName, tie('json'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));
const wireJson = jsonValue.map((value) => JSON.parse(JSON.stringify(value)) as Json);
const wireObject = fc
  .dictionary(memberName, jsonValue, { maxKeys: 5, noNullPrototype: true })
  .map((value) => JSON.parse(JSON.stringify(value)) as Json);

/** Guards every test: no property run may leave anything on Object.prototype. */
function objectPrototypeSnapshot(): string {
  return Object.getOwnPropertyNames(Object.prototype).sort().join(',');
}

describe('applyMergePatch', () => {
  // RFC 7396, section 3 and Appendix A.
  const rfcExamples: Array<[Json, Json, Json]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    [
      {
        title: 'Goodbye!',
        author: { givenName: 'John', familyName: 'Doe' },
        tags: ['example', 'sample'],
        content: 'This will be unchanged',
      },
      {
        title: 'Hello!',
        phoneNumber: '+01-123-456-7890',
        author: { familyName: null },
        tags: ['example'],
      },
      {
        title: 'Hello!',
        author: { givenName: 'John' },
        tags: ['example'],
        content: 'This will be unchanged',
        phoneNumber: '+01-123-456-7890',
      },
    ],
  ];

  for (const [target, patch, expected] of rfcExamples) {
    test(`gives the RFC's result for ${JSON.stringify(target)} patched with ${JSON.stringify(patch)}`, () => {
      assert.deepStrictEqual(applyMergePatch(target, patch), expected);
    });
  }

  test('equals the reference model for random documents and patches', () => {
    fc.assert(
      fc.property(wireJson, wireJson, (target, patch) => {
        assert.equal(
          canonical(applyMergePatch(target, patch)),
          canonical(referenceMergePatch(target, patch)),
        );
      }),
      { numRuns: RUNS },
    );
  });

  test('leaves its arguments unchanged', () => {
    fc.assert(
      fc.property(wireJson, wireJson, (target, patch) => {
        const before = [canonical(target), canonical(patch)];
        applyMergePatch(target, patch);
        assert.deepStrictEqual([canonical(target), canonical(patch)], before);
      }),
      { numRuns: RUNS },
    );
  });

  test('keeps __proto__, constructor and prototype members as plain own data', () => {
    const before = objectPrototypeSnapshot();
    fc.assert(
      fc.property(wireJson, wireObject, (target, patch) => {
        const result = applyMergePatch(target, patch);
        assertOrdinaryObjects(result);
        assert.equal(objectPrototypeSnapshot(), before);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      }),
      { numRuns: RUNS },
    );
  });

  test('stores a __proto__ member of a request body as data and leaves Object.prototype alone', () => {
    const patch = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');

    const result = applyMergePatch({}, patch) as JsonObject;

    assert.deepStrictEqual(Object.keys(result), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(canonical(result['__proto__']), '{"polluted":true}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as unknown as Record<string, unknown>).x, undefined);
  });

  test('removes a __proto__ member on null without touching the prototype', () => {
    const target = JSON.parse('{"__proto__":{"a":1},"b":2}');

    const result = applyMergePatch(target, JSON.parse('{"__proto__":null}')) as JsonObject;

    assert.deepStrictEqual(Object.keys(result), ['b']);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
  });

  test('throws nothing for any JSON value as target or patch', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (target, patch) => {
        applyMergePatch(target as Json, patch as Json);
      }),
      { numRuns: RUNS },
    );
  });

  test('applies a patch nested to the maximum depth', () => {
    const patch = nested(MERGE_PATCH_MAX_DEPTH);

    assert.equal(canonical(applyMergePatch({}, patch)), canonical(patch));
  });

  test('refuses a patch nested deeper than the maximum with its own typed error', () => {
    assert.throws(() => applyMergePatch({}, nested(100_000)), MergePatchDepthError);
  });
});

describe('composeMergePatches', () => {
  test('has the effect of applying the first patch then the second, when it gives a patch', () => {
    let composedPairs = 0;
    fc.assert(
      fc.property(wireJson, wireJson, wireJson, (document, first, second) => {
        const composed = composeMergePatches(first, second);
        if (composed === undefined) return;
        composedPairs++;
        const inTurn = applyMergePatch(applyMergePatch(document, first), second);
        assert.equal(canonical(applyMergePatch(document, composed)), canonical(inTurn));
      }),
      { numRuns: RUNS },
    );
    // Guards the property against passing vacuously.
    assert.ok(composedPairs > RUNS / 4, `only ${composedPairs} of ${RUNS} pairs composed`);
  });

  test('gives a patch for any two object patches that only add or change scalars', () => {
    const scalarPatch = fc.dictionary(memberName, scalar, { maxKeys: 5, noNullPrototype: true });
    fc.assert(
      fc.property(scalarPatch, scalarPatch, (first, second) => {
        assert.notEqual(composeMergePatches(first, second), undefined);
      }),
      { numRuns: RUNS },
    );
  });

  test('keeps __proto__ members as plain own data', () => {
    const before = objectPrototypeSnapshot();
    fc.assert(
      fc.property(wireObject, wireObject, (first, second) => {
        const composed = composeMergePatches(first, second);
        if (composed !== undefined) assertOrdinaryObjects(composed);
        assert.equal(objectPrototypeSnapshot(), before);
      }),
      { numRuns: RUNS },
    );
  });

  test('throws nothing for any JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (first, second) => {
        composeMergePatches(first as Json, second as Json);
      }),
      { numRuns: RUNS },
    );
  });

  test('refuses patches nested deeper than the maximum with its own typed error', () => {
    assert.throws(
      () => composeMergePatches(nested(100_000), nested(100_000)),
      MergePatchDepthError,
    );
  });
});

/** `{"a":{"a":…1…}}` with `depth` objects, built without recursion. */
function nested(depth: number): Json {
  let value: Json = 1;
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}
