/**
 * A small, fast, seedable pseudo-random generator (mulberry32): the same seed gives the same keys and operations, so a
 * run can be repeated. Not for anything secret.
 */
export class SeededRandom {
  private state: number;

  /** @param seed any integer; only its low 32 bits count. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}
