import { ErrorCode, isErrorCode, statusOf } from './errors';

/** What a quorum failure reports: how many replicas answered in time, and how many were required. */
export interface QuorumDetails {
  /** Replicas that acknowledged (write) or answered (read) in time. */
  readonly acks: number;
  /** Replicas required: W for a write, R for a read. */
  readonly required: number;
}

/** Options of {@link KvError}. */
export interface KvErrorOptions {
  /** The error that caused this one; kept for logs, never sent on the wire. */
  cause?: unknown;
  /** Required for `KV_QUORUM_FAILED`, ignored for the other codes. */
  details?: QuorumDetails;
  /**
   * The HTTP status, when it was read from a response and differs from the table; defaults to `statusOf(code)`.
   */
  status?: number;
}

/**
 * An operational failure with a stable `KV_*` code: what callers match on (`err.code`), never the message.
 *
 * Guarantees: `status` is the HTTP status of the code ({@link statusOf}) unless the error was built from a response with
 * another status; `details` is set exactly for `KV_QUORUM_FAILED`; `cause` is never serialized (see `errorBody`).
 */
export class KvError extends Error {
  /** The stable code of the failure. */
  readonly code: ErrorCode;
  /** The HTTP status that reports it. */
  readonly status: number;
  /** For `KV_QUORUM_FAILED`: acks received and required. */
  readonly details: QuorumDetails | undefined;

  /**
   * @throws TypeError when `code` is not a known code, when `KV_QUORUM_FAILED` comes without valid `details`, or when
   * `status` is not an HTTP status (100..599).
   */
  constructor(code: ErrorCode, message: string, options: KvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!isErrorCode(code)) throw new TypeError(`unknown error code ${JSON.stringify(code)}`);
    this.name = 'KvError';
    this.code = code;
    const status = options.status ?? statusOf(code);
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new TypeError(`status must be an HTTP status, got ${status}`);
    }
    this.status = status;
    if (code === ErrorCode.QuorumFailed) {
      const details = options.details;
      if (details === undefined || !isCount(details.acks) || !isCount(details.required)) {
        throw new TypeError('KV_QUORUM_FAILED needs details { acks, required } of non-negative integers');
      }
      this.details = { acks: details.acks, required: details.required };
    } else {
      this.details = undefined;
    }
  }

  /**
   * A `KV_QUORUM_FAILED` error.
   * @param kind `'write'` or `'read'`, named in the message.
   * @throws TypeError when `acks` or `required` is not a non-negative integer.
   */
  static quorumFailed(kind: 'write' | 'read', details: QuorumDetails, options: { cause?: unknown } = {}): KvError {
    const verb = kind === 'write' ? 'acknowledged' : 'answered';
    return new KvError(
      ErrorCode.QuorumFailed,
      `${kind} quorum not reached: ${details.acks} of ${details.required} replicas ${verb}`,
      { details, cause: options.cause },
    );
  }

  /** Plain fields for structured logs (the cause is left out: log it separately if needed). */
  toJSON(): { name: string; code: ErrorCode; status: number; message: string; details?: QuorumDetails } {
    return this.details === undefined
      ? { name: this.name, code: this.code, status: this.status, message: this.message }
      : { name: this.name, code: this.code, status: this.status, message: this.message, details: this.details };
  }
}

/**
 * True when `err` is a {@link KvError} (and has `code`, when given). Also recognizes a `KvError` of another copy of this
 * package (a duplicated dependency), by its name and code, so callers never depend on `instanceof` alone.
 */
export function isKvError(err: unknown, code?: ErrorCode): err is KvError {
  const matches =
    err instanceof KvError ||
    (err instanceof Error && err.name === 'KvError' && isErrorCode((err as { code?: unknown }).code));
  return matches && (code === undefined || (err as KvError).code === code);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}
