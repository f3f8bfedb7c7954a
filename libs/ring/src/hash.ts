import CRC32 from 'crc-32';

/**
 * Hashes a key onto the ring: the CRC32 (IEEE 802.3 polynomial, as in zlib) of the key's UTF-8 bytes, as an unsigned
 * 32-bit integer.
 *
 * Guarantees: deterministic across processes and platforms; the result is an integer in `0..HASH_MAX`. For a well-formed
 * string it equals the CRC32 of `Buffer.from(key, 'utf8')`. A string with a lone surrogate still hashes
 * deterministically, but not as its `Buffer` encoding would (crc-32 encodes surrogates itself); keys that cross the wire
 * are valid UTF-8, so this never arises for them.
 *
 * @throws TypeError if `key` is not a string.
 */
export function hashKey(key: string): number {
  if (typeof key !== 'string') {
    throw new TypeError(`key must be a string, got ${typeof key}`);
  }
  return hashString(key);
}

/**
 * The token of virtual node `vnode` of node `nodeId`: `fmix32(CRC32("<nodeId>#<vnode>"))`, unsigned 32-bit, where CRC32
 * is taken over the string's UTF-8 bytes and `fmix32` is MurmurHash3's 32-bit finaliser.
 *
 * Guarantees: deterministic; distinct `(nodeId, vnode)` pairs hash distinct strings (the decimal index after the last
 * `#` cannot contain `#`), and `fmix32` is a bijection, so two tokens are equal exactly when the CRC32 values are.
 *
 * @throws TypeError if `nodeId` is not a string or `vnode` is not a non-negative integer.
 */
export function vnodeToken(nodeId: string, vnode: number): number {
  if (typeof nodeId !== 'string') {
    throw new TypeError(`node id must be a string, got ${typeof nodeId}`);
  }
  if (!Number.isInteger(vnode) || vnode < 0) {
    throw new TypeError(`vnode must be a non-negative integer, got ${String(vnode)}`);
  }
  return tokenOf(nodeId, vnode);
}

/**
 * The token rule itself, without argument checks, for callers that have checked already (the ring's build loop).
 * Internal: not exported from the package. `vnodeToken` is this function plus checks.
 */
export function tokenOf(nodeId: string, vnode: number): number {
  return fmix32(hashString(`${nodeId}#${vnode}`));
}

/**
 * MurmurHash3's 32-bit finaliser: a bijection of `0..2^32-1` in which every input bit affects every output bit. Applied
 * to a token's CRC32, it turns CRC32's linear structure (tokens of equal-length ids being shifted copies of one pattern)
 * into independent-looking positions. `fmix32(0)` is 0. Internal: not exported from the package.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The key hash, without argument checks, for callers that have checked already (the ring's lookup loops). Internal: not
 * exported from the package. Unsigned CRC32 of the string's UTF-8 bytes.
 */
export function hashString(s: string): number {
  return CRC32.str(s) >>> 0;
}
