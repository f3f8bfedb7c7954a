/**
 * Throws if a condition the checkers' own code guarantees does not hold. A failure is a bug in the checker, never a
 * caller mistake, so it is a plain `Error` rather than a `TypeError`.
 */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`@kv/testkit checker invariant violated: ${message}`);
}
