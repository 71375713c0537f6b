/**
 * The token hash must equal SHA-256 exactly: stores written by one version of the server are
 * read by the next, and a Redis shared by several instances holds hashes from all of them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';

import { sha256Hex } from '../../src/server/sha256.js';
import { hashToken } from '../../src/server/tokens.js';

const reference = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('sha256Hex', () => {
  test('gives the FIPS 180-4 example digests', () => {
    assert.equal(
      sha256Hex('abc'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(
      sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  test('agrees with node:crypto at every padding boundary', () => {
    for (let length = 0; length <= 200; length++) {
      const text = 'k'.repeat(length);
      assert.equal(sha256Hex(text), reference(text), `length ${length}`);
    }
  });

  test('agrees with node:crypto on any text, hashed as UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        assert.equal(sha256Hex(text), reference(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('hashToken', () => {
  test('gives the SHA-256 of a token whether it was hashed lately or not', () => {
    const token = 'a-write-token-of-24-chars';
    const first = hashToken(token);
    // More distinct tokens than the memo of recent hashes holds, so it is emptied on the way.
    for (let i = 0; i < 10_000; i++) assert.equal(hashToken(`other-${i}`), reference(`other-${i}`));

    assert.equal(first, reference(token));
    assert.equal(hashToken(token), reference(token));
    assert.equal(hashToken(token), first);
  });
});
