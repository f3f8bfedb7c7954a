/**
 * The history model shared by the checkers: what each client asked, what it was told, and when.
 *
 * A history is recorded by the harness's clients and checked after the run. Times are those of one monotonic clock
 * (for example `performance.now()`), in milliseconds; only their order matters to the checkers.
 */

/** What an operation did to its key. A delete is a `write` of `null`. */
export type OpKind = 'write' | 'read';

/**
 * How an operation ended, as far as the client knows.
 * - `ok`: acknowledged (a write) or returned a value (a read).
 * - `fail`: definitely did not take effect (for example a 400 answer).
 * - `unknown`: timeout, 503 or connection reset. A write may or may not have taken effect, at any time after its
 *   invocation; a read with this outcome tells nothing and the checkers drop it.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

/** One client operation on one key. */
export interface Operation {
  /** Unique in the history. */
  id: number;
  /** Client that issued it. The operations of one process never overlap in time. */
  process: number;
  key: string;
  kind: OpKind;
  /** A write: the value written (`null` = delete). A read: the value returned (`null` = not found). */
  value: string | null;
  outcome: Outcome;
  /** When the client sent it, in ms of the run's monotonic clock. */
  invokedAt: number;
  /**
   * When the client got its answer, in ms of the same clock. For an `unknown` outcome it is only when the client gave up:
   * the operation may take effect at any later time, so the checkers treat it as never completing.
   */
  completedAt: number;
  /** The version the server reported (acknowledged writes, returned reads). Informative only: no checker relies on it. */
  version?: string;
}

/** A history: every operation the clients issued during a run, in any order. */
export type History = readonly Operation[];

const KINDS: ReadonlySet<string> = new Set<OpKind>(['write', 'read']);
const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['ok', 'fail', 'unknown']);

/**
 * Checks that `history` is well formed: unique integer ids, known kinds and outcomes, string keys, string-or-null
 * values, finite invocation times, and `completedAt >= invokedAt` for operations that completed (`ok` and `fail`).
 *
 * @throws TypeError naming the first malformed operation; a malformed history is a bug in the harness that recorded it.
 */
export function assertHistory(history: History): void {
  if (!Array.isArray(history)) throw new TypeError('history must be an array of operations');
  const ids = new Set<number>();
  for (const op of history) {
    const where = `operation ${describeId(op)}`;
    if (typeof op !== 'object' || op === null) throw new TypeError(`${where}: must be an object`);
    if (!Number.isSafeInteger(op.id)) throw new TypeError(`${where}: id must be a safe integer`);
    if (ids.has(op.id)) throw new TypeError(`${where}: duplicate id`);
    ids.add(op.id);
    if (!Number.isSafeInteger(op.process)) throw new TypeError(`${where}: process must be a safe integer`);
    if (typeof op.key !== 'string') throw new TypeError(`${where}: key must be a string`);
    if (!KINDS.has(op.kind)) throw new TypeError(`${where}: kind must be 'write' or 'read'`);
    if (op.value !== null && typeof op.value !== 'string') throw new TypeError(`${where}: value must be a string or null`);
    if (!OUTCOMES.has(op.outcome)) throw new TypeError(`${where}: outcome must be 'ok', 'fail' or 'unknown'`);
    if (!Number.isFinite(op.invokedAt)) throw new TypeError(`${where}: invokedAt must be a finite number`);
    if (op.outcome !== 'unknown') {
      if (!Number.isFinite(op.completedAt)) throw new TypeError(`${where}: completedAt must be a finite number`);
      if (op.completedAt < op.invokedAt) throw new TypeError(`${where}: completedAt is before invokedAt`);
    } else if (typeof op.completedAt !== 'number' || Number.isNaN(op.completedAt)) {
      throw new TypeError(`${where}: completedAt must be a number (Infinity is allowed for an unknown outcome)`);
    }
  }
}

function describeId(op: unknown): string {
  const id = typeof op === 'object' && op !== null ? (op as { id?: unknown }).id : undefined;
  return typeof id === 'number' ? `#${id}` : String(id);
}
