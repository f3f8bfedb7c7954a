import { Presets, SingleBar } from 'cli-progress';
import type { CliIo } from './io';

/** Redraws of a progress bar per second: smooth enough to read, cheap enough not to slow the work it shows. */
const PROGRESS_FPS = 10;

/** Width of the bar itself, in characters. */
const BAR_CHARS = 30;

/** A progress display on stderr. */
export interface Progress {
  /**
   * Sets the progress to `value` of the total, with `detail` (e.g. `1234 ops | 0 errors`) shown beside it. With
   * `milestone` (e.g. a phase that begins), plain lines do not wait for their interval.
   */
  update(value: number, detail: string, milestone?: boolean): void;
  /** Ends the display, leaving the last state on screen; idempotent. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Shown first: `kv <label> [=====-----] 50% | <detail>`. */
  label: string;
  /** The value at 100 %. */
  total: number;
  /**
   * When stderr is not a terminal: the least time between two plain progress lines (`kv <label>: 50% | <detail>`), in ms;
   * `undefined` prints nothing.
   */
  plainIntervalMs?: number;
  /** The clock of the plain lines, in ms. */
  now?: () => number;
}

/**
 * A progress display on stderr: a live bar (`cli-progress`) when stderr is a terminal; otherwise occasional plain lines
 * (see {@link ProgressOptions.plainIntervalMs}) or nothing, so logs and pipes do not fill with redraws.
 */
export function createProgress(io: CliIo, options: ProgressOptions): Progress {
  if (io.stderr.isTTY === true) return barProgress(io, options);
  if (options.plainIntervalMs === undefined) return { update: () => undefined, stop: () => undefined };
  const intervalMs = options.plainIntervalMs;
  const now = options.now ?? Date.now;
  let lastMs = now();
  return {
    update(value, detail, milestone = false) {
      const at = now();
      if (!milestone && at - lastMs < intervalMs) return;
      lastMs = at;
      io.stderr.write(`kv ${options.label}: ${percent(value, options.total)}% | ${detail}\n`);
    },
    stop: () => undefined,
  };
}

function barProgress(io: CliIo, options: ProgressOptions): Progress {
  const bar = new SingleBar(
    {
      stream: io.stderr,
      format: `kv ${options.label} [{bar}] {percentage}% | {detail}`,
      barsize: BAR_CHARS,
      fps: PROGRESS_FPS,
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.legacy,
  );
  bar.start(options.total, 0, { detail: '' });
  let stopped = false;
  return {
    update(value, detail) {
      if (!stopped) bar.update(Math.min(value, options.total), { detail });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

function percent(value: number, total: number): number {
  return total <= 0 ? 100 : Math.min(100, Math.floor((value / total) * 100));
}
