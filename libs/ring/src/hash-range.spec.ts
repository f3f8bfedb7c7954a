import { HashRange, rangeContains, rangeSize } from './hash-range';
import { HASH_MAX, HASH_SPACE_SIZE } from './limits';

describe('rangeContains and rangeSize', () => {
  it.each<[string, HashRange, number[], number[], number]>([
    ['plain (10, 20]', { start: 10, end: 20 }, [11, 15, 20], [9, 10, 21, 0, HASH_MAX], 10],
    ['from 0', { start: 0, end: 5 }, [1, 5], [0, 6, HASH_MAX], 5],
    ['up to the top', { start: HASH_MAX - 3, end: HASH_MAX }, [HASH_MAX - 2, HASH_MAX], [HASH_MAX - 3, 0], 3],
    ['wrapping (HASH_MAX - 2, 3]', { start: HASH_MAX - 2, end: 3 }, [HASH_MAX - 1, HASH_MAX, 0, 3], [4, HASH_MAX - 2], 6],
    ['starting at the top: [0, 7]', { start: HASH_MAX, end: 7 }, [0, 7], [8, HASH_MAX], 8],
    ['whole circle', { start: 42, end: 42 }, [0, 41, 42, 43, HASH_MAX], [], HASH_SPACE_SIZE],
  ])('%s', (_name, range, inside, outside, size) => {
    for (const hash of inside) {
      expect(rangeContains(range, hash)).toBe(true);
    }
    for (const hash of outside) {
      expect(rangeContains(range, hash)).toBe(false);
    }
    expect(rangeSize(range)).toBe(size);
  });

  it.each<[string, HashRange, number]>([
    ['negative hash', { start: 0, end: 1 }, -1],
    ['hash above HASH_MAX', { start: 0, end: 1 }, HASH_SPACE_SIZE],
    ['fractional hash', { start: 0, end: 1 }, 0.5],
    ['bad start', { start: -1, end: 1 }, 0],
    ['bad end', { start: 0, end: Number.NaN }, 0],
  ])('throws TypeError: %s', (_name, range, hash) => {
    expect(() => rangeContains(range, hash)).toThrow(TypeError);
  });

  it('rangeSize validates its range', () => {
    expect(() => rangeSize({ start: 0, end: HASH_SPACE_SIZE })).toThrow(TypeError);
  });
});
