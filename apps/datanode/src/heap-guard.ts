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

/** The heap as V8 reports it: used bytes, and the limit it grows to (`--max-old-space-size`, or its default). */
export function readHeap(): HeapReading {
  const stats = v8.getHeapStatistics();
  return { used: stats.used_heap_size, limit: stats.heap_size_limit };
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
      `this data node's heap is ${this.percentNow.toFixed(0)}% full (MAX_HEAP_PERCENT=${this.options.percentMax}): ` +
      'it refuses writes of values until keys are deleted or it runs with more memory (--max-old-space-size); deletes are accepted'
    );
  }
}
