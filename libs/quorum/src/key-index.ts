import { hashKey, rangeContains, type HashRange } from '@kv/ring';
import { murmur3x86_128 } from './murmur3';

/** Bits of the hash that pick a bucket: 4096 buckets, so a range of the ring visits few buckets beyond its own keys. */
export const KEY_BUCKET_BITS = 12;
const BUCKET_SHIFT = 32 - KEY_BUCKET_BITS;
const BUCKETS = 1 << KEY_BUCKET_BITS;
/** Bits of the hash that pick a digest cell: 65536 cells of 16 bytes (1 MiB), 16 per bucket. */
const CELL_BITS = 16;
const CELL_SHIFT = 32 - CELL_BITS;
const CELLS = 1 << CELL_BITS;
const CELL_SPAN = 2 ** CELL_SHIFT;
const BUCKET_SPAN = 2 ** BUCKET_SHIFT;
const HASH_MAX = 0xffffffff;

/** The digest of nothing: 32 zero hex digits. */
export const EMPTY_DIGEST = '0'.repeat(32);

/** The digest of the (key, version) pairs of a part of the ring, and how many pairs there are. */
export interface PartDigest {
  /** 32 hex digits: the XOR of the 128-bit hashes of the pairs ({@link EMPTY_DIGEST} when there are none). */
  readonly digest: string;
  readonly keys: number;
}

/** The digest of the part of a range that lies in one bucket (only buckets holding keys of the range are listed). */
export interface BucketDigest extends PartDigest {
  readonly bucket: number;
}

/**
 * A data node's keys indexed by hash bucket (the top bits of the ring hash of the key), so that the keys of one range
 * of the ring are found at a cost proportional to the range, not to the node: what streaming a range during a
 * membership change reads. Tombstones are indexed like values.
 *
 * It also keeps the digests anti-entropy compares (docs/ARCHITECTURE.md, "Anti-entropy and tombstone collection"): the
 * version held for each key, and per cell of 2^16 hashes the XOR of the 128-bit hashes (MurmurHash3 x86_128, see
 * {@link pairHash}) of the (key, version) pairs whose key hashes into it. XOR is order-independent and its own inverse, so a write costs two hashes (the old
 * pair out, the new one in) whatever the order writes arrive in; two nodes holding the same pairs in a part of the
 * ring have the same digest for it. The digest of any range is the XOR of the cells it covers whole, plus the pairs
 * of the (at most two) cells it cuts, hashed from their keys.
 */
export class KeyIndex {
  private readonly buckets: (Map<string, string> | undefined)[] = new Array(BUCKETS);
  private readonly cells = new Uint32Array(CELLS * 4);
  private readonly cellKeys = new Uint32Array(CELLS);
  private count = 0;
  private readonly digests: boolean;

  /**
   * With `digests: false` the index keeps its keys (for streaming) but no digests: every digest it answers is that of
   * nothing. For measuring what the digests cost on the write path only (the data node's `TEST_RANGE_DIGESTS=off`).
   */
  constructor(options: { digests?: boolean } = {}) {
    this.digests = options.digests ?? true;
  }

  /** Keys indexed. */
  get size(): number {
    return this.count;
  }

  /**
   * Makes the index agree with what the store holds for `key` now: `version` (tombstones included), or undefined when
   * it holds nothing (never written, or purged). Call it after every write or purge of the key has become durable; the
   * last call for a key wins, so calls for concurrent writes may come in any order as long as each reads the store's
   * state when it is made.
   */
  record(key: string, version: string | undefined): void {
    const hash = hashKey(key);
    const bucket = hash >>> BUCKET_SHIFT;
    const cell = hash >>> CELL_SHIFT;
    let keys = this.buckets[bucket];
    const held = keys?.get(key);
    if (held === version) return;
    if (held !== undefined) {
      if (this.digests) {
        this.mix(cell, key, held);
        this.cellKeys[cell] -= 1;
      }
      this.count -= 1;
      if (version === undefined) (keys as Map<string, string>).delete(key);
    }
    if (version !== undefined) {
      if (keys === undefined) {
        keys = new Map();
        this.buckets[bucket] = keys;
      }
      keys.set(key, version);
      if (this.digests) {
        this.mix(cell, key, version);
        this.cellKeys[cell] += 1;
      }
      this.count += 1;
    }
  }

  /** The version indexed for `key` (undefined: none). */
  versionOf(key: string): string | undefined {
    return this.buckets[hashKey(key) >>> BUCKET_SHIFT]?.get(key);
  }

  /** The keys whose hash lies in `range`, in bucket order. */
  *keysIn(range: HashRange): IterableIterator<string> {
    for (const [key] of this.pairsIn(range)) yield key;
  }

  /** The (key, version) pairs whose key hashes into `range`, in bucket order. */
  *pairsIn(range: HashRange): IterableIterator<[key: string, version: string]> {
    for (const bucket of bucketsOf(range)) {
      const keys = this.buckets[bucket];
      if (keys === undefined) continue;
      for (const pair of keys) if (rangeContains(range, hashKey(pair[0]))) yield pair;
    }
  }

  /** The digest of the pairs whose key hashes into `range`. */
  digest(range: HashRange): PartDigest {
    const acc = new Uint32Array(4);
    let keys = 0;
    for (const [lo, hi] of segmentsOf(range)) keys += this.digestSegment(lo, hi, acc);
    return { digest: hex(acc), keys };
  }

  /** The digest of the part of `range` in each bucket that holds keys of it, in bucket order. */
  bucketDigests(range: HashRange): BucketDigest[] {
    const out: BucketDigest[] = [];
    const segments = segmentsOf(range);
    for (const bucket of bucketsOf(range).sort((a, b) => a - b)) {
      if (this.buckets[bucket] === undefined || this.buckets[bucket]?.size === 0) continue;
      const acc = new Uint32Array(4);
      let keys = 0;
      for (const [lo, hi] of segments) {
        const partLo = Math.max(lo, bucket * BUCKET_SPAN);
        const partHi = Math.min(hi, (bucket + 1) * BUCKET_SPAN - 1);
        if (partLo <= partHi) keys += this.digestSegment(partLo, partHi, acc);
      }
      if (keys > 0) out.push({ bucket, digest: hex(acc), keys });
    }
    return out;
  }

  /** XORs the pairs of hashes `lo..hi` (inclusive, not wrapping) into `acc`; returns how many there are. */
  private digestSegment(lo: number, hi: number, acc: Uint32Array): number {
    let keys = 0;
    for (let cell = Math.floor(lo / CELL_SPAN); cell <= Math.floor(hi / CELL_SPAN); cell++) {
      if (this.cellKeys[cell] === 0) continue;
      const cellLo = cell * CELL_SPAN;
      if (lo <= cellLo && hi >= cellLo + CELL_SPAN - 1) {
        for (let i = 0; i < 4; i++) acc[i] ^= this.cells[cell * 4 + i];
        keys += this.cellKeys[cell];
        continue;
      }
      // A cell the segment cuts: its pairs inside the segment, hashed from the keys.
      const bucketKeys = this.buckets[cell >>> (BUCKET_SHIFT - CELL_SHIFT)];
      if (bucketKeys === undefined) continue;
      for (const [key, version] of bucketKeys) {
        const hash = hashKey(key);
        if (hash >>> CELL_SHIFT !== cell || hash < lo || hash > hi) continue;
        const words = pairHash(key, version);
        for (let i = 0; i < 4; i++) acc[i] ^= words[i];
        keys += 1;
      }
    }
    return keys;
  }

  private mix(cell: number, key: string, version: string): void {
    const words = pairHash(key, version);
    for (let i = 0; i < 4; i++) this.cells[cell * 4 + i] ^= words[i];
  }
}

/**
 * The parts of the hash circle in bucket `bucket` that lie in `range`, as ranges (none when they do not meet; two when
 * a wrapping range starts and ends in the bucket). What a coordinator lists on replicas whose digests for that bucket
 * differ.
 */
export function bucketParts(range: HashRange, bucket: number): HashRange[] {
  const bucketLo = bucket * BUCKET_SPAN;
  const bucketHi = bucketLo + BUCKET_SPAN - 1;
  const parts: HashRange[] = [];
  for (const [lo, hi] of segmentsOf(range)) {
    const partLo = Math.max(lo, bucketLo);
    const partHi = Math.min(hi, bucketHi);
    if (partLo <= partHi) parts.push({ start: (partLo + HASH_MAX) % 2 ** 32, end: partHi });
  }
  return parts;
}

/** The parts common to two ranges (none, one or two ranges). */
export function intersectRanges(a: HashRange, b: HashRange): HashRange[] {
  const parts: HashRange[] = [];
  for (const [aLo, aHi] of segmentsOf(a)) {
    for (const [bLo, bHi] of segmentsOf(b)) {
      const lo = Math.max(aLo, bLo);
      const hi = Math.min(aHi, bHi);
      if (lo <= hi) parts.push({ start: (lo + HASH_MAX) % 2 ** 32, end: hi });
    }
  }
  return parts;
}

/** A range as one or two inclusive, non-wrapping segments of hashes. */
function segmentsOf(range: HashRange): [number, number][] {
  const { start, end } = range;
  if (start === end) return [[0, HASH_MAX]];
  if (start < end) return [[start + 1, end]];
  const segments: [number, number][] = [];
  if (start !== HASH_MAX) segments.push([start + 1, HASH_MAX]);
  segments.push([0, end]);
  return segments;
}

/** Seed of {@link pairHash} ("kv"): fixed, since every node of a cluster must hash a pair alike. */
const PAIR_SEED = 0x6b76;

/**
 * The 128-bit hash of a (key, version) pair, as four 32-bit words; the key's length keeps the pair unambiguous.
 *
 * MurmurHash3 x86_128 rather than a cryptographic hash: every replica write hashes two pairs (the old one out, the new
 * one in), and MurmurHash3 over the code units costs a fraction of MD5 through node:crypto (no Buffer, no native
 * call). The digests need good mixing only: the pairs come from the cluster's own writes, versions are made by the
 * coordinators, and a client cannot choose the pairs a replica lacks so as to make two replicas' digests collide; by
 * chance, two different sets of pairs share a 128-bit digest with probability 2^-128.
 */
function pairHash(key: string, version: string): Uint32Array {
  return murmur3x86_128(`${key.length}:${key}\n${version}`, PAIR_SEED, PAIR_WORDS);
}

/** Scratch words of {@link pairHash} (used at once by every caller). */
const PAIR_WORDS = new Uint32Array(4);

function hex(words: Uint32Array): string {
  let text = '';
  for (let i = 0; i < 4; i++) text += words[i].toString(16).padStart(8, '0');
  return text;
}

/** The buckets a range touches (each once). */
function bucketsOf(range: HashRange): number[] {
  if (range.start === range.end) return Array.from({ length: BUCKETS }, (_, i) => i);
  const firstHash = (range.start + 1) >>> 0;
  const first = firstHash >>> BUCKET_SHIFT;
  const last = range.end >>> BUCKET_SHIFT;
  const buckets = new Set<number>();
  if (range.start < range.end) {
    for (let b = first; b <= last; b++) buckets.add(b);
  } else {
    // Wraps past the largest hash: from the first bucket to the end of the circle, then from 0 to the last.
    if (firstHash !== 0) for (let b = first; b < BUCKETS; b++) buckets.add(b);
    for (let b = 0; b <= last; b++) buckets.add(b);
  }
  return [...buckets];
}
