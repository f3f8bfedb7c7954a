/** Where a quorum tally stands: still waiting, reached its quorum, or cannot reach it any more. */
export type TallyState = 'pending' | 'done' | 'failed';

/**
 * Asserts a tally invariant: a broken one is a bug in the caller (a replica answering twice, an unknown replica),
 * never an operational failure.
 */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new TypeError(`quorum tally: ${message}`);
}
