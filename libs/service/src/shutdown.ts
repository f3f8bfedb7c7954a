import type { Logger } from './logger';

/** Time allowed for requests in flight and for flushing state once a stop signal arrived. */
export const SHUTDOWN_GRACE_MS_DEFAULT = 10_000;
/**
 * Time past the grace after which a stop that has not finished exits at once (code 1): a server is gone at most
 * `graceMs` + this after the signal, which is what a supervisor's own grace (Kubernetes'
 * terminationGracePeriodSeconds, compose's stop_grace_period) must exceed.
 */
export const SHUTDOWN_DEADLINE_MARGIN_MS = 5_000;

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (or 1 if `stop` failed). A second signal, or `stop`
 * taking longer than `graceMs` plus {@link SHUTDOWN_DEADLINE_MARGIN_MS}, exits at once with code 1: an operator
 * pressing Ctrl-C twice means it.
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => Promise<void>, logger: Logger, graceMs = SHUTDOWN_GRACE_MS_DEFAULT): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn('second stop signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('stopping', { signal });
    const deadline = setTimeout(() => {
      process.stderr.write(`stop did not finish within ${graceMs + SHUTDOWN_DEADLINE_MARGIN_MS} ms: exiting\n`);
      process.exit(1);
    }, graceMs + SHUTDOWN_DEADLINE_MARGIN_MS);
    deadline.unref();
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stop failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
