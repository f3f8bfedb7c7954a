import {
  internalOpError,
  isInvalidOp,
  type InternalOpResult,
  type ParsedInternalOp,
} from '@kv/protocol';
import type { Store, StoreOp } from '@kv/wal';

/**
 * Applies one internal batch to the store: reads are answered from memory at once; all writes of the batch go to
 * the log in ONE group-committed append (one write, one fsync under `WAL_SYNC=always`), and the answer waits until
 * they are durable. Results are in the order of the operations.
 *
 * A write answers `[1, version]` when applied and `[0, held]` when the node already holds a version at least as new
 * (the store reports that only once the held version is durable). Reads see what is durable: a write still waiting
 * for its fsync is not visible, so no read ever returns a value that a crash could take back.
 */
export async function applyReplicaOps(store: Store, ops: readonly ParsedInternalOp[]): Promise<InternalOpResult[]> {
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
      case 'g': {
        const entry = store.getEntry(op[1]);
        results[i] = entry === undefined ? null : [entry.version, entry.value];
        break;
      }
      case 's':
        writes.push({ op: 'set', key: op[1], value: op[2], version: op[3] });
        writeIndexes.push(i);
        break;
      case 'd':
        writes.push({ op: 'delete', key: op[1], version: op[2] });
        writeIndexes.push(i);
        break;
    }
  }
  if (writes.length > 0) {
    const applied = await store.apply(writes);
    for (let j = 0; j < applied.length; j++) {
      results[writeIndexes[j]] = [applied[j].applied ? 1 : 0, applied[j].version];
    }
  }
  return results;
}
