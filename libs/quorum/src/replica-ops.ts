import {
  ErrorCode,
  KvError,
  internalOpError,
  isInvalidOp,
  readResultOf,
  versionMs,
  writeResultOf,
  type InternalOpResult,
  type ParsedInternalOp,
} from '@kv/protocol';
import type { StoreOp, WriteResult } from '@kv/wal';

/** What a replica holds for a key. */
export interface HeldEntry {
  /** `null` for a tombstone. */
  readonly value: string | null;
  readonly version: string;
  /** When the value expires (ms since the epoch), if it does. */
  readonly expiresAt?: number;
}

/**
 * The storage of a replica as {@link applyReplicaOps} uses it: `@kv/wal`'s `Store` on a data node, a
 * {@link MemoryReplicaStore} in the in-memory cluster. Both apply writes through `@kv/wal`'s one rule (`supersedes`).
 */
export interface ReplicaStore {
  /** What is held for `key`, tombstones included, durable data only. */
  getEntry(key: string): HeldEntry | undefined;
  /** Applies writes in order, each only if its version is newer than what is held; resolves once they are durable. */
  apply(ops: readonly StoreOp[]): Promise<WriteResult[]>;
  /**
   * Turns the expiring value of `key` at exactly `version` into a tombstone at that version, durably; false when the
   * key holds anything else (`@kv/wal`'s `Store.expire`).
   */
  expire(key: string, version: string): Promise<boolean>;
  /**
   * Forgets `key` entirely (no tombstone left) if the version held is <= `version`; resolves once durable, with whether
   * it was purged.
   */
  purge(key: string, version: string): Promise<boolean>;
}

/**
 * Applies one decoded internal batch to a replica's store, as a data node does: reads are answered from what is
 * durable at once; all writes of the batch go to the store in ONE call (on a data node: one group-committed append,
 * one fsync), and the answer waits until they are durable. Results are in the order of the operations; an invalid
 * operation answers with its own error and does not affect the others.
 *
 * A write answers `[1, version]` when applied and `[0, held]` when the replica already holds a version at least as new.
 * With `versionMsMax`, a write whose version's ms is beyond it (the node's clock plus `MAX_CLOCK_SKEW_MS`) is refused
 * alone, with `KV_VERSION_TOO_NEW`: a coordinator whose clock runs ahead cannot pin a key in the future.
 */
export async function applyReplicaOps(
  store: ReplicaStore,
  ops: readonly ParsedInternalOp[],
  limits: { versionMsMax?: number } = {},
): Promise<InternalOpResult[]> {
  const versionMsMax = limits.versionMsMax ?? Number.POSITIVE_INFINITY;
  const results: InternalOpResult[] = new Array(ops.length);
  const writes: StoreOp[] = [];
  const writeIndexes: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (isInvalidOp(op)) {
      results[i] = internalOpError(op.error);
      continue;
    }
    switch (op[0]) {
      case 'g':
        results[i] = readResultOf(store.getEntry(op[1]));
        break;
      case 's':
        if (versionMs(op[3]) > versionMsMax) results[i] = internalOpError(tooNew(op[3], versionMsMax));
        else {
          writes.push(op.length === 5 ? { op: 'set', key: op[1], value: op[2], version: op[3], expiresAt: op[4] } : { op: 'set', key: op[1], value: op[2], version: op[3] });
          writeIndexes.push(i);
        }
        break;
      case 'd':
        if (versionMs(op[2]) > versionMsMax) results[i] = internalOpError(tooNew(op[2], versionMsMax));
        else {
          writes.push({ op: 'delete', key: op[1], version: op[2] });
          writeIndexes.push(i);
        }
        break;
    }
  }
  if (writes.length > 0) {
    const applied = await store.apply(writes);
    for (let j = 0; j < applied.length; j++) results[writeIndexes[j]] = writeResultOf(applied[j].applied, applied[j].version);
  }
  return results;
}

function tooNew(version: string, versionMsMax: number): KvError {
  const aheadMs = versionMs(version) - versionMsMax;
  return new KvError(
    ErrorCode.VersionTooNew,
    `version ${version} is ${aheadMs} ms beyond what this node accepts (its clock plus MAX_CLOCK_SKEW_MS): a coordinator's clock runs ahead`,
  );
}
