import type { ReplicaStore } from './replica-ops';

/** Expired values converted into tombstones per sweep at most: bounded work per tick, one group commit. */
export const EXPIRY_SWEEP_MAX_DEFAULT = 1000;
/** Interval of the data node's sweep, in ms. */
export const EXPIRY_SWEEP_INTERVAL_MS_DEFAULT = 1000;

/** One expiring value the sweeper waits for: the key's value at `version` expires at `expiresAt`. */
interface Expiring {
  readonly key: string;
  readonly version: string;
  readonly expiresAt: number;
}

/**
 * The data node's side of expiring keys (docs/ARCHITECTURE.md, Expiring keys): it turns each expired value into a
 * tombstone at the same version once the node's clock has passed its `expiresAt` by `graceMs` (the cluster's
 * `MAX_CLOCK_SKEW_MS`, so that no coordinator within the allowed skew still reads the key as live), with the store's
 * `expire`. It only reclaims storage; whether a key reads as expired is decided by the reading coordinator.
 *
 * The expiring values wait in a min-heap by `expiresAt`, with the latest expiring version of each key in a map: a
 * key written again (with or without expiry) or deleted leaves a stale heap item, skipped when it comes up; the heap
 * is rebuilt from the map when stale items outnumber the live ones, so memory stays proportional to the expiring keys.
 * Each sweep converts at most `sweepMax` values (and looks at most four times as many heap items).
 */
export class ExpirySweeper {
  private heap: Expiring[] = [];
  private readonly byKey = new Map<string, Expiring>();

  /** @throws TypeError unless `graceMs` is a non-negative integer and `sweepMax` a positive one. */
  constructor(
    private readonly store: ReplicaStore,
    private readonly graceMs: number,
    private readonly sweepMax: number = EXPIRY_SWEEP_MAX_DEFAULT,
  ) {
    if (!Number.isInteger(graceMs) || graceMs < 0) throw new TypeError(`graceMs must be a non-negative integer, got ${graceMs}`);
    if (!Number.isInteger(sweepMax) || sweepMax < 1) throw new TypeError(`sweepMax must be a positive integer, got ${sweepMax}`);
  }

  /** Expiring values waiting for their conversion. */
  get size(): number {
    return this.byKey.size;
  }

  /**
   * Takes note of a write applied to `key`: a value expiring at `expiresAt` is remembered; anything else (a value
   * without expiry, a tombstone: `expiresAt` undefined) makes the key's earlier expiring value stale.
   */
  note(key: string, version: string, expiresAt: number | undefined): void {
    if (expiresAt === undefined) {
      // Writes of keys without expiry, the common case, cost nothing while no value expires.
      if (this.byKey.size > 0) this.byKey.delete(key);
      return;
    }
    const item: Expiring = { key, version, expiresAt };
    this.byKey.set(key, item);
    this.push(item);
    if (this.heap.length > 64 && this.heap.length > 2 * this.byKey.size) this.rebuild();
  }

  /**
   * Converts the values whose `expiresAt` + grace is at or before `now` into tombstones, at most `sweepMax` of them,
   * soonest first. Resolves with the number converted once they are durable.
   */
  async sweep(now: number): Promise<number> {
    const due: Expiring[] = [];
    let looked = 0;
    while (this.heap.length > 0 && due.length < this.sweepMax && looked < 4 * this.sweepMax) {
      const top = this.heap[0];
      if (top.expiresAt + this.graceMs > now) break;
      this.pop();
      looked += 1;
      if (this.byKey.get(top.key) !== top) continue;
      this.byKey.delete(top.key);
      due.push(top);
    }
    if (due.length === 0) return 0;
    const converted = await Promise.all(due.map((item) => this.store.expire(item.key, item.version)));
    return converted.filter(Boolean).length;
  }

  /**
   * Values that expired at or before `now` and are not converted yet: they are still stored, but no longer live.
   * Costs in proportion to those values (the heap is walked only where it holds times at or before `now`).
   */
  expiredBy(now: number): number {
    let count = 0;
    const stack = this.heap.length > 0 ? [0] : [];
    while (stack.length > 0) {
      const i = stack.pop() as number;
      const item = this.heap[i];
      if (item.expiresAt > now) continue;
      if (this.byKey.get(item.key) === item) count += 1;
      if (2 * i + 1 < this.heap.length) stack.push(2 * i + 1);
      if (2 * i + 2 < this.heap.length) stack.push(2 * i + 2);
    }
    return count;
  }

  private rebuild(): void {
    this.heap = [...this.byKey.values()];
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(item: Expiring): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].expiresAt <= item.expiresAt) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = item;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as Expiring;
    if (heap.length === 0) return;
    heap[0] = last;
    this.down(0);
  }

  private down(start: number): void {
    const heap = this.heap;
    const item = heap[start];
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right].expiresAt < heap[left].expiresAt ? right : left;
      if (heap[child].expiresAt >= item.expiresAt) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = item;
  }
}
