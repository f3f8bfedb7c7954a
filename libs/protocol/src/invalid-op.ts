import type { KvError } from './kv-error';

/**
 * An operation of a batch that failed validation on its own. Batch parsers return it in the operation's place, so the
 * answer can report the error in that operation's entry while the other operations proceed.
 */
export interface InvalidOp {
  readonly op: 'invalid';
  /** Why the operation is invalid: its code and status go into the operation's result. */
  readonly error: KvError;
}

/** An {@link InvalidOp} for `error`. */
export function invalidOp(error: KvError): InvalidOp {
  return { op: 'invalid', error };
}

/** True when a parsed batch operation is an {@link InvalidOp}. */
export function isInvalidOp(op: unknown): op is InvalidOp {
  return typeof op === 'object' && op !== null && !Array.isArray(op) && (op as { op?: unknown }).op === 'invalid';
}
