import fc from 'fast-check';
import { hashKey, rangeContains } from '@kv/ring';
import { KeyIndex } from './key-index';

describe('KeyIndex', () => {
  test('finds exactly the keys of any range, wrapping or not (property)', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
    const index = new KeyIndex();
    for (const key of keys) index.add(key);
    index.add('key-1'); // twice: counted once
    expect(index.size).toBe(keys.length);
    const hash = fc.integer({ min: 0, max: 2 ** 32 - 1 });
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

  test('forgets deleted keys', () => {
    const index = new KeyIndex();
    index.add('a');
    index.add('b');
    index.delete('a');
    index.delete('never');
    expect(index.size).toBe(1);
    expect([...index.keysIn({ start: 0, end: 0 })]).toEqual(['b']);
  });
});
