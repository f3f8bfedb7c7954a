/**
 * The registry of kv's error codes: every operational failure a client or a peer can see carries one of these
 * stable codes, and each server-side code maps to exactly one HTTP status (see `docs/errors.md`).
 */
export const ErrorCode = {
  /** Malformed JSON, missing or non-string `value`, bad query parameter, malformed batch. */
  BadRequest: 'KV_BAD_REQUEST',
  /** Empty key, key over 1024 bytes, invalid percent-encoding or UTF-8. */
  InvalidKey: 'KV_INVALID_KEY',
  /** A token is required (`AUTH_TOKEN` / `CLUSTER_TOKEN`) and the request lacks it or has a wrong one. */
  Unauthorized: 'KV_UNAUTHORIZED',
  /** No such key (or deleted); also unknown routes. */
  NotFound: 'KV_NOT_FOUND',
  /** A value or a request body over its limit. */
  TooLarge: 'KV_TOO_LARGE',
  /** Fewer replicas than required answered in time. For a write the outcome is unknown. */
  QuorumFailed: 'KV_QUORUM_FAILED',
  /** A bug. Never carries a stack trace. */
  Internal: 'KV_INTERNAL',
  /** Client side only: the server could not be reached, or did not answer within the client's timeout. */
  Unavailable: 'KV_UNAVAILABLE',
} as const;

/** One of the `KV_*` codes of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
