import type { ClusterChangeStarted, ClusterResponse } from '@kv/protocol';
import { isChangeDone } from './cluster-format';

/**
 * Polls failed in a row before `--wait` gives up: a proxy busy switching maps may miss a poll or two, one that is gone
 * misses them all.
 */
export const POLL_FAILURES_MAX = 5;

/** What {@link waitForChange} needs: the poll, the clock and the deadline are injected, so tests run without waiting. */
export interface WaitForChangeOptions {
  /** The change to wait for, as `POST /cluster/changes` answered. */
  readonly started: ClusterChangeStarted;
  /** One `GET /cluster`, bounded by its own request deadline (the wait may overrun by that much). */
  poll(): Promise<ClusterResponse>;
  /** The clock, in ms. */
  now(): number;
  /** Waits `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /** Longest wait in all, in ms. */
  readonly timeoutMs: number;
  /** Time between the end of a poll and the next one, in ms. */
  readonly intervalMs: number;
  /** Called with every answer, the last one included. */
  onAnswer?(cluster: ClusterResponse): void;
  /** Called with every failed poll and how many failed in a row. */
  onPollFailure?(error: unknown, inARow: number): void;
}

/** How a wait ended. */
export type WaitOutcome =
  /** The change is done; `cluster` is the first answer that shows it. */
  | { readonly outcome: 'done'; readonly cluster: ClusterResponse }
  /** The deadline passed first; `last` is the latest answer (undefined when none came). */
  | { readonly outcome: 'timeout'; readonly last: ClusterResponse | undefined }
  /** {@link POLL_FAILURES_MAX} polls failed in a row; `error` is the last failure. */
  | { readonly outcome: 'failed'; readonly error: unknown; readonly last: ClusterResponse | undefined };

/**
 * Polls the proxy until the change `started` is done (see `isChangeDone`), the deadline passes, or
 * {@link POLL_FAILURES_MAX} polls fail in a row. Polls one at a time; the first poll is sent at once.
 * @throws TypeError for a deadline or interval that is not a positive number.
 */
export async function waitForChange(options: WaitForChangeOptions): Promise<WaitOutcome> {
  const { started, timeoutMs, intervalMs } = options;
  if (!(timeoutMs > 0) || !(intervalMs > 0)) throw new TypeError(`timeoutMs and intervalMs must be positive, got ${timeoutMs} and ${intervalMs}`);
  const deadline = options.now() + timeoutMs;
  let last: ClusterResponse | undefined;
  let failuresInARow = 0;
  for (;;) {
    try {
      const cluster = await options.poll();
      failuresInARow = 0;
      last = cluster;
      options.onAnswer?.(cluster);
      if (isChangeDone(cluster, started)) return { outcome: 'done', cluster };
    } catch (error) {
      failuresInARow += 1;
      options.onPollFailure?.(error, failuresInARow);
      if (failuresInARow >= POLL_FAILURES_MAX) return { outcome: 'failed', error, last };
    }
    const leftMs = deadline - options.now();
    if (leftMs <= 0) return { outcome: 'timeout', last };
    await options.sleep(Math.min(intervalMs, leftMs));
  }
}
