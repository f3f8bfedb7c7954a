/**
 * Number of trials of a randomized test: the environment variable `name` if set (the long profile, e.g.
 * `WAL_POWERCUT_TRIALS=5000`), else `short`, which keeps the whole suite within about a minute on a 2-core machine
 * (the CI profile, also the local default).
 */
export function trials(name: string, short: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return short;
  const count = Number(value);
  if (!Number.isSafeInteger(count) || count < 1) throw new TypeError(`${name} must be a positive integer, got ${value}`);
  return count;
}

/** Base seed of a randomized test: `WAL_SEED` if set (to replay a failure), else a fresh one. Printed by the caller. */
export function baseSeed(): number {
  const value = process.env.WAL_SEED;
  return value !== undefined && value !== '' ? Number(value) : Math.floor(Math.random() * 2 ** 31);
}
