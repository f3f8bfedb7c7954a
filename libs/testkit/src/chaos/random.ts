/**
 * A seeded pseudo-random generator (mulberry32): one seed replays the same choices of workloads and faults, so a
 * failing run can be repeated from the seed it printed.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new TypeError('pick from an empty array');
    return items[this.int(items.length)];
  }

  /** A generator for a sub-task, seeded from this one (so adding choices in one task does not shift the others). */
  fork(): Random {
    return new Random(this.int(0x7fffffff));
  }
}

/** A seed from the environment (`KV_CHAOS_SEED`) or a fresh random one. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KV_CHAOS_SEED;
  if (raw !== undefined && raw !== '') {
    const seed = Number(raw);
    if (!Number.isInteger(seed)) throw new TypeError(`KV_CHAOS_SEED=${raw} must be an integer`);
    return seed;
  }
  return Math.floor(Math.random() * 0x7fffffff);
}
