import type { Operation, Outcome } from './history';

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['ok', 'fail', 'unknown']);

/**
 * One insert of a set workload: a unique element and how its insert ended. An acknowledged write `Operation` of a non-null
 * value is one as it is; the process and times, when present, only make reports clearer.
 */
export type SetInsert = Pick<Operation, 'id' | 'value' | 'outcome'> &
  Partial<Pick<Operation, 'process' | 'invokedAt' | 'completedAt'>>;

/** An element of the final read that no insert explains. */
export interface UnexpectedElement {
  value: string;
  /** `never-inserted`: no insert of it exists. `insert-failed`: its only insert definitely failed. */
  reason: 'never-inserted' | 'insert-failed';
  /** The failed insert, for `insert-failed`. */
  insert?: SetInsert;
}

/** The verdict on a set workload. */
export interface SetCheckResult {
  checker: 'set';
  /** True when nothing is `lost`, `unexpected` or `duplicated`. */
  valid: boolean;
  /** Inserts attempted, by outcome. */
  inserts: { ok: number; fail: number; unknown: number };
  /** Distinct elements in the final read. */
  present: number;
  /** Acknowledged inserts whose element is missing from the final read: lost writes. */
  lost: SetInsert[];
  /** Elements of the final read that nobody inserted, or whose insert definitely failed. */
  unexpected: UnexpectedElement[];
  /** Inserts of unknown outcome whose element is present: they took effect, which is allowed. */
  recovered: SetInsert[];
  /** Inserts of unknown outcome whose element is absent: they did not take effect, which is allowed. */
  unrecovered: number;
  /** Elements the final read listed more than once: a set never holds an element twice. */
  duplicated: string[];
}

/**
 * Checks a set workload: every element was inserted once, with a unique value, then the set was read in full after the
 * cluster healed. Every acknowledged insert must be present; every present element must come from an insert that did not
 * definitely fail. Inserts of unknown outcome may be present or absent.
 *
 * @throws TypeError if an insert has a non-string value, two inserts share a value, or the final read holds a
 *   non-string.
 */
export function checkSet(inserts: readonly SetInsert[], finalRead: Iterable<string>): SetCheckResult {
  if (!Array.isArray(inserts)) throw new TypeError('inserts must be an array');
  const insertOf = new Map<string, SetInsert>();
  const counts = { ok: 0, fail: 0, unknown: 0 };
  for (const insert of inserts) {
    if (typeof insert.value !== 'string') throw new TypeError(`insert #${insert.id}: value must be a string`);
    if (insertOf.has(insert.value)) throw new TypeError(`insert #${insert.id}: value ${insert.value} inserted twice`);
    const outcome: Outcome = insert.outcome;
    if (!OUTCOMES.has(outcome)) throw new TypeError(`insert #${insert.id}: outcome must be ok, fail or unknown`);
    insertOf.set(insert.value, insert);
    counts[outcome]++;
  }

  const present = new Set<string>();
  const duplicated = new Set<string>();
  for (const element of finalRead) {
    if (typeof element !== 'string') throw new TypeError('the final read must hold strings');
    if (present.has(element)) duplicated.add(element);
    present.add(element);
  }

  const lost: SetInsert[] = [];
  const recovered: SetInsert[] = [];
  let unrecovered = 0;
  for (const insert of inserts) {
    const isPresent = present.has(insert.value as string);
    if (insert.outcome === 'ok' && !isPresent) lost.push(insert);
    else if (insert.outcome === 'unknown') {
      if (isPresent) recovered.push(insert);
      else unrecovered++;
    }
  }
  const unexpected: UnexpectedElement[] = [];
  for (const element of present) {
    const insert = insertOf.get(element);
    if (insert === undefined) unexpected.push({ value: element, reason: 'never-inserted' });
    else if (insert.outcome === 'fail') unexpected.push({ value: element, reason: 'insert-failed', insert });
  }

  return {
    checker: 'set',
    valid: lost.length === 0 && unexpected.length === 0 && duplicated.size === 0,
    inserts: counts,
    present: present.size,
    lost,
    unexpected,
    recovered,
    unrecovered,
    duplicated: [...duplicated],
  };
}
