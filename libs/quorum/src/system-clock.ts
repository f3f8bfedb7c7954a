import type { Clock, Timers } from './time';

/**
 * The process's real clock and timers: the one place in the coordinator core that reads `Date` and arms Node's timers
 * (everything else takes them injected, so every failure order can be played on virtual time).
 */
export const systemClock: Clock & Timers = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Runs `callback` after the current event-loop turn, once the I/O callbacks of this turn have run (`setImmediate`). */
export function afterThisTurn(callback: () => void): void {
  setImmediate(callback);
}
