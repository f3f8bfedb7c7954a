/**
 * The part of an `AbortSignal` the clients use: declared here so the package's types need no DOM or Node type library.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Options every request of the clients accepts. */
export interface RequestOptions {
  /**
   * Deadline of this request in ms, from the call to the answer's headers (queueing for a socket and connecting
   * included); the body may then not stall for longer. Defaults to the client's.
   */
  timeoutMs?: number;
  /** Sent as `x-request-id`: 1 to 128 visible ASCII characters. */
  requestId?: string;
  /** Cancels the request; it then fails with `KV_UNAVAILABLE`. */
  signal?: AbortSignalLike;
}
