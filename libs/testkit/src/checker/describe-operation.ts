import type { Operation } from './history';

/** Characters of a value quoted in a description. Why 40: enough to recognise a workload's unique values on one line. */
const QUOTED_VALUE_CHARS_MAX = 40;

/**
 * One line naming an operation for a human: id, process, what it did, its outcome and its interval in ms, e.g.
 * `#12 p3 write "v7" ok [10.0, 20.5] ms`, `#13 p1 read -> none ok [21.0, 22.0] ms`, `#14 p2 delete unknown [30.0, ∞) ms`.
 * The key is left out: descriptions appear under their key.
 */
export function describeOperation(op: Operation): string {
  const what =
    op.kind === 'write'
      ? op.value === null
        ? 'delete'
        : `write ${quoteValue(op.value)}`
      : `read -> ${quoteValue(op.value)}`;
  const end = op.outcome === 'unknown' ? '∞)' : `${formatMs(op.completedAt)}]`;
  return `#${op.id} p${op.process} ${what} ${op.outcome} [${formatMs(op.invokedAt)}, ${end} ms`;
}

/** A register value for a human: JSON-quoted and shortened, or `none` for `null` (absent). */
export function quoteValue(value: string | null): string {
  if (value === null) return 'none';
  const quoted = JSON.stringify(value);
  return quoted.length <= QUOTED_VALUE_CHARS_MAX ? quoted : `${quoted.slice(0, QUOTED_VALUE_CHARS_MAX - 2)}…"`;
}

/** A time in ms with one decimal. */
export function formatMs(ms: number): string {
  return Number.isFinite(ms) ? ms.toFixed(1) : String(ms);
}
