import { HashRange } from './hash-range';
import { HashRing } from './hash-ring';
import { HASH_SPACE_SIZE } from './limits';
import { assertReplicaCount } from './validate';

/** A range of hashes whose primary changes from `from` to `to`. */
export interface PrimaryMove extends HashRange {
  /** Primary of every hash of the range on the `before` ring. */
  readonly from: string;
  /** Primary of every hash of the range on the `after` ring. */
  readonly to: string;
}

/** A range of hashes whose preference list of size `n` changes from `from` to `to` (both primary first). */
export interface ReplicaSetMove extends HashRange {
  /** Preference list of every hash of the range on the `before` ring. */
  readonly from: string[];
  /** Preference list of every hash of the range on the `after` ring. */
  readonly to: string[];
}

/**
 * Lists the hash ranges whose primary differs between two rings: the data to move when membership changes.
 *
 * Guarantees, for every hash `h` in `0..HASH_MAX`:
 * - if `before.ownerOfHash(h).node !== after.ownerOfHash(h).node`, exactly one returned range contains `h` (see
 *   `rangeContains`), and its `from`/`to` are those two primaries; otherwise no range contains `h`.
 * - Ranges are maximal (two touching ranges never carry the same move), may wrap past `HASH_MAX` (`start > end`), cover
 *   the whole circle when `start === end`, and are sorted by their first hash, `(start + 1) mod 2^32`.
 * - Equal rings give `[]`. The rings may differ in members and in vnodes.
 *
 * Cost: O((t1 + t2) log(t1 + t2)) for rings of t1 and t2 tokens; not meant for a request path.
 *
 * @throws TypeError if either ring is not a `HashRing` or is empty.
 */
export function diffRings(before: HashRing, after: HashRing): PrimaryMove[];
/**
 * Lists the hash ranges whose preference list of size `n` (`min(n, size)` nodes, primary first) differs between two
 * rings: the replica sets to repair or stream when membership changes.
 *
 * Lists are compared in order, so a range is also reported when only its primary changes. A single `withNode` or
 * `withoutNode` never reorders the remaining nodes of a list, so for such a step every reported range gains or loses a
 * replica.
 *
 * Guarantees are those of the primary form, with `preferenceListOfHash(h, n)` in place of the primary; `from` and `to`
 * are fresh arrays.
 *
 * @throws TypeError if either ring is not a `HashRing` or is empty, or `n` is not an integer >= 1.
 */
export function diffRings(before: HashRing, after: HashRing, n: number): ReplicaSetMove[];
export function diffRings(before: HashRing, after: HashRing, n?: number): PrimaryMove[] | ReplicaSetMove[] {
  assertNonEmptyRing(before, 'before');
  assertNonEmptyRing(after, 'after');
  if (n === undefined) {
    return sweep(
      before,
      after,
      (ring, hash) => ring.ownerOfHash(hash).node,
      (a, b) => a === b,
    );
  }
  assertReplicaCount(n);
  return sweep(
    before,
    after,
    (ring, hash) => ring.preferenceListOfHash(hash, n),
    (a, b) => a.length === b.length && a.every((id, index) => id === b[index]),
  );
}

function assertNonEmptyRing(ring: HashRing, name: string): void {
  if (!(ring instanceof HashRing)) {
    throw new TypeError(`${name} must be a HashRing`);
  }
  if (ring.size === 0) {
    throw new TypeError(`${name} ring has no nodes: ownership is undefined on an empty ring`);
  }
}

interface Move<T> {
  start: number;
  end: number;
  from: T;
  to: T;
}

// Ownership on either ring can only change at a token value of that ring, so between two consecutive token values of
// the union both rings have a constant owner: the segment [lo, hi) is the range (lo - 1, hi - 1], and its owner is the
// owner of lo. The last segment runs from the highest token across 2^32 to the lowest one.
function sweep<T>(
  before: HashRing,
  after: HashRing,
  ownerOf: (ring: HashRing, hash: number) => T,
  same: (a: T, b: T) => boolean,
): Move<T>[] {
  const bounds = tokenUnion(before, after);
  const moves: Move<T>[] = [];
  for (let j = 0; j < bounds.length; j++) {
    const low = bounds[j];
    const high = bounds[j + 1 === bounds.length ? 0 : j + 1];
    const from = ownerOf(before, low);
    const to = ownerOf(after, low);
    if (same(from, to)) {
      continue;
    }
    const start = predecessor(low);
    const end = predecessor(high);
    const last = moves[moves.length - 1];
    if (last !== undefined && last.end === start && same(last.from, from) && same(last.to, to)) {
      last.end = end;
    } else {
      moves.push({ start, end, from, to });
    }
  }
  if (moves.length > 1) {
    const first = moves[0];
    const last = moves[moves.length - 1];
    if (last.end === first.start && same(last.from, first.from) && same(last.to, first.to)) {
      first.start = last.start;
      moves.pop();
    }
  }
  return moves.sort((a, b) => successor(a.start) - successor(b.start));
}

function tokenUnion(a: HashRing, b: HashRing): Uint32Array {
  const all = new Uint32Array(a.tokenCount + b.tokenCount);
  for (let p = 0; p < a.tokenCount; p++) {
    all[p] = a.tokenAt(p).token;
  }
  for (let p = 0; p < b.tokenCount; p++) {
    all[a.tokenCount + p] = b.tokenAt(p).token;
  }
  all.sort();
  let unique = 0;
  for (let p = 0; p < all.length; p++) {
    if (p === 0 || all[p] !== all[unique - 1]) {
      all[unique++] = all[p];
    }
  }
  return all.subarray(0, unique);
}

function predecessor(hash: number): number {
  return hash === 0 ? HASH_SPACE_SIZE - 1 : hash - 1;
}

function successor(hash: number): number {
  return hash === HASH_SPACE_SIZE - 1 ? 0 : hash + 1;
}
