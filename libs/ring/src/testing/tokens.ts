import CRC32 from 'crc-32';

/**
 * Test fixtures: the token rule written again, independently of `src/hash.ts`, so the specs check the code against the
 * rule rather than against itself. Not part of the package (excluded from the build).
 */

const MASK_32 = 0xffff_ffffn;

/**
 * MurmurHash3's 32-bit finaliser in exact BigInt arithmetic (multiplication, then reduction mod 2^32), rather than the
 * `Math.imul` the library uses.
 */
export function fmix32Reference(value: number): number {
  let h = BigInt(value >>> 0);
  h ^= h >> 16n;
  h = (h * 0x85eb_ca6bn) & MASK_32;
  h ^= h >> 13n;
  h = (h * 0xc2b2_ae35n) & MASK_32;
  h ^= h >> 16n;
  return Number(h);
}

/** Unsigned CRC32 of a string's UTF-8 bytes, straight from `crc-32`: the key hash. */
export function crc32Reference(s: string): number {
  return CRC32.buf(Buffer.from(s, 'utf8')) >>> 0;
}

/** The token of virtual node `i` of node `id`: `fmix32(CRC32("<id>#<i>"))`. */
export function tokenReference(id: string, i: number): number {
  return fmix32Reference(crc32Reference(`${id}#${i}`));
}
