/**
 * Bounds of the history checkers. A checker that reaches one reports `unknown` instead of running on: a chaos run must
 * end with a verdict, even an inconclusive one.
 */

/**
 * Search steps allowed per key when `stepsMax` is not given. Why 1,000,000: a linearizable history of a few thousand
 * operations per key at a concurrency of 5 to 10 needs a few steps per operation, so this is a wide margin; it bounds the
 * memo table (at most one entry per step, tens of bytes each) to some tens of MB and the time to about a second.
 */
export const REGISTER_STEPS_MAX_DEFAULT = 1_000_000;

/**
 * Wall time allowed per key when `timeMsMax` is not given. Why 10 s: far above what a bounded search of a normal history
 * takes, low enough that a chaos run with a few pathological keys still ends in minutes.
 */
export const REGISTER_TIME_MS_MAX_DEFAULT = 10_000;

/**
 * Steps between two readings of the clock. Why 1024: reading the clock costs far more than a step, and 1024 steps take well
 * under a millisecond, so the time bound is still kept to within a millisecond.
 */
export const STEPS_PER_CLOCK_READ = 1024;

/**
 * Search steps spent per non-linearizable key on the unpruned search that explains the violation. Why 200,000: the plain
 * search usually fails as fast as the pruned one on a short history, and this caps its cost (well under a second) on a
 * long one, where the pruned search's own explanation is used instead.
 */
export const EXPLANATION_STEPS_MAX = 200_000;

/**
 * Operations of the longest linearizable prefix quoted in a register violation, counted from its end. Why 8: the ops just
 * before the failure explain it; the full prefix of a long history would bury them.
 */
export const VIOLATION_PREFIX_OPS_MAX = 8;

/**
 * Concurrent operations quoted in a register violation. Why 16: more than the concurrency of our workloads, so in practice
 * all of them, while a pathological history cannot make a report unreadable.
 */
export const VIOLATION_CONCURRENT_OPS_MAX = 16;

/** Violations, lost elements or divergent keys detailed by `formatReport` when `detailsMax` is not given. Why 10: a screenful. */
export const REPORT_DETAILS_MAX_DEFAULT = 10;
