import { PrimaryMove, ReplicaSetMove } from '../diff-rings';
import { HashRange, rangeContains } from '../hash-range';
import { HASH_SPACE_SIZE } from '../limits';

/**
 * The shape `diffRings` promises: ranges sorted by first hash, disjoint, and maximal (a range never touches the next
 * one while carrying the same move, including across the top of the circle). Returns the violations found.
 */
export function checkShape(moves: readonly (PrimaryMove | ReplicaSetMove)[]): string[] {
  const problems: string[] = [];
  const first = (r: HashRange): number => (r.start + 1) % HASH_SPACE_SIZE;
  const sameMove = (a: PrimaryMove | ReplicaSetMove, b: PrimaryMove | ReplicaSetMove): boolean =>
    JSON.stringify([a.from, a.to]) === JSON.stringify([b.from, b.to]);
  moves.forEach((move, i) => {
    const next = moves[(i + 1) % moves.length];
    if (i > 0 && first(moves[i - 1]) >= first(move)) {
      problems.push(`range ${i} is out of order`);
    }
    if (moves.length > 1 && rangeContains(move, first(next))) {
      problems.push(`range ${i} overlaps the next one`);
    }
    if (moves.length > 1 && move.end === next.start && sameMove(move, next)) {
      problems.push(`range ${i} and the next one should have been merged`);
    }
  });
  return problems;
}
