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

/** Only the fields of {@link RequestOptions}, so that a caller's larger options object is not passed on as is. */
export function requestOptions(options: RequestOptions): RequestOptions {
  return { timeoutMs: options.timeoutMs, requestId: options.requestId, signal: options.signal };
}

/**
 * TLS toward `https://` servers (ignored for `http://` ones), PEM text or bytes (a `Buffer` of a file read). Without `ca`, Node's default CAs
 * verify the server; the server's certificate is always verified.
 */
export interface ClientTlsOptions {
  /** CA certificates to verify the server's certificate with, instead of Node's default ones. */
  ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /** A client certificate (and chain) presented to servers that require one (mutual TLS); needs `key`. */
  cert?: string | Uint8Array;
  /** The private key of `cert`. */
  key?: string | Uint8Array;
}

/**
 * Options shared by the clients (`KvClient`, `NodeClient`); each client documents its own defaults.
 */
export interface ClientOptions {
  /** The server's URL, e.g. `http://localhost:8000` (a path prefix is kept). */
  baseUrl: string;
  /**
   * Sent as `Authorization: Bearer <token>` on every request; of a comma-separated list (a rotation: the servers
   * accept any of theirs) the first is sent.
   */
  token?: string;
  /** Deadline of each request in ms. */
  timeoutMs?: number;
  /** Most concurrent connections. */
  maxSockets?: number;
  /** Idle time before a pooled connection is closed, in ms (default `SOCKET_IDLE_MS_DEFAULT`). */
  socketIdleMs?: number;
  /** Largest answer accepted in bytes (default `RESPONSE_BYTES_MAX_DEFAULT`). */
  responseBytesMax?: number;
  /** TLS toward `https://` servers: the CA to verify them with, the certificate to present. */
  tls?: ClientTlsOptions;
}
