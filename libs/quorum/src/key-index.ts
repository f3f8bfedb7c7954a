import { hashKey, rangeContains, type HashRange } from '@kv/ring';

/** Bits of the hash that pick a bucket: 4096 buckets, so a range of the ring visits few buckets beyond its own keys. */
export const KEY_BUCKET_BITS = 12;
const BUCKET_SHIFT = 32 - KEY_BUCKET_BITS;
const BUCKETS = 1 << KEY_BUCKET_BITS;

/**
 * A data node's keys indexed by hash bucket (the top bits of the ring hash of the key), so that the keys of one range
 * of the ring are found at a cost proportional to the range, not to the node: what streaming a range during a
 * membership change reads. It holds key strings only (the entries stay in the store); tombstones are indexed like
 * values.
 */
export class KeyIndex {
  private readonly buckets: (Set<string> | undefined)[] = new Array(BUCKETS);
  private count = 0;

  /** Keys indexed. */
  get size(): number {
    return this.count;
  }

  /** Indexes a key (no-op when it is there already). */
  add(key: string): void {
    const bucket = hashKey(key) >>> BUCKET_SHIFT;
    let keys = this.buckets[bucket];
    if (keys === undefined) {
      keys = new Set();
      this.buckets[bucket] = keys;
    }
    const before = keys.size;
    keys.add(key);
    if (keys.size !== before) this.count += 1;
  }

  /** Forgets a key (a purged tombstone). */
  delete(key: string): void {
    const keys = this.buckets[hashKey(key) >>> BUCKET_SHIFT];
    if (keys !== undefined && keys.delete(key)) this.count -= 1;
  }

  /** The keys whose hash lies in `range`, in bucket order. */
  *keysIn(range: HashRange): IterableIterator<string> {
    for (const bucket of bucketsOf(range)) {
      const keys = this.buckets[bucket];
      if (keys === undefined) continue;
      for (const key of keys) if (rangeContains(range, hashKey(key))) yield key;
    }
  }
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
