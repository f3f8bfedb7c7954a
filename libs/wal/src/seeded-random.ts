/**
 * A small deterministic pseudo-random generator (mulberry32): the same seed gives the same sequence, so a failing
 * randomized test replays exactly from its printed seed. Not for anything that needs unpredictability.
 *
 * @returns a function giving floats in [0, 1).
 * @throws TypeError if `seed` is not an integer.
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
