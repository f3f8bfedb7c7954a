/**
 * The set of operations linearized so far on the search path, as a bitset with an incremental 64-bit hash and a canonical
 * compact form, so that the memo table can hash and store it without scanning or copying the whole bitset.
 */

const WORD_BITS = 32;
const WORD_FULL = 0xffffffff;

/** A bitset over operation indexes `0..size-1`. Internal to the register checker. */
export class LinearizedSet {
  readonly words: Uint32Array;
  /** XOR of the random 64-bit keys (as two 32-bit halves) of the members: equal sets have equal hashes. */
  hashLow = 0;
  hashHigh = 0;
  /** `words[0..fullBelow)` are all ones. With `usedBelow`, it delimits the canonical form that the memo table stores. */
  fullBelow = 0;
  /** `words[usedBelow..)` are all zeros. */
  usedBelow = 0;
  private readonly keysLow: Int32Array;
  private readonly keysHigh: Int32Array;

  constructor(readonly size: number) {
    this.words = new Uint32Array(Math.ceil(size / WORD_BITS));
    this.keysLow = new Int32Array(size);
    this.keysHigh = new Int32Array(size);
    // A fixed seed keeps every run of the search identical, so a reported step count replays exactly.
    const random = splitMix32(0x6b76_6368);
    for (let i = 0; i < size; i++) {
      this.keysLow[i] = random();
      this.keysHigh[i] = random();
    }
  }

  has(index: number): boolean {
    return (this.words[index >>> 5] & (1 << (index & 31))) !== 0;
  }

  add(index: number): void {
    const word = index >>> 5;
    this.words[word] |= 1 << (index & 31);
    this.hashLow ^= this.keysLow[index];
    this.hashHigh ^= this.keysHigh[index];
    if (word >= this.usedBelow) this.usedBelow = word + 1;
    if (word === this.fullBelow) {
      while (this.fullBelow < this.words.length && this.words[this.fullBelow] === WORD_FULL) this.fullBelow++;
    }
  }

  remove(index: number): void {
    const word = index >>> 5;
    this.words[word] &= ~(1 << (index & 31));
    this.hashLow ^= this.keysLow[index];
    this.hashHigh ^= this.keysHigh[index];
    if (word < this.fullBelow) this.fullBelow = word;
    if (word === this.usedBelow - 1) {
      while (this.usedBelow > 0 && this.words[this.usedBelow - 1] === 0) this.usedBelow--;
    }
  }
}

/** SplitMix32: a small, well-mixed deterministic generator, enough to key a hash. */
function splitMix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return z ^ (z >>> 16);
  };
}
