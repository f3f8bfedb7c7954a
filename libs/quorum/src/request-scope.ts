import { ErrorCode, KvError } from '@kv/protocol';

/**
 * The client request that replica operations serve: its deadline, and whether it was given up (the client went away,
 * or the deadline passed). Every operation of the request shares it; a transport checks it when it is about to send
 * an operation (no timer of its own), and an operation of a request that ended is not sent but rejected.
 *
 * Operations already sent finish as they would: a write a replica received may still be applied.
 */
export class RequestScope {
  private reason: RequestEndedError | undefined;

  /**
   * @param deadlineMs when the request's answer is due, in ms on the transport's clock (`Infinity`: none).
   * @param timeoutMs the request's timeout it comes from, for messages.
   * @param clientGone asked whenever the scope is checked: true once the client went away (a closed connection), which
   *   gives the request up as {@link RequestScope.cancel} does.
   */
  constructor(
    readonly deadlineMs: number,
    readonly timeoutMs?: number,
    private readonly clientGone?: () => boolean,
  ) {}

  /** Whether the request was given up ({@link RequestScope.cancel}, or its client went away). */
  get cancelled(): boolean {
    return this.ended !== undefined;
  }

  /** Why the request was given up, once it was; else undefined. */
  get ended(): RequestEndedError | undefined {
    if (this.reason === undefined && this.clientGone?.() === true) this.cancel();
    return this.reason;
  }

  /** Gives the request up: its operations not sent yet are rejected with `reason` (the first reason given stays). */
  cancel(reason?: string): void {
    this.reason ??= new RequestEndedError(reason ?? 'the client went away before the answer: the request was given up');
  }

  /** Why an operation of this request must not be sent at `now`: it was given up, or its deadline passed; else undefined. */
  stopped(now: number): RequestEndedError | undefined {
    const ended = this.ended;
    if (ended !== undefined) return ended;
    return now >= this.deadlineMs ? deadlinePassed(this.timeoutMs) : undefined;
  }
}

/**
 * The error of a request whose deadline passed before its answer (`KV_QUORUM_FAILED`, 503): for a write the outcome is
 * unknown, as after any missed quorum.
 */
export function deadlinePassed(timeoutMs: number | undefined, required?: number): RequestEndedError {
  const within = timeoutMs === undefined ? 'its deadline' : `REQUEST_TIMEOUT_MS=${timeoutMs} ms`;
  return new RequestEndedError(
    `no quorum answered within ${within}: the work was stopped, and a write's outcome is unknown (read the key to see, or retry: a retry writes a newer version)`,
    required,
  );
}

/**
 * An operation that was not sent because its request ended (deadline passed, client gone): `KV_QUORUM_FAILED` (503).
 * Nothing of it reached a replica, so no hint is recorded for it.
 */
export class RequestEndedError extends KvError {
  /** @param required the acknowledgements the request needed (1: one replica's, for an operation). */
  constructor(message: string, required = 1) {
    super(ErrorCode.QuorumFailed, message, { details: { acks: 0, required } });
    this.name = 'RequestEndedError';
  }
}
