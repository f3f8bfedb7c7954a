/** A live entry as a backend reads it. */
export interface RespEntry {
  value: string;
  /** The entry's version (opaque; kv's versions sort as strings). */
  version: string;
  /** When the entry expires, in ms since the epoch; absent when it does not. */
  expiresAtMs?: number;
}

/** What a backend says about the cluster, for `INFO`. */
export interface RespClusterInfo {
  /** N: copies of each key. */
  replicas: number;
  /** W: acknowledgements a write needs. */
  writeQuorum: number;
  /** R: replies a read needs. */
  readQuorum: number;
  /** The data nodes and their health (`up`/`down`). */
  nodes: { id: string; status: string }[];
  /** kv's version. */
  version: string;
  /** The coordinator's clock id. */
  proxyId: string;
}

/**
 * The key-value store behind the RESP commands: the proxy implements it over its replicator, tests over a map. Every
 * method has the guarantees of the HTTP request it stands for (quorum writes, linearizable single-key reads with
 * R + W > N); `w`/`r` override the quorums for one call, as `?w=`/`?r=` do.
 *
 * Errors are thrown as `KvError`s of `@kv/protocol` (or objects with a string `code`): `KV_QUORUM_FAILED`,
 * `KV_INVALID_KEY`, `KV_TOO_LARGE`, `KV_BAD_REQUEST`; anything else is reported to the client as an internal error.
 * Methods may be called concurrently, for different keys or the same key.
 */
/** What every backend call is told of the connection it serves. */
export interface RespCallOptions {
  /** True once the client's connection closed: nobody waits for the reply, so work not started yet need not be. */
  clientGone?: () => boolean;
}

export interface RespBackend {
  /** What the backend supports: expiring keys (TTL), conditional writes (compare-and-set). */
  readonly capabilities: { ttl: boolean; compareAndSet: boolean };
  /** Reads a key; `undefined` when it is missing or deleted. */
  get(key: string, options: { r?: number } & RespCallOptions): Promise<RespEntry | undefined>;
  /** Writes a key. `expiresAtMs`/`keepTtl` only when `capabilities.ttl`. */
  set(
    key: string,
    value: string,
    options: { w?: number; expiresAtMs?: number; keepTtl?: boolean } & RespCallOptions,
  ): Promise<{ version: string; expiresAtMs?: number }>;
  /** Deletes a key (a tombstone); deleting a missing key succeeds. */
  del(key: string, options: { w?: number } & RespCallOptions): Promise<{ version: string }>;
  /** Bulk forms; each entry answers on its own (an Error for an entry that failed). */
  mget(keys: string[], options: { r?: number } & RespCallOptions): Promise<(RespEntry | undefined | Error)[]>;
  /** Bulk write of distinct keys; each entry answers on its own; no atomicity across keys. */
  mset(entries: { key: string; value: string }[], options: { w?: number } & RespCallOptions): Promise<({ version: string } | Error)[]>;
  /** The cluster, for `INFO`. */
  info(): RespClusterInfo;
  /** ms since the epoch, for TIME and for relative expiries. */
  now(): number;
}
