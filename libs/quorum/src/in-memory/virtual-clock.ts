import type { Clock, Timers } from '../time';

interface Timer {
  readonly id: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

/** Lets promise callbacks and `setImmediate` callbacks queued so far run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time for tests: `now()` moves only when the test advances it, and timers fire in due order as it does.
 * Between timers, pending promise callbacks run, so async code driven by these timers behaves as on real time,
 * deterministically and without waiting.
 */
export class VirtualClock implements Clock, Timers {
  private current: number;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = { id: this.nextId++, dueMs: this.current + Math.max(0, delayMs), callback };
    // Sorted by due time, then creation: timers due together fire in the order they were set.
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1].dueMs > timer.dueMs) i--;
    this.timers.splice(i, 0, timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    while (this.timers.length > 0 && this.timers[0].dueMs <= target) {
      const timer = this.timers.shift() as Timer;
      this.current = Math.max(this.current, timer.dueMs);
      timer.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }

  /** Fires timers until none is left (at most `timersMax`, against runaway loops). */
  async runAll(timersMax = 100_000): Promise<void> {
    await settle();
    for (let fired = 0; this.timers.length > 0; fired++) {
      if (fired >= timersMax) throw new Error(`VirtualClock.runAll: more than ${timersMax} timers fired`);
      const timer = this.timers.shift() as Timer;
      this.current = Math.max(this.current, timer.dueMs);
      timer.callback();
      await settle();
    }
  }

  /** Runs `promise` to completion on virtual time: fires timers until it settles. */
  async run<T>(promise: Promise<T>, timersMax = 100_000): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    // The caller handles the outcome once this returns; until then a rejection must not count as unhandled.
    tracked.catch(() => undefined);
    await settle();
    for (let fired = 0; !done; fired++) {
      const timer = this.timers.shift();
      if (timer === undefined) {
        await settle();
        if (done) break;
        throw new Error('VirtualClock.run: the promise is still pending and no timer is left to fire');
      }
      if (fired >= timersMax) throw new Error(`VirtualClock.run: more than ${timersMax} timers fired`);
      this.current = Math.max(this.current, timer.dueMs);
      timer.callback();
      await settle();
    }
    return tracked;
  }
}
