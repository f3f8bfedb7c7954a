import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

/**
 * A data node keeps every key in memory. When the data outgrows the heap, the node refuses writes of values with a clear
 * error before the heap is exhausted, instead of dying of it and losing its place in every quorum: writes are refused
 * above `MAX_HEAP_PERCENT` of the heap's limit, a warning comes first at 10 points below, and deletes stay accepted (they
 * are how an operator makes room). See docs/operations.md, "Memory".
 */

/** Where the heap stands, in bytes. */
export interface HeapReading {
  used: number;
  limit: number;
}

/** The state of the guard: `ok`, `warning` (within 10 points of the bound) or `refusing` (writes refused). */
export type HeapState = 'ok' | 'warning' | 'refusing';

/** Points below `MAX_HEAP_PERCENT` where the warning starts. */
export const HEAP_WARNING_MARGIN_PERCENT = 10;
/** How often the heap is read, in ms: between two readings the in-flight bounds cap what can be allocated. */
export const HEAP_SAMPLE_INTERVAL_MS = 1000;

/** The memory limit of the process's control group (cgroup v2 `memory.max`, or v1), when a container sets one. */
export function readCgroupLimit(): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(readFileSync(file, 'utf8').trim());
      // "max", or v1's "no limit" (a number near 2^63): no limit.
      if (Number.isSafeInteger(limit) && limit > 0 && limit < 2 ** 50) return limit;
    } catch {
      // No such file: not in a control group with a limit.
    }
  }
  return undefined;
}

const cgroupLimit = readCgroupLimit();

/**
 * The fuller of two readings: the heap as V8 reports it (used bytes, and the limit it grows to: `--max-old-space-size`
 * or its default), and the process's resident memory against its container's limit when there is one (a container
 * limit below the heap's is reached first, and ends the process without a word).
 */
export function readHeap(): HeapReading {
  const stats = v8.getHeapStatistics();
  const heap = { used: stats.used_heap_size, limit: stats.heap_size_limit };
  if (cgroupLimit === undefined) return heap;
  const resident = { used: process.memoryUsage.rss(), limit: cgroupLimit };
  return resident.used / resident.limit > heap.used / heap.limit ? resident : heap;
}

export interface HeapGuardOptions {
  /** `MAX_HEAP_PERCENT`: writes are refused above it. */
  percentMax: number;
  read?: () => HeapReading;
  /** Called when the state changes, with the percent used. */
  changed?(state: HeapState, percent: number, before: HeapState): void;
}

/** Reads the heap now and then, and tells whether writes of values must be refused. */
export class HeapGuard {
  private current: HeapState = 'ok';
  private percentNow = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: HeapGuardOptions) {
    if (!Number.isInteger(options.percentMax) || options.percentMax < 1 || options.percentMax > 99) {
      throw new TypeError(`percentMax must be an integer in 1..99, got ${options.percentMax}`);
    }
  }

  /** The latest state. */
  get state(): HeapState {
    return this.current;
  }

  /** Percent of the heap's limit in use at the latest reading. */
  get percent(): number {
    return this.percentNow;
  }

  /** True while writes of values are refused. */
  get refusing(): boolean {
    return this.current === 'refusing';
  }

  /** Reads the heap and updates the state. */
  sample(): HeapState {
    const { used, limit } = (this.options.read ?? readHeap)();
    this.percentNow = limit > 0 ? (100 * used) / limit : 0;
    const next: HeapState =
      this.percentNow >= this.options.percentMax ? 'refusing' : this.percentNow >= this.options.percentMax - HEAP_WARNING_MARGIN_PERCENT ? 'warning' : 'ok';
    if (next !== this.current) {
      const before = this.current;
      this.current = next;
      this.options.changed?.(next, this.percentNow, before);
    }
    return next;
  }

  /** Samples every {@link HEAP_SAMPLE_INTERVAL_MS} until {@link stop}; the timer does not keep the process alive. */
  start(intervalMs = HEAP_SAMPLE_INTERVAL_MS): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The message of a refused write. */
  message(): string {
    return (
      `this data node's memory is ${this.percentNow.toFixed(0)}% full (MAX_HEAP_PERCENT=${this.options.percentMax}): ` +
      'it refuses writes of values until keys are deleted or it runs with more memory (--max-old-space-size, or a larger container limit); deletes are accepted'
    );
  }
}
