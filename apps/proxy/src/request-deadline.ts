import type http from 'node:http';
import { deadlinePassed, RequestScope, systemClock, type ClockAndTimers } from '@kv/quorum';

/** Default `REQUEST_TIMEOUT_MS`: ten node timeouts, enough for a two-phase write with a retry after a stale map. */
export const REQUEST_TIMEOUT_MS_DEFAULT = 10_000;

/**
 * The deadline of each public request (`REQUEST_TIMEOUT_MS`): a request not answered within it fails with
 * `503 KV_QUORUM_FAILED` (a write's outcome is unknown), and its operations not yet sent to a data node are dropped
 * (see {@link RequestScope}). A client that closes its connection before the answer has its request given up the same
 * way. Operations already sent finish as they would.
 *
 * One timer per request answers it at its deadline: however the work behaves (a data node that never answers, a
 * write in two phases, a wait for a newer cluster map), the client hears back in time. Every request's timer has the
 * same duration, and Node keeps timers of one duration in one list under one system timer, so adding and clearing one
 * costs O(1). The transport needs no timer of its own: it checks the scope when it sends a batch.
 */
export class RequestDeadlines {
  private readonly clock: ClockAndTimers;

  /** @param clock the replicas' transport's clock: the deadlines it checks are on it (default the system clock). */
  constructor(
    readonly timeoutMs: number = REQUEST_TIMEOUT_MS_DEFAULT,
    clock: ClockAndTimers = systemClock,
  ) {
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new TypeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
    this.clock = clock;
  }

  /**
   * Runs `work` within the deadline: resolves with its result, or rejects with its error or, once the deadline
   * passed, with `KV_QUORUM_FAILED` (`required`: the acknowledgements the request needed, for the error's details).
   * @param client the HTTP answer: when its connection closes before it was sent, the work is given up (and this
   *   rejects at once: there is nobody to answer); or a function that tells whether the client went away (a RESP
   *   connection), asked whenever an operation is about to start.
   */
  async run<T>(work: (scope: RequestScope) => Promise<T>, client?: http.ServerResponse | (() => boolean), required = 1): Promise<T> {
    const res = typeof client === 'function' ? undefined : client;
    const scope = new RequestScope(this.clock.now() + this.timeoutMs, this.timeoutMs, typeof client === 'function' ? client : undefined);
    let timer: unknown;
    let end: (error: Error) => void = () => undefined;
    const ended = new Promise<never>((_resolve, reject) => {
      end = reject;
      timer = this.clock.setTimeout(() => {
        const error = deadlinePassed(this.timeoutMs, required);
        scope.cancel(error.message);
        reject(error);
      }, this.timeoutMs);
    });
    // The client closed its connection before the answer: nobody waits for it, so the work stops now.
    const gone = (): void => {
      if (res === undefined || res.writableFinished) return;
      scope.cancel();
      if (scope.ended !== undefined) end(scope.ended);
    };
    res?.once('close', gone);
    try {
      return await Promise.race([work(scope), ended]);
    } finally {
      this.clock.clearTimeout(timer);
      res?.off('close', gone);
    }
  }
}
