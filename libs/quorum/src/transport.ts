import type { RequestScope } from './request-scope';

/**
 * What one replica holds for a key: a live value, or a tombstone (`value === null`), at a version.
 * Versions are opaque strings; string order is version order.
 */
export interface ReplicaEntry {
  /** `null` for a tombstone. */
  readonly value: string | null;
  readonly version: string;
  /** When the value expires (ms since the epoch), for a value written with a time to live. */
  readonly expiresAt?: number;
}

/**
 * A versioned write (set, or tombstone when `value` is `null`) of one key, as sent to a replica. `expiresAt` is part
 * of the write: every copy of the version carries it (docs/ARCHITECTURE.md, Expiring keys).
 */
export interface WriteRequest {
  readonly key: string;
  /** `null` writes a tombstone. */
  readonly value: string | null;
  readonly version: string;
  /** When the value expires (ms since the epoch); absent for a value that does not expire. */
  readonly expiresAt?: number;
}

/**
 * A replica's answer to a write. `version` is the version the replica holds afterwards: the one sent when `applied`,
 * otherwise the newer (or equal) version it already held. Either way the replica now holds a version at least as new
 * as the one sent, so both count as an acknowledgement.
 */
export interface WriteReply {
  readonly applied: boolean;
  readonly version: string;
}

/**
 * How the coordinator reaches one replica. Implementations do the I/O (HTTP, in-memory, ...); the replicator does none.
 *
 * Contract:
 * - Every call settles (resolves or rejects) within about `timeoutMs`; a call that cannot complete in time rejects.
 *   A rejection means only "no answer in time": the write may still have been applied (the reply was lost).
 * - A replica applies a write only if its version is greater than the one it holds for the key (tombstones
 *   included), so sending the same write twice, or out of order, is always safe.
 * - Calls may run concurrently, for the same or different nodes; no ordering between them is promised.
 * - The same `WriteRequest` object may be passed for several nodes; implementations may use that to serialize it once.
 */
export interface Transport {
  /**
   * Sends a versioned write of one key to one node. `requestId` identifies the client request in the node's logs;
   * `scope` is the client request's deadline and cancellation, which transports that queue operations check before
   * sending one (a stopped operation rejects with `RequestEndedError`, unsent).
   */
  write(nodeId: string, request: WriteRequest, timeoutMs: number, requestId?: string, scope?: RequestScope): Promise<WriteReply>;
  /** Reads what one node holds for a key, tombstones included; `undefined` when it holds nothing. */
  read(nodeId: string, key: string, timeoutMs: number, requestId?: string, scope?: RequestScope): Promise<ReplicaEntry | undefined>;
  /**
   * Optional: sends many writes to one node at once (bulk writes). Resolves with one reply or error per request, in
   * order; rejects as a whole when the node cannot be reached in time. Without it, `write` is called for each.
   */
  writeMany?(
    nodeId: string,
    requests: readonly WriteRequest[],
    timeoutMs: number,
    requestId?: string,
    scope?: RequestScope,
  ): Promise<(WriteReply | Error)[]>;
}

/** Source of write versions: the coordinator's hybrid logical clock. */
export interface VersionSource {
  /** A version greater than every version this source issued or observed before. */
  next(): string;
  /**
   * Takes note of a version seen on a replica, so that later versions sort after it.
   * @returns false when the version was too far ahead of the source's wall clock to follow (it was ignored).
   */
  observe(version: string): boolean;
}
