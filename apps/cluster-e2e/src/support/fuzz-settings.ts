import type fc from 'fast-check';

/**
 * Run settings of the fuzz suite, from the environment:
 * - `KV_FUZZ_SEED=<integer>` replays a run (every property derives its seed from it);
 * - `KV_FUZZ_RUNS=<n>` runs every fuzz property `n` times instead of the CI profile's counts (a longer profile).
 */
export interface FuzzSettings {
  /** The seed of this run, printed so that a failure can be replayed. */
  seed: number;
  /** Runs of every property when set; the CI profile's per-property counts otherwise. */
  runs?: number;
}

/** Reads {@link FuzzSettings} from the environment. @throws TypeError for a malformed variable. */
export function readFuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const seed = env.KV_FUZZ_SEED === undefined || env.KV_FUZZ_SEED === '' ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(env.KV_FUZZ_SEED);
  if (!Number.isSafeInteger(seed)) throw new TypeError(`KV_FUZZ_SEED must be an integer, got ${env.KV_FUZZ_SEED}`);
  const runs = env.KV_FUZZ_RUNS === undefined || env.KV_FUZZ_RUNS === '' ? undefined : Number(env.KV_FUZZ_RUNS);
  if (runs !== undefined && (!Number.isSafeInteger(runs) || runs < 1)) {
    throw new TypeError(`KV_FUZZ_RUNS must be a positive integer, got ${env.KV_FUZZ_RUNS}`);
  }
  return { seed, runs };
}

/**
 * The fast-check parameters of one property: its own seed (the run's seed plus `index`, so that properties do not draw
 * the same stream) and its number of runs.
 */
export function propertyParameters<T>(settings: FuzzSettings, index: number, ciRuns: number): fc.Parameters<T> {
  return { seed: (settings.seed + index) | 0, numRuns: settings.runs ?? ciRuns };
}

/** A jest deadline for a property of `runs` cases costing about `msPerRun` each, plus room for start-up and shrinking. */
export function deadlineMs(settings: FuzzSettings, ciRuns: number, msPerRun: number): number {
  return 60_000 + (settings.runs ?? ciRuns) * msPerRun * 3;
}
