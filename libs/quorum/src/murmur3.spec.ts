import fc from 'fast-check';
import { murmur3x86_128 } from './murmur3';

const SEED = 0x6b76;

function hash(text: string): number[] {
  return [...murmur3x86_128(text, SEED, new Uint32Array(4))];
}

describe('murmur3x86_128', () => {
  // Reference values: mmh3.hash128(text.encode('utf-16-le'), 0x6b76, x64arch=False) in Python, as h1..h4.
  test.each<[string, number[]]>([
    ['', [0x46fba6b, 0x117bc6c7, 0x117bc6c7, 0x117bc6c7]],
    ['a', [0x57e13010, 0x3bb1ba2e, 0x3bb1ba2e, 0x3bb1ba2e]],
    ['ab', [0x9744eadd, 0x2aca581f, 0x2aca581f, 0x2aca581f]],
    ['abcd', [0x6dd71d61, 0xae6272b, 0x41516f94, 0x41516f94]],
    ['hello world!', [0xab87ff98, 0xe435f72f, 0x552927aa, 0xa1bd0143]],
    ['abcdefg', [0xe6e5248e, 0x684ee253, 0x9a058f57, 0x93f5de6a]],
    ['3:key\n1733412345678.p3f9a1c2.12', [0xc3ebf178, 0x7adde3d4, 0x5aed184, 0x4be70fdd]],
    ['é€😀 key', [0xca315d91, 0x29b50399, 0x6093a122, 0x80fc2514]],
    ['x'.repeat(37), [0x8a28cb56, 0x399f8c94, 0xd4c51bef, 0xf41a6523]],
  ])('matches the reference for %j', (text, words) => {
    expect(hash(text)).toEqual(words);
  });

  test('writes into the words it is given and returns them', () => {
    const out = new Uint32Array(4);
    expect(murmur3x86_128('abc', SEED, out)).toBe(out);
    expect([...out]).toEqual(hash('abc'));
  });

  test('is stable across calls and the seed changes it', () => {
    expect(hash('a key')).toEqual(hash('a key'));
    expect([...murmur3x86_128('a key', SEED + 1, new Uint32Array(4))]).not.toEqual(hash('a key'));
  });

  test('different texts hash differently, whatever their length (property)', () => {
    // Lengths around the 8-code-unit block and every tail length, full UTF-16 code units included.
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        fc.pre(a !== b);
        expect(hash(a)).not.toEqual(hash(b));
      }),
      { numRuns: 2000 },
    );
  });

  test('spreads the texts of one pattern over every bit of every word', () => {
    // 4096 near-identical texts: each bit of each word should be set in about half of the hashes.
    const ones = new Array<number>(128).fill(0);
    const n = 4096;
    for (let i = 0; i < n; i++) {
      const words = hash(`3:k${i}\n1733412345678.p3f9a1c2.12`);
      for (let bit = 0; bit < 128; bit++) if ((words[bit >>> 5] >>> (bit & 31)) & 1) ones[bit] += 1;
    }
    // Binomial(4096, 1/2) has a standard deviation of 32: 6 of them bound every bit with room to spare.
    for (const count of ones) expect(Math.abs(count - n / 2)).toBeLessThan(192);
  });
});
