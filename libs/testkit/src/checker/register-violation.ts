import { describeOperation, quoteValue } from './describe-operation';
import type { Operation } from './history';
import type { KeyHistory } from './key-history';
import { VIOLATION_CONCURRENT_OPS_MAX, VIOLATION_PREFIX_OPS_MAX } from './limits';
import type { LongestPrefix } from './linearization-search';

/**
 * Why a key's history is not linearizable, for a human: where the deepest attempt at a linearization got stuck.
 *
 * The search extends linearizable prefixes; `op` is the operation whose completion the longest prefix found could not get
 * past. It is usually the culprit (a stale or impossible read), but the cause may be earlier: the whole prefix is one
 * order among many that failed, so read `explanation` together with the intervals it quotes.
 */
export interface RegisterViolation {
  key: string;
  /** The operation that could not be linearized before its completion. */
  op: Operation;
  /**
   * The read most likely at fault: `op` itself if it is a read; if `op` is a write, the read that kept it out (a read of
   * the value the register holds still to come, or a read of `op`'s value invoked too late). A guess from the search's
   * state, which the explanation backs with the intervals that prove it when it can.
   */
  suspect: Operation | undefined;
  /** Number of operations in the longest linearizable prefix found. */
  prefixLength: number;
  /** The last operations of that prefix (at most `VIOLATION_PREFIX_OPS_MAX`), in linearization order. */
  prefixTail: Operation[];
  /** The register's value after that prefix (`null`: absent). */
  valueAfterPrefix: string | null;
  /**
   * Operations outside the prefix invoked before `op` completed (for an `unknown` write: before the last read of its
   * value completed): the candidates that could have been ordered before it. The most recently invoked, at most
   * `VIOLATION_CONCURRENT_OPS_MAX`; failed and dropped operations are not among them.
   */
  concurrent: Operation[];
  /** How many such operations there were in all. */
  concurrentCount: number;
  /** For a `suspect` read of a non-null value: every write of that value in the key's history, whatever its outcome. */
  writesOfValue: Operation[];
  /** A few sentences saying what went wrong, with the operations' times and values. */
  explanation: string;
}

/** Builds the violation of a key from the longest prefix its search found. Internal to the register checker. */
export function explainViolation(history: KeyHistory, longest: LongestPrefix): RegisterViolation {
  const { ops } = history;
  const op = ops[longest.blocked];
  const inPrefix = new Uint8Array(ops.length);
  for (const index of longest.order) inPrefix[index] = 1;

  // `ops` is in call order, which for an unknown write is not its invocation: sort by invocation for a human.
  const completedAt = history.returnAt[longest.blocked];
  const concurrentAll = ops
    .filter((other, index) => index !== longest.blocked && inPrefix[index] === 0 && other.invokedAt <= completedAt)
    .sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id);
  const prefix = Array.from(longest.order, (index) => ops[index]);
  const valueAfterPrefix = history.values[longest.state];

  const sentences = [`${describeOperation(op)} cannot be linearized.`];
  const { suspect, reason } = findSuspect(op, valueAfterPrefix, ops.filter((_, index) => inPrefix[index] === 0));
  if (reason !== undefined) sentences.push(reason);
  const writesOfValue =
    suspect !== undefined && suspect.value !== null
      ? history.all.filter((other) => other.kind === 'write' && other.value === suspect.value)
      : [];
  if (suspect !== undefined) sentences.push(diagnoseRead(suspect, writesOfValue, history.all));
  const last = prefix[prefix.length - 1];
  sentences.push(
    prefix.length === 0
      ? `No operation can be linearized before it; the register still holds its initial value (none).`
      : `The longest linearizable prefix found has ${prefix.length} operation(s), ending with ${describeOperation(last)}; ` +
          `after it the register holds ${quoteValue(valueAfterPrefix)}.`,
  );
  if (concurrentAll.length > 0) {
    sentences.push(`${concurrentAll.length} operation(s) invoked before it completed are not in that prefix.`);
  }
  if (op.kind === 'write' && suspect === undefined) {
    sentences.push('No order of it and those operations explains every read that completed by then.');
  }

  return {
    key: history.key,
    op,
    suspect,
    prefixLength: prefix.length,
    prefixTail: prefix.slice(-VIOLATION_PREFIX_OPS_MAX),
    valueAfterPrefix,
    concurrent: concurrentAll.slice(-VIOLATION_CONCURRENT_OPS_MAX),
    concurrentCount: concurrentAll.length,
    writesOfValue,
    explanation: sentences.join(' '),
  };
}

/**
 * The read most likely at fault when `op` cannot be linearized, and why, from the state the search was in. A write is
 * blocked by a read: a value's reads all come between its write and the next write, so a pending read of the value the
 * register holds keeps every write out, and a write is useless before the first read of its own value can follow it.
 */
function findSuspect(
  op: Operation,
  valueAfterPrefix: string | null,
  undecided: readonly Operation[],
): { suspect?: Operation; reason?: string } {
  if (op.kind === 'read') return { suspect: op };
  const latestReadOf = (value: string | null, latest: boolean): Operation | undefined => {
    let found: Operation | undefined;
    for (const other of undecided) {
      if (other === op || other.kind !== 'read' || other.value !== value) continue;
      if (found === undefined || (latest ? other.invokedAt > found.invokedAt : other.invokedAt < found.invokedAt)) {
        found = other;
      }
    }
    return found;
  };
  if (valueAfterPrefix !== null) {
    const pending = latestReadOf(valueAfterPrefix, true);
    if (pending !== undefined) {
      return {
        suspect: pending,
        reason:
          `The register holds ${quoteValue(valueAfterPrefix)}, which ${describeOperation(pending)} has yet to read, ` +
          'and no write may come between a value and its reads.',
      };
    }
  }
  if (op.value !== null) {
    const firstRead = latestReadOf(op.value, false);
    if (firstRead !== undefined) {
      return {
        suspect: firstRead,
        reason:
          `Only reads of its value may follow it until the next operation completes, and the first of them, ` +
          `${describeOperation(firstRead)}, is invoked too late.`,
      };
    }
  }
  return {};
}

/** A sentence on where the value a read returned came from, stating only what the intervals prove. */
function diagnoseRead(read: Operation, writesOfValue: readonly Operation[], all: readonly Operation[]): string {
  if (read.value === null) return 'It found nothing (none).';
  if (writesOfValue.length === 0) return `No operation wrote ${quoteValue(read.value)}.`;
  const write = writesOfValue[0];
  if (write.outcome === 'fail') return `Its value was written only by ${describeOperation(write)}, which failed.`;
  if (write.invokedAt > read.completedAt) {
    return `Its value was written by ${describeOperation(write)}, invoked after the read completed.`;
  }
  if (write.outcome === 'ok') {
    // A write that started after `write` was acknowledged and was acknowledged before the read began took effect strictly
    // between the two, so the read cannot see `write`'s (unique) value.
    let overwrite: Operation | undefined;
    for (const other of all) {
      if (other.kind !== 'write' || other.outcome !== 'ok' || other === write) continue;
      if (other.invokedAt > write.completedAt && other.completedAt < read.invokedAt) {
        if (overwrite === undefined || other.completedAt > overwrite.completedAt) overwrite = other;
      }
    }
    if (overwrite !== undefined) {
      return (
        `Its value was written by ${describeOperation(write)} and overwritten by ${describeOperation(overwrite)}, ` +
        'which completed before the read was invoked.'
      );
    }
    // An earlier read that returned a newer value: the register went back in time.
    const newer = findNewerRead(read, write, all);
    if (newer !== undefined) {
      return (
        `Its value was written by ${describeOperation(write)}, but ${describeOperation(newer.read)} had already ` +
        `returned the value of ${describeOperation(newer.write)}, which was invoked after that write completed.`
      );
    }
  }
  return `Its value was written by ${describeOperation(write)}.`;
}

/**
 * A read that completed before `read` was invoked and returned a value whose (unique) write was invoked after `write`
 * completed: that write took effect after `write`, and before `read`.
 */
function findNewerRead(
  read: Operation,
  write: Operation,
  all: readonly Operation[],
): { read: Operation; write: Operation } | undefined {
  const writeOf = new Map<string, Operation>();
  for (const op of all) if (op.kind === 'write' && op.value !== null && op.outcome !== 'fail') writeOf.set(op.value, op);
  for (const other of all) {
    if (other.kind !== 'read' || other.outcome !== 'ok' || other.value === null || other.value === read.value) continue;
    if (other.completedAt >= read.invokedAt) continue;
    const newerWrite = writeOf.get(other.value);
    if (newerWrite !== undefined && newerWrite.invokedAt > write.completedAt) return { read: other, write: newerWrite };
  }
  return undefined;
}
