import { assertHistory, type History } from './history';
import { prepareKeyHistory, splitByKey, type DroppedOperations } from './key-history';
import { invariant } from './invariant';
import { EXPLANATION_STEPS_MAX, REGISTER_STEPS_MAX_DEFAULT, REGISTER_TIME_MS_MAX_DEFAULT } from './limits';
import { searchLinearization } from './linearization-search';
import { explainViolation, type RegisterViolation } from './register-violation';

// One function for every call, so the search's call site of `now` stays monomorphic across checks.
const performanceNow = (): number => performance.now();

/** A checker's verdict: `'unknown'` when a bound stopped it before it could decide. */
export type Verdict = true | false | 'unknown';

/** Bounds of `checkRegister`, each applied to every key separately. */
export interface RegisterCheckOptions {
  /** Search steps allowed per key before its verdict is `'unknown'`. Default `REGISTER_STEPS_MAX_DEFAULT`. */
  stepsMax?: number;
  /** Milliseconds allowed per key before its verdict is `'unknown'`. Default `REGISTER_TIME_MS_MAX_DEFAULT`. */
  timeMsMax?: number;
  /** The clock the time bound is read from, in ms. Default `performance.now`. */
  now?: () => number;
}

/** The verdict on one key. */
export interface RegisterKeyResult {
  valid: Verdict;
  /** Search steps taken (visits of call and return events). */
  steps: number;
  /** Operations searched, after dropping those in `dropped`. */
  ops: number;
  dropped: DroppedOperations;
  /** Distinct (decided operations, value) configurations explored. */
  configurations: number;
  /** Which bound stopped the search, when `valid` is `'unknown'`. */
  bound?: 'steps' | 'time';
  /** Time spent on the key, by the `now` clock (including the explanation of a violation). */
  elapsedMs: number;
}

/** The verdict on a whole history. */
export interface RegisterCheckResult {
  checker: 'register';
  /** `false` if any key is not linearizable; otherwise `'unknown'` if any key's search was cut short; otherwise `true`. */
  valid: Verdict;
  /** Per key (an object without prototype, so any string is a safe key), in key order. */
  keys: Record<string, RegisterKeyResult>;
  /** One per non-linearizable key, in key order. */
  violations: RegisterViolation[];
}

/**
 * Checks that every key of `history` behaves as a linearizable register whose initial value is `null`: a write sets the
 * value (`null` for a delete), a read returns it. This is kv's guarantee with strict quorums (R + W > N): a read sees the
 * latest acknowledged write and never goes back in time.
 *
 * Keys are checked independently (linearizability is compositional). Outcomes: `fail` operations are dropped; an `unknown`
 * write may take effect at any time after its invocation, or never; an `unknown` read is dropped. Versions are ignored.
 * Relies on the workload writing unique values per key.
 *
 * Each key's search is bounded by `stepsMax` and `timeMsMax`; a key that reaches a bound is `'unknown'`, never a hang.
 * Memory grows with the steps taken (at most one memo entry per step). Deterministic: the same history and `stepsMax`
 * give the same result (unless the time bound is reached).
 *
 * How: per key, Wing & Gong's search with Lowe's memoization of (linearized set, value) pairs, plus prunings that rely on
 * unique values (see `searchLinearization` in `linearization-search.ts`). An `unknown` write whose value some read
 * returned is searched as a write that completed with the last such read; one that nobody could have observed is left
 * out; an `unknown` delete is searched as one that may be left out (see `prepareKeyHistory` in `key-history.ts`). A
 * violation is explained from the longest prefix of a second, unpruned search, whose cost is bounded by
 * `EXPLANATION_STEPS_MAX`.
 *
 * @throws TypeError if the history is malformed (see `assertHistory`), a key has two writes of one non-null value, or an
 *   option is out of range.
 */
export function checkRegister(history: History, options: RegisterCheckOptions = {}): RegisterCheckResult {
  const stepsMax = options.stepsMax ?? REGISTER_STEPS_MAX_DEFAULT;
  const timeMsMax = options.timeMsMax ?? REGISTER_TIME_MS_MAX_DEFAULT;
  const now = options.now ?? performanceNow;
  if (!Number.isSafeInteger(stepsMax) || stepsMax < 1) throw new TypeError('stepsMax must be a positive safe integer');
  if (!(timeMsMax > 0)) throw new TypeError('timeMsMax must be a positive number of ms');
  if (typeof now !== 'function') throw new TypeError('now must be a function returning ms');
  assertHistory(history);

  const keys = Object.create(null) as Record<string, RegisterKeyResult>;
  const violations: RegisterViolation[] = [];
  let valid: Verdict = true;
  const byKey = splitByKey(history);
  for (const key of [...byKey.keys()].sort()) {
    const startMs = now();
    const prepared = prepareKeyHistory(key, byKey.get(key) ?? []);
    const search = searchLinearization(prepared, { stepsMax, deadlineMs: startMs + timeMsMax, now });
    const result: RegisterKeyResult = {
      valid: search.verdict === 'linearizable' ? true : search.verdict === 'bounded' ? 'unknown' : false,
      steps: search.steps,
      ops: prepared.ops.length,
      dropped: prepared.dropped,
      configurations: search.configurations,
      elapsedMs: 0,
    };
    if (search.verdict === 'bounded') {
      result.bound = search.bound;
      if (valid === true) valid = 'unknown';
    } else if (search.verdict === 'not-linearizable') {
      // The unpruned search gets stuck at the read that fails, which is what a human wants to see; it only costs time
      // on keys that are already known to be wrong. Cut short, it still has its longest prefix so far, usually deeper
      // than the pruned one's: a long history keeps it backtracking long after it went as far as it could.
      const plain = searchLinearization(
        prepared,
        { stepsMax: Math.min(stepsMax, EXPLANATION_STEPS_MAX), deadlineMs: startMs + timeMsMax, now },
        false,
      );
      invariant(plain.verdict !== 'linearizable', 'the pruned and unpruned searches agree');
      const longest =
        plain.longest !== undefined && plain.longest.order.length >= search.longest.order.length
          ? plain.longest
          : search.longest;
      violations.push(explainViolation(prepared, longest));
      valid = false;
    }
    result.elapsedMs = now() - startMs;
    keys[key] = result;
  }
  return { checker: 'register', valid, keys, violations };
}
