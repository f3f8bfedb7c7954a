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
  /**
   * Internal API only: the data node is not the one the proxy expects (its data directory was replaced: a lost
   * disk). The proxy stops counting it toward quorums until it has been refilled.
   */
  NodeChanged: 'KV_NODE_CHANGED',
  /**
   * The server sheds load: its queue of work is full (a data node's log is behind its disk). Nothing was done; retry
   * after a short pause.
   */
  Overloaded: 'KV_OVERLOADED',
  /**
   * Internal API only: a write whose version is further ahead of the data node's clock than `MAX_CLOCK_SKEW_MS`
   * (a coordinator's clock runs ahead); that operation is refused, the others of its batch are not.
   */
  VersionTooNew: 'KV_VERSION_TOO_NEW',
  /**
   * Internal API only: another live coordinator uses the same clock id (two proxies with one `PROXY_ID`); equal
   * versions for different values would follow, so the newcomer is refused.
   */
  DuplicateCoordinator: 'KV_DUPLICATE_COORDINATOR',
  /**
   * Internal API only: the coordinator's lease lapsed on this data node (it was paused or cut off for longer than its
   * lease), or it never registered: it must register again, and wait, before it writes.
   */
  CoordinatorLapsed: 'KV_COORDINATOR_LAPSED',
  /**
   * The proxy cannot serve now: it reaches fewer than W data nodes, or it has not joined the cluster yet. A load
   * balancer should route around it; the request was not carried out.
   */
  NotReady: 'KV_NOT_READY',
  /**
   * Internal API only: the request's cluster map epoch is older than the data node's, and the node did nothing; the
   * coordinator fetches the node's map (`GET /internal/map`) and sends the operation again under it.
   */
  StaleEpoch: 'KV_STALE_EPOCH',
  /** A membership change is refused: it would leave fewer members than N, names an unknown or duplicate id, a node
   * that does not answer (or answers with another id), or nothing at all. */
  ChangeRefused: 'KV_CHANGE_REFUSED',
  /** A membership change is refused because another one is in progress (or won the same epoch). */
  ChangeInProgress: 'KV_CHANGE_IN_PROGRESS',
} as const;

/** One of the `KV_*` codes of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The HTTP status of every code: the one table the servers answer with and the clients classify by.
 *
 * `KV_UNAVAILABLE` is never sent by a kv server (it is raised by the clients when a server cannot be reached or does not
 * answer in time); its 503 only makes a client-side `KvError` look like a server-side failure to code that reads `status`.
 */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.InvalidKey]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.TooLarge]: 413,
  [ErrorCode.QuorumFailed]: 503,
  [ErrorCode.Internal]: 500,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.NodeChanged]: 409,
  [ErrorCode.Overloaded]: 503,
  [ErrorCode.VersionTooNew]: 409,
  [ErrorCode.DuplicateCoordinator]: 409,
  [ErrorCode.CoordinatorLapsed]: 409,
  [ErrorCode.NotReady]: 503,
  [ErrorCode.StaleEpoch]: 409,
  [ErrorCode.ChangeRefused]: 400,
  [ErrorCode.ChangeInProgress]: 409,
});

/**
 * The HTTP status of `code`, from {@link ERROR_STATUS}.
 * @throws TypeError when `code` is not one of {@link ErrorCode}.
 */
export function statusOf(code: ErrorCode): number {
  const status = ERROR_STATUS[code];
  if (status === undefined) throw new TypeError(`unknown error code ${JSON.stringify(code)}`);
  return status;
}

const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** True when `value` is one of the `KV_*` codes of {@link ErrorCode} (for codes read from the wire). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODES.has(value);
}

/**
 * True when a server may send `code` on the wire; `KV_UNAVAILABLE` is the only client-side code (see
 * {@link ERROR_STATUS}).
 */
export function isServerErrorCode(code: ErrorCode): boolean {
  return code !== ErrorCode.Unavailable;
}
