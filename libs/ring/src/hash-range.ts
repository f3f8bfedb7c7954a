import { HASH_SPACE_SIZE } from './limits';
import { assertHash } from './validate';

/**
 * An arc of the ring: the hashes `h` with `start < h <= end`, going clockwise and wrapping past `HASH_MAX` to 0.
 *
 * - `start < end`: the plain interval `(start, end]`.
 * - `start > end`: the arc wraps: `(start, HASH_MAX]` then `[0, end]`.
 * - `start === end`: the whole circle (all 2^32 hashes); an empty range is never produced.
 *
 * Under the ring rule (a hash belongs to the first token strictly greater than it), the hashes owned by token `t` whose
 * predecessor is `p` are `p..t-1`, which as a range is `{ start: p - 1, end: t - 1 }` (mod 2^32).
 */
export interface HashRange {
  /** Exclusive lower bound, an integer in `0..HASH_MAX`. */
  readonly start: number;
  /** Inclusive upper bound, an integer in `0..HASH_MAX`. */
  readonly end: number;
}

/**
 * Whether `range` contains `hash`, honouring the wrap past `HASH_MAX` and the whole-circle form (`start === end`).
 *
 * @throws TypeError if `hash`, `range.start` or `range.end` is not an integer in `0..HASH_MAX`.
 */
export function rangeContains(range: HashRange, hash: number): boolean {
  assertHash(range.start);
  assertHash(range.end);
  assertHash(hash);
  const { start, end } = range;
  if (start === end) {
    return true;
  }
  if (start < end) {
    return hash > start && hash <= end;
  }
  return hash > start || hash <= end;
}

/**
 * Number of hashes in `range`: `(end - start) mod 2^32`, or 2^32 for the whole circle.
 *
 * @throws TypeError if `range.start` or `range.end` is not an integer in `0..HASH_MAX`.
 */
export function rangeSize(range: HashRange): number {
  assertHash(range.start);
  assertHash(range.end);
  const { start, end } = range;
  if (start === end) {
    return HASH_SPACE_SIZE;
  }
  return start < end ? end - start : HASH_SPACE_SIZE - start + end;
}
