import CRC32 from 'crc-32';
import { fmix32, hashKey, vnodeToken } from './hash';
import { HASH_MAX } from './limits';
import { naturalKeys, seededRandom } from './testing/keys';
import { crc32Reference, fmix32Reference, tokenReference } from './testing/tokens';

describe('hashKey', () => {
  it('is the standard CRC32 (check value of "123456789" is 0xCBF43926)', () => {
    expect(hashKey('123456789')).toBe(0xcbf43926);
    expect(hashKey('')).toBe(0);
  });

  it.each(['plain', 'é', 'zürich', '東京', 'emoji 🙂 pair', 'mixed/𝄞/ß/∑', 'x'.repeat(1024)])(
    'hashes the UTF-8 bytes of %j',
    (key) => {
      expect(hashKey(key)).toBe(CRC32.buf(Buffer.from(key, 'utf8')) >>> 0);
    },
  );

  it('returns unsigned 32-bit integers', () => {
    for (const key of naturalKeys(2000)) {
      const hash = hashKey(key);
      expect(Number.isInteger(hash)).toBe(true);
      expect(hash).toBeGreaterThanOrEqual(0);
      expect(hash).toBeLessThanOrEqual(HASH_MAX);
    }
  });

  it.each([undefined, null, 42, {}, ['a']])('throws TypeError for the non-string %p', (key) => {
    expect(() => hashKey(key as unknown as string)).toThrow(TypeError);
  });
});

describe('fmix32', () => {
  it('matches published MurmurHash3 x86_32 vectors (an empty input hashes to fmix32(seed))', () => {
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7); // MurmurHash3_x86_32("", seed 1)
    expect(fmix32(0xffffffff)).toBe(0x81f16f39); // MurmurHash3_x86_32("", seed 0xffffffff)
  });

  it('matches the exact BigInt implementation of the test helper', () => {
    // High input bits, where a multiplication that lost precision would show, and the CRC32 check value.
    for (const [input, output] of [
      [0x80000000, 0x6d3c65a0],
      [0xcbf43926, 0xe8781fa3],
      [1, 0x514e28b7],
    ]) {
      expect(fmix32Reference(input)).toBe(output);
      expect(fmix32(input)).toBe(output);
    }
    const random = seededRandom(7);
    const mismatches: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const value = Math.floor(random() * 0x100000000);
      if (fmix32(value) !== fmix32Reference(value)) {
        mismatches.push(value);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('is a bijection on the values it meets: distinct inputs give distinct outputs', () => {
    const random = seededRandom(11);
    const inputs = new Set<number>();
    while (inputs.size < 100_000) {
      inputs.add(Math.floor(random() * 0x100000000));
    }
    const outputs = new Set([...inputs].map(fmix32));
    expect(outputs.size).toBe(inputs.size);
  });
});

describe('vnodeToken', () => {
  it('is fmix32 of the CRC32 of "<id>#<i>"', () => {
    // Golden values: a change of separator, hash or mixer would silently reshuffle every cluster's data.
    // CRC32("node1#0") = 0x62d44b9f, CRC32("a#1") = 0x59230f5e; fmix32 of those:
    expect(vnodeToken('node1', 0)).toBe(0x07cf3125);
    expect(vnodeToken('a', 1)).toBe(0xc1a8e5d5);
    expect(vnodeToken('node7', 127)).toBe(0xc9be1576);
    expect(crc32Reference('node1#0')).toBe(0x62d44b9f);
    expect(crc32Reference('a#1')).toBe(0x59230f5e);
    expect(vnodeToken('node7', 127)).toBe(fmix32Reference(CRC32.str('node7#127') >>> 0));
  });

  it('agrees with the independent rule for many ids and indexes', () => {
    const mismatches: string[] = [];
    for (const id of ['node1', 'node42', 'a', 'é', '東京-1', 'x'.repeat(256)]) {
      for (const i of [0, 1, 9, 10, 99, 100, 127, 4095]) {
        if (vnodeToken(id, i) !== tokenReference(id, i)) {
          mismatches.push(`${id}#${i}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it.each([
    ['id not a string', 7, 0],
    ['negative index', 'a', -1],
    ['fractional index', 'a', 1.5],
    ['NaN index', 'a', Number.NaN],
  ])('throws TypeError: %s', (_case, id, vnode) => {
    expect(() => vnodeToken(id as unknown as string, vnode as number)).toThrow(TypeError);
  });
});
