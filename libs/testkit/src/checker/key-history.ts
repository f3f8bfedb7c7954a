import type { Operation } from './history';

/** Value id of `null`: the register's initial state, and what a delete writes. */
export const NULL_VALUE_ID = 0;
/** Value id of a read whose value no checked write wrote: no state matches it. */
export const UNWRITTEN_VALUE_ID = -1;

/** Operations left out of the search, by reason. */
export interface DroppedOperations {
  /** `fail` operations: they did not happen. */
  failed: number;
  /** `unknown` reads: they observed nothing the checker can use. */
  unknownReads: number;
  /**
   * `unknown` writes that no acknowledged read can have observed: a value no read returned, or a delete invoked after
   * every read that returned nothing had completed. Leaving one out is always allowed (it may never have taken effect),
   * and never loses a linearization: with it, the reads between it and the next write would have had to return its
   * value, and none could.
   */
  unobservedUnknownWrites: number;
}

/**
 * One key's history prepared for the linearizability search. Operation `i` has a call event `2i` and a return event
 * `2i + 1`; `events` lists them in time order. Values are replaced by small integer ids so that the model state is an
 * integer. Internal to the register checker.
 *
 * An `unknown` write gets a return event too, at the latest time it can matter (see `prepareKeyHistory`), so that the
 * search never carries it as pending past that point: carried along, each one would double the configurations to explore.
 */
export interface KeyHistory {
  key: string;
  /** Every operation on the key, as given (for explanations). */
  all: readonly Operation[];
  /** The operations searched, by index (in invocation order). */
  ops: readonly Operation[];
  /** 1 for a write, 0 for a read. */
  isWrite: Uint8Array;
  /** 1 if the search may leave the operation out when it reaches its return (an `unknown` delete). */
  optional: Uint8Array;
  /**
   * For an optional operation, the index of the previous optional one (-1 for the first). Optional deletes all return at
   * the same time and write the same thing, so they are interchangeable once invoked: the search uses them in index order.
   */
  previousOptional: Int32Array;
  /** A write: the id of the value it writes. A read: the id of the value it returned, or `UNWRITTEN_VALUE_ID`. */
  valueIds: Int32Array;
  /** Time of the call event: `invokedAt`, or the bound computed for an `unknown` write. */
  callAt: Float64Array;
  /** Time of the return event: `completedAt`, or the bound computed for an `unknown` write. */
  returnAt: Float64Array;
  /** Value by id (`values[NULL_VALUE_ID]` is `null`). */
  values: readonly (string | null)[];
  /** Call and return events in time order; at equal times calls come first, so touching operations count as concurrent. */
  events: Int32Array;
  dropped: DroppedOperations;
}

/** Groups a history by key, keeping each key's operations in the order given. */
export function splitByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    let ops = byKey.get(op.key);
    if (ops === undefined) byKey.set(op.key, (ops = []));
    ops.push(op);
  }
  return byKey;
}

/**
 * Prepares one key's operations for the search: drops what cannot matter, numbers the values, orders the events.
 *
 * An `unknown` write gets a return event at the completion of the last acknowledged read that could have observed it
 * (the last read of its value; for a delete, the last read that returned nothing), or at its invocation if that is later:
 * - A write of a value some read returned took effect (values are unique), before that read, so no later than the last
 *   such read's completion: it is searched as a write that completed then. Its call event moves to the invocation of the
 *   first read of its value, if that is later: every operation that completed before that invocation precedes the write
 *   in any linearization (it precedes that read, and only reads of the value come between the write and its reads), so
 *   the move adds no constraint, and it keeps the write out of the search until it can matter.
 * - A delete took effect or not. If it did so after that time, no read observed it, which is the same as not at all: it
 *   is searched as a write that completed then, but may be left out (`optional`).
 *
 * @throws TypeError if two writes of the key write the same non-null value: the checker relies on unique values to know
 *   which write a read observed.
 */
export function prepareKeyHistory(key: string, all: readonly Operation[]): KeyHistory {
  const writers = new Set<string>();
  const firstReadOf = new Map<string | null, number>();
  const lastReadOf = new Map<string | null, number>();
  for (const op of all) {
    if (op.kind === 'write' && op.value !== null) {
      if (writers.has(op.value)) {
        throw new TypeError(`key ${JSON.stringify(key)}: value ${JSON.stringify(op.value)} is written twice (op #${op.id})`);
      }
      writers.add(op.value);
    } else if (op.kind === 'read' && op.outcome === 'ok') {
      firstReadOf.set(op.value, Math.min(firstReadOf.get(op.value) ?? Infinity, op.invokedAt));
      lastReadOf.set(op.value, Math.max(lastReadOf.get(op.value) ?? -Infinity, op.completedAt));
    }
  }

  const dropped: DroppedOperations = { failed: 0, unknownReads: 0, unobservedUnknownWrites: 0 };
  const ops: Operation[] = [];
  const unknownInterval = new Map<Operation, [callAt: number, returnAt: number]>();
  for (const op of all) {
    if (op.outcome === 'fail') {
      dropped.failed++;
    } else if (op.outcome === 'ok') {
      ops.push(op);
    } else if (op.kind === 'read') {
      dropped.unknownReads++;
    } else {
      // For a delete this is the last read that returned nothing, so every kept delete returns at the same time.
      const lastRead = lastReadOf.get(op.value);
      // A delete can only be observed by a read that completed after it was invoked. A value that was read must be kept
      // even when read too early: that read is the violation.
      if (lastRead === undefined || (op.value === null && lastRead < op.invokedAt)) {
        dropped.unobservedUnknownWrites++;
      } else {
        ops.push(op);
        const firstRead = op.value === null ? op.invokedAt : (firstReadOf.get(op.value) ?? op.invokedAt);
        unknownInterval.set(op, [Math.max(op.invokedAt, firstRead), Math.max(op.invokedAt, lastRead)]);
      }
    }
  }
  // Numbered in call-event order, the operations linearized at any point of the search are nearly a prefix of the
  // numbering, so the canonical form of the linearized set that the memo table stores is a word or two.
  const callTime = (op: Operation): number => unknownInterval.get(op)?.[0] ?? op.invokedAt;
  ops.sort((a, b) => callTime(a) - callTime(b) || a.id - b.id);

  const n = ops.length;
  const values: (string | null)[] = [null];
  const idOfValue = new Map<string, number>();
  const isWrite = new Uint8Array(n);
  const optional = new Uint8Array(n);
  const valueIds = new Int32Array(n);
  const callAt = new Float64Array(n);
  const returnAt = new Float64Array(n);
  const previousOptional = new Int32Array(n).fill(-1);
  let lastOptional = -1;
  for (let i = 0; i < n; i++) {
    const op = ops[i];
    isWrite[i] = op.kind === 'write' ? 1 : 0;
    if (op.outcome === 'unknown' && op.value === null) {
      optional[i] = 1;
      previousOptional[i] = lastOptional;
      lastOptional = i;
    }
    const interval = unknownInterval.get(op);
    callAt[i] = interval === undefined ? op.invokedAt : interval[0];
    returnAt[i] = interval === undefined ? op.completedAt : interval[1];
    if (op.kind === 'write' && op.value !== null) {
      idOfValue.set(op.value, values.length);
      values.push(op.value);
    }
  }
  for (let i = 0; i < n; i++) {
    const value = ops[i].value;
    valueIds[i] = value === null ? NULL_VALUE_ID : (idOfValue.get(value) ?? UNWRITTEN_VALUE_ID);
  }

  const events = new Int32Array(2 * n);
  for (let i = 0; i < 2 * n; i++) events[i] = i;
  const timeOf = (event: number): number => ((event & 1) === 0 ? callAt[event >>> 1] : returnAt[event >>> 1]);
  events.sort((a, b) => timeOf(a) - timeOf(b) || (a & 1) - (b & 1) || a - b);

  return { key, all, ops, isWrite, optional, previousOptional, valueIds, callAt, returnAt, values, events, dropped };
}
