/**
 * Throws if a condition the ring's own code guarantees does not hold. A failure is a bug in this library, never a caller
 * mistake, so it is a plain `Error` rather than a `TypeError`.
 */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(`@kv/ring invariant violated: ${message}`);
  }
}
