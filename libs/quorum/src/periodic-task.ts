import type { Timers } from './time';

/**
 * Runs an asynchronous task every `intervalMs` on injected timers, never two runs at once: the next run is armed when
 * the previous one settles. A failed run is reported to `onError` and does not stop the schedule.
 */
export class PeriodicTask {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = true;

  /** @throws TypeError unless `intervalMs` is a positive finite number. */
  constructor(
    private readonly timers: Timers,
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new TypeError(`intervalMs must be a positive number, got ${intervalMs}`);
  }

  /** Starts the schedule: the first run after `firstDelayMs` (default one interval). Idempotent. */
  start(firstDelayMs = this.intervalMs): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(firstDelayMs);
  }

  /** Runs the task now, off schedule, or joins the run in progress. */
  runNow(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.task()
        .catch((error: unknown) => this.onError(error))
        .finally(() => {
          this.running = undefined;
        });
    }
    return this.running;
  }

  /** Stops the schedule and waits for the run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.runNow().finally(() => this.arm(this.intervalMs));
    }, delayMs);
  }
}
