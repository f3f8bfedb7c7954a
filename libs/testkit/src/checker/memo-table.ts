import type { LinearizedSet } from './linearized-set';

/** Slots of a fresh table; a power of two. Why 1024: a short history never grows it, a long one doubles a few times. */
const INITIAL_SLOTS = 1024;
/** Words of a fresh pool of stored bitsets. Why 4096 (16 KiB): a few words per entry for the first thousand entries. */
const INITIAL_POOL_WORDS = 4096;

/**
 * Lowe's memoization for the linearizability search: the set of (linearized operations, model state) configurations
 * already explored. Reaching one again can only repeat a search that already failed, so the search prunes it.
 *
 * Open addressing over typed arrays, so a lookup allocates nothing. Each entry keeps the set's 64-bit hash, the state and
 * the canonical form of the bitset (the words between its all-ones prefix and its all-zeros suffix, usually one or two
 * words), and equality is decided on that form: a hash collision never prunes a configuration wrongly.
 * Internal to the register checker.
 */
export class MemoTable {
  private slots = new Int32Array(INITIAL_SLOTS); // entry index + 1; 0 = empty
  private mask = INITIAL_SLOTS - 1;
  private count = 0;
  private hashLow = new Int32Array(INITIAL_SLOTS / 2);
  private hashHigh = new Int32Array(INITIAL_SLOTS / 2);
  private states = new Int32Array(INITIAL_SLOTS / 2);
  private fullBelow = new Int32Array(INITIAL_SLOTS / 2);
  private usedBelow = new Int32Array(INITIAL_SLOTS / 2);
  private poolStart = new Int32Array(INITIAL_SLOTS / 2);
  private pool = new Uint32Array(INITIAL_POOL_WORDS);
  private poolUsed = 0;

  /** Number of configurations stored. */
  get size(): number {
    return this.count;
  }

  /**
   * Records the configuration (`set`, `state`) and returns true if it was new; returns false, storing nothing, if it was
   * already there.
   */
  addIfAbsent(set: LinearizedSet, state: number): boolean {
    let slot = mix(set.hashLow, set.hashHigh, state) & this.mask;
    for (;;) {
      const stored = this.slots[slot];
      if (stored === 0) break;
      if (this.matches(stored - 1, set, state)) return false;
      slot = (slot + 1) & this.mask;
    }
    this.insert(slot, set, state);
    return true;
  }

  private matches(entry: number, set: LinearizedSet, state: number): boolean {
    if (this.hashLow[entry] !== set.hashLow || this.hashHigh[entry] !== set.hashHigh) return false;
    if (this.states[entry] !== state) return false;
    const from = set.fullBelow;
    const to = set.usedBelow;
    if (this.fullBelow[entry] !== from || this.usedBelow[entry] !== to) return false;
    const start = this.poolStart[entry] - from;
    for (let w = from; w < to; w++) if (this.pool[start + w] !== set.words[w]) return false;
    return true;
  }

  private insert(slot: number, set: LinearizedSet, state: number): void {
    const entry = this.count;
    if (entry === this.states.length) this.growEntries();
    const from = set.fullBelow;
    const to = Math.max(from, set.usedBelow);
    const length = to - from;
    if (this.poolUsed + length > this.pool.length) this.pool = growUint32(this.pool, this.poolUsed + length);
    this.pool.set(set.words.subarray(from, to), this.poolUsed);
    this.hashLow[entry] = set.hashLow;
    this.hashHigh[entry] = set.hashHigh;
    this.states[entry] = state;
    this.fullBelow[entry] = from;
    this.usedBelow[entry] = to;
    this.poolStart[entry] = this.poolUsed;
    this.poolUsed += length;
    this.slots[slot] = entry + 1;
    this.count++;
    // Keep the load at or under one half, so probe sequences stay short.
    if (this.count * 2 > this.slots.length) this.rehash();
  }

  private growEntries(): void {
    const capacity = this.states.length * 2;
    this.hashLow = growInt32(this.hashLow, capacity);
    this.hashHigh = growInt32(this.hashHigh, capacity);
    this.states = growInt32(this.states, capacity);
    this.fullBelow = growInt32(this.fullBelow, capacity);
    this.usedBelow = growInt32(this.usedBelow, capacity);
    this.poolStart = growInt32(this.poolStart, capacity);
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = mix(this.hashLow[entry], this.hashHigh[entry], this.states[entry]) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

function mix(low: number, high: number, state: number): number {
  let h = low ^ Math.imul(high, 0x9e3779b1) ^ Math.imul(state, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return h ^ (h >>> 13);
}

function grownLength(length: number, lengthMin: number): number {
  let grown = length * 2;
  while (grown < lengthMin) grown *= 2;
  return grown;
}

function growInt32(array: Int32Array<ArrayBuffer>, lengthMin: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(grownLength(array.length, lengthMin));
  bigger.set(array);
  return bigger;
}

function growUint32(array: Uint32Array<ArrayBuffer>, lengthMin: number): Uint32Array<ArrayBuffer> {
  const bigger = new Uint32Array(grownLength(array.length, lengthMin));
  bigger.set(array);
  return bigger;
}
