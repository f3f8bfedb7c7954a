import type { Operation, Outcome } from '../history';

/**
 * One operation in a hand-written history: kind (`w` write, `r` read), value, invocation and completion (ms), outcome
 * (default `ok`) and key (default `k`).
 */
export type OpSpec = readonly [
  kind: 'w' | 'r',
  value: string | null,
  invokedAt: number,
  completedAt: number,
  outcome?: Outcome,
  key?: string,
];

/** Builds a history from specs; ids are 1, 2, … in order, and each operation gets a process of its own. */
export function history(...specs: OpSpec[]): Operation[] {
  return specs.map(([kind, value, invokedAt, completedAt, outcome = 'ok', key = 'k'], index) => ({
    id: index + 1,
    process: index + 1,
    key,
    kind: kind === 'w' ? 'write' : 'read',
    value,
    outcome,
    invokedAt,
    completedAt: outcome === 'unknown' ? Infinity : completedAt,
  }));
}
