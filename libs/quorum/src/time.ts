/** Wall-clock time in milliseconds since the Unix epoch, injected so that tests control it. */
export interface Clock {
  now(): number;
}

/** Timers, injected so that tests can run on virtual time. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Clock and timers together: what a component with deadlines and periodic work takes. */
export type ClockAndTimers = Clock & Timers;
