import fc from 'fast-check';
import { hashKey, rangeContains, type HashRange } from '@kv/ring';
import { bucketParts, EMPTY_DIGEST, intersectRanges, KeyIndex } from './key-index';

const hash = fc.integer({ min: 0, max: 2 ** 32 - 1 });

describe('KeyIndex', () => {
  test('finds exactly the keys of any range, wrapping or not (property)', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
    const index = new KeyIndex();
    for (const key of keys) index.record(key, 'v1');
    index.record('key-1', 'v2'); // twice: counted once
    expect(index.size).toBe(keys.length);
    fc.assert(
      fc.property(hash, hash, (start, end) => {
        const range = { start, end };
        const expected = keys.filter((key) => rangeContains(range, hashKey(key))).sort();
        expect([...index.keysIn(range)].sort()).toEqual(expected);
      }),
      { numRuns: 200 },
    );
    // Near the wrap and within one bucket.
    for (const range of [{ start: 2 ** 32 - 1, end: 5 }, { start: 100, end: 50 }, { start: 7, end: 7 }, { start: 5, end: 6 }]) {
      expect([...index.keysIn(range)].sort()).toEqual(keys.filter((key) => rangeContains(range, hashKey(key))).sort());
    }
  });

  test('forgets purged keys', () => {
    const index = new KeyIndex();
    index.record('a', 'v1');
    index.record('b', 'v1');
    index.record('a', undefined);
    index.record('never', undefined);
    expect(index.size).toBe(1);
    expect([...index.keysIn({ start: 0, end: 0 })]).toEqual(['b']);
    expect(index.versionOf('a')).toBeUndefined();
  });

  test('digests stay equal to a from-scratch computation after random writes and purges, for any range (property)', () => {
    const op = fc.record({ key: fc.integer({ min: 0, max: 400 }), version: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 600 }), hash, hash, (ops, start, end) => {
        const index = new KeyIndex();
        const held = new Map<string, string>();
        for (const { key, version } of ops) {
          const name = `k${key}`;
          const text = version === undefined ? undefined : `v${version}`;
          index.record(name, text);
          if (text === undefined) held.delete(name);
          else held.set(name, text);
        }
        // The same pairs, recorded from scratch in another order.
        const fresh = new KeyIndex();
        for (const [key, version] of [...held].reverse()) fresh.record(key, version);
        const range: HashRange = { start, end };
        expect(index.digest(range)).toEqual(fresh.digest(range));
        expect(index.bucketDigests(range)).toEqual(fresh.bucketDigests(range));
        expect(index.digest(range).keys).toBe([...held.keys()].filter((key) => rangeContains(range, hashKey(key))).length);
        // The whole circle is the XOR of any split of it.
        const whole = index.digest({ start: 0, end: 0 });
        expect(whole.keys).toBe(held.size);
        if (held.size === 0) expect(whole.digest).toBe(EMPTY_DIGEST);
      }),
      { numRuns: 80 },
    );
  });

  test('a different version or a missing key changes the digest of its range and of its bucket only', () => {
    const a = new KeyIndex();
    const b = new KeyIndex();
    for (let i = 0; i < 2000; i++) {
      a.record(`key-${i}`, 'v1');
      b.record(`key-${i}`, 'v1');
    }
    b.record('key-7', 'v2');
    b.record('key-8', undefined);
    const whole = { start: 0, end: 0 };
    expect(a.digest(whole).digest).not.toBe(b.digest(whole).digest);
    const differing = a
      .bucketDigests(whole)
      .filter((bucket) => b.bucketDigests(whole).find((other) => other.bucket === bucket.bucket)?.digest !== bucket.digest)
      .map((bucket) => bucket.bucket);
    expect(differing.sort((x, y) => x - y)).toEqual([...new Set([hashKey('key-7') >>> 20, hashKey('key-8') >>> 20])].sort((x, y) => x - y));
  });

  test('bucket parts and intersections cover exactly the hashes common to both (property)', () => {
    fc.assert(
      fc.property(hash, hash, hash, hash, fc.integer({ min: 0, max: 4095 }), (s1, e1, s2, e2, bucket) => {
        const a = { start: s1, end: e1 };
        const b = { start: s2, end: e2 };
        const probes = [s1, e1, s2, e2, (s1 + 1) % 2 ** 32, (s2 + 1) % 2 ** 32, bucket * 2 ** 20, bucket * 2 ** 20 + 2 ** 20 - 1, 0, 2 ** 32 - 1];
        for (const h of probes) {
          expect(intersectRanges(a, b).some((part) => rangeContains(part, h))).toBe(rangeContains(a, h) && rangeContains(b, h));
          expect(bucketParts(a, bucket).some((part) => rangeContains(part, h))).toBe(rangeContains(a, h) && h >>> 20 === bucket);
        }
      }),
      { numRuns: 500 },
    );
  });
});
