import { ErrorCode } from './errors';
import type { TransportFailureReason } from './http-endpoint';

/**
 * What a request does to the store: a `read` may be sent to every proxy in turn; a `write` reaches at most one proxy,
 * unless an earlier proxy provably never received it.
 */
export type RequestKind = 'read' | 'write';

/** How one proxy's attempt at a request failed: with an error answer, or without an answer. */
export type AttemptFailure =
  | { readonly answered: true; readonly status: number; readonly code: ErrorCode }
  | { readonly answered: false; readonly reason: TransportFailureReason; readonly mayHaveReachedServer: boolean };

/** What to do after a failed attempt. */
export interface FailoverDecision {
  /** `next`: try the next proxy; `stop`: the call fails with this attempt's error (or, at the last proxy, see below). */
  readonly then: 'next' | 'stop';
  /** True when the call's error is a write that may have been carried out (see `isOutcomeUnknown`). */
  readonly outcomeUnknown: boolean;
}

/** Gateway statuses: the proxy behind them, or the proxy itself, could not serve; a read elsewhere may succeed. */
const READ_FAILOVER_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Codes of 5xx answers that say the request was not carried out at all (see `ErrorCode`). */
const NOT_CARRIED_OUT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([ErrorCode.NotReady, ErrorCode.Overloaded]);

/**
 * Decides, from one failed attempt alone, whether a request moves on to the next proxy and whether its outcome is unknown.
 *
 * - A read moves on when the proxy could not be reached or did not answer in time, and on a 502, 503 or 504 answer;
 *   it stops on any other answer (a 4xx is the answer, a 500 a bug) and when cancelled, closed or over the size limit.
 * - A write moves on only when it provably never reached the proxy (`mayHaveReachedServer` false: refused, DNS
 *   failure, unreachable, a connect that timed out, a request still waiting for a pooled socket), or when the proxy
 *   answered `KV_NOT_READY` (it refuses before it contacts any data node). Otherwise it stops;
 *   its outcome is unknown when it may have reached the proxy without an answer, or when the proxy answered with a 5xx
 *   that leaves it undecided (anything but `KV_NOT_READY` and `KV_OVERLOADED`). A 4xx is a refusal: nothing was done.
 *
 * Cancellation and a closed client never move on: the caller asked to stop.
 */
export function decideAfterFailure(kind: RequestKind, failure: AttemptFailure): FailoverDecision {
  if (failure.answered) {
    if (kind === 'read') {
      return { then: READ_FAILOVER_STATUSES.has(failure.status) ? 'next' : 'stop', outcomeUnknown: false };
    }
    // A proxy that is not ready refuses before it contacts any data node: the write may go to the next proxy.
    if (failure.code === ErrorCode.NotReady) return { then: 'next', outcomeUnknown: false };
    return { then: 'stop', outcomeUnknown: failure.status >= 500 && !NOT_CARRIED_OUT.has(failure.code) };
  }
  const unreachable = failure.reason === 'unreachable' || failure.reason === 'timeout';
  if (kind === 'read') return { then: unreachable ? 'next' : 'stop', outcomeUnknown: false };
  if (unreachable && !failure.mayHaveReachedServer) return { then: 'next', outcomeUnknown: false };
  return { then: 'stop', outcomeUnknown: failure.mayHaveReachedServer };
}
