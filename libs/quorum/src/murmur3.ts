/**
 * MurmurHash3 x86_128 of a text, over its UTF-16LE code units (two code units form one little-endian 32-bit word),
 * computed on the code units directly: no Buffer, no encoding pass. The hash of the key index's digests
 * (./key-index.ts): a non-cryptographic hash is enough there, since a digest only has to tell two sets of pairs apart
 * and nobody can choose the pairs another replica holds (docs/ARCHITECTURE.md, "Anti-entropy and tombstone collection").
 *
 * Equal to the reference MurmurHash3_x86_128 of the text's UTF-16LE bytes: `mmh3.hash128(text.encode('utf-16-le'),
 * seed, x64arch=False)` in Python, whose 128-bit result is `h1 | h2 << 32 | h3 << 64 | h4 << 96`.
 *
 * Writes h1..h4 into `out` (reused by the caller so that a hash allocates nothing) and returns it.
 */
export function murmur3x86_128(text: string, seed: number, out: Uint32Array): Uint32Array {
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const length = text.length;
  // A block is 16 bytes: 8 code units, 4 words.
  const blockEnd = length & ~7;
  let i = 0;
  for (; i < blockEnd; i += 8) {
    const k1 = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    const k2 = text.charCodeAt(i + 2) | (text.charCodeAt(i + 3) << 16);
    const k3 = text.charCodeAt(i + 4) | (text.charCodeAt(i + 5) << 16);
    const k4 = text.charCodeAt(i + 6) | (text.charCodeAt(i + 7) << 16);

    h1 ^= mixK1(k1);
    h1 = rotl(h1, 19);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    h2 ^= mixK2(k2);
    h2 = rotl(h2, 17);
    h2 = (h2 + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    h3 ^= mixK3(k3);
    h3 = rotl(h3, 15);
    h3 = (h3 + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    h4 ^= mixK4(k4);
    h4 = rotl(h4, 13);
    h4 = (h4 + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // The tail: 1 to 7 code units, 2 to 14 bytes. A word is mixed as soon as one of its bytes is present, as in the
  // reference's byte-wise switch (an odd count of code units leaves the last word's high half zero).
  const tail = length - blockEnd;
  if (tail > 0) {
    if (tail >= 7) h4 ^= mixK4(tailWord(text, blockEnd + 6));
    if (tail >= 5) h3 ^= mixK3(tailWord(text, blockEnd + 4));
    if (tail >= 3) h2 ^= mixK2(tailWord(text, blockEnd + 2));
    h1 ^= mixK1(tailWord(text, blockEnd));
  }

  // Finalization, with the length in bytes.
  const bytes = length * 2;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
  return out;
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

// The mix of each of the four words of a block (and of the tail), with the reference's constants and rotations.
const mixK1 = (k: number): number => Math.imul(rotl(Math.imul(k, C1), 15), C2);
const mixK2 = (k: number): number => Math.imul(rotl(Math.imul(k, C2), 16), C3);
const mixK3 = (k: number): number => Math.imul(rotl(Math.imul(k, C3), 17), C4);
const mixK4 = (k: number): number => Math.imul(rotl(Math.imul(k, C4), 18), C1);

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** The 32-bit word of the code units at `at` and `at + 1`; the high half is zero past the end of the text. */
function tailWord(text: string, at: number): number {
  return at + 1 < text.length ? text.charCodeAt(at) | (text.charCodeAt(at + 1) << 16) : text.charCodeAt(at);
}

/** The reference's final avalanche of one 32-bit word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
