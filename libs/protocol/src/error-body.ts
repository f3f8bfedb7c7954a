import { ErrorCode, isErrorCode, isServerErrorCode, statusOf } from './errors';
import { KvError } from './kv-error';

/**
 * The body of every error response: `{"error": {"code", "message"}}`; for `KV_QUORUM_FAILED` it adds top-level `acks`
 * and `required`.
 */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
  acks?: number;
  required?: number;
}

/** What a server sends for a failed request: the status and the body of {@link errorResponse}. */
export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** The error the response was built from (for logs: its `cause` is the original thrown value). */
  error: KvError;
}

/** The message of `KV_INTERNAL` made from an unexpected exception: nothing of the exception leaks to the wire. */
export const INTERNAL_ERROR_MESSAGE = 'internal error';

/**
 * The wire body of `err`, exactly as the contract says: `{"error": {"code", "message"}}`, plus `acks` and `required` for
 * `KV_QUORUM_FAILED`. Never includes the cause or a stack.
 */
export function errorBody(err: KvError): ErrorBody {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.details !== undefined) {
    body.acks = err.details.acks;
    body.required = err.details.required;
  }
  return body;
}

/**
 * Any thrown value as a {@link KvError}: a `KvError` is returned as is; anything else becomes `KV_INTERNAL` with the
 * generic message {@link INTERNAL_ERROR_MESSAGE} and the value as `cause` (to log, never to send).
 */
export function toKvError(thrown: unknown): KvError {
  if (thrown instanceof KvError) return thrown;
  return new KvError(ErrorCode.Internal, INTERNAL_ERROR_MESSAGE, { cause: thrown });
}

/**
 * The status and body a server answers for any thrown value (see {@link toKvError}). A client-side code that reached a
 * server (`KV_UNAVAILABLE`: a bug, since the replicator reports unreachable replicas as `KV_QUORUM_FAILED`) is reported as
 * `KV_INTERNAL`, so a server only ever sends the codes of the contract. The status is always the table's.
 */
export function errorResponse(thrown: unknown): ErrorResponse {
  let error = toKvError(thrown);
  if (!isServerErrorCode(error.code)) {
    error = new KvError(ErrorCode.Internal, INTERNAL_ERROR_MESSAGE, { cause: error });
  } else if (error.status !== statusOf(error.code)) {
    error = new KvError(error.code, error.message, { cause: error.cause, details: error.details });
  }
  return { status: error.status, body: errorBody(error), error };
}

/** True when `body` has the shape of an {@link ErrorBody} (`error.code` and `error.message` strings). */
export function isErrorBody(body: unknown): body is { error: { code: string; message: string } } {
  if (typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

/**
 * The code a client assumes for an error response without a kv error body (or with a code it does not know), from the
 * status: 400, 401, 404 and 413 as in the table, 502/503/504 (gateways) `KV_UNAVAILABLE`, anything else `KV_INTERNAL`.
 */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return ErrorCode.BadRequest;
    case 401:
      return ErrorCode.Unauthorized;
    case 404:
      return ErrorCode.NotFound;
    case 413:
      return ErrorCode.TooLarge;
    case 502:
    case 503:
    case 504:
      return ErrorCode.Unavailable;
    default:
      return ErrorCode.Internal;
  }
}

/**
 * The {@link KvError} an error body read from the wire describes: a whole-response body (then pass its `status`) or a
 * per-operation entry of a batch. Keeps the code and message; reads `acks`/`required` for `KV_QUORUM_FAILED` (0 when
 * missing). A body that is not an error body, or carries an unknown code, gets a code from {@link codeForStatus}.
 * @param status the HTTP status of the response (or of the batch entry); defaults to the table's status of the code.
 * @param source named in the message when the body is not a kv error body (e.g. the server URL).
 */
export function kvErrorFromBody(body: unknown, status?: number, source = 'the server'): KvError {
  const httpStatus = status !== undefined && Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined;
  if (!isErrorBody(body)) {
    const fallbackStatus = httpStatus ?? 500;
    return new KvError(codeForStatus(fallbackStatus), `${source} answered ${fallbackStatus} without a kv error body`, {
      status: fallbackStatus,
    });
  }
  const wireCode = body.error.code;
  const code = isErrorCode(wireCode) ? wireCode : codeForStatus(httpStatus ?? 500);
  let details;
  if (code === ErrorCode.QuorumFailed) {
    const { acks, required } = body as { acks?: unknown; required?: unknown };
    details = { acks: toCount(acks), required: toCount(required) };
  }
  return new KvError(code, body.error.message, { status: httpStatus, details });
}

function toCount(n: unknown): number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
}
