import { decodeInternalBatch, encodeInternalResults } from '@kv/protocol';
import { applyReplicaOps } from '../replica-ops';
import type { ReplicaEntry, WriteReply, WriteRequest } from '../transport';
import { MemoryReplicaStore } from './memory-replica-store';

/** Values of any size are accepted by the in-memory nodes: the limits are the servers' business. */
const VALUE_BYTES_MAX = 2 ** 30;

/**
 * A data node in memory. It serves internal batches as a data node does: the body is decoded by the internal codec,
 * applied by the same `applyReplicaOps` with the same apply rule, and the answer encoded again; so tests on the
 * in-memory cluster exercise the wire format and the node's logic, not a copy of them.
 */
export class InMemoryNode {
  readonly store = new MemoryReplicaStore();
  private generation = 1;

  constructor(readonly id: string) {}

  /** The identity of the node's data: a new one after each {@link InMemoryNode.wipe}, as a real node's directory. */
  get incarnation(): string {
    return `${this.id}-${this.generation}`;
  }

  /** Writes applied since creation (ignored ones are not counted). */
  get applied(): number {
    return this.store.applied;
  }

  /** Serves one `POST /internal/batch` body; resolves with the encoded answer. */
  async serveBatch(body: Uint8Array): Promise<Buffer> {
    const ops = decodeInternalBatch(body, { valueBytesMax: VALUE_BYTES_MAX, bodyBytesMax: VALUE_BYTES_MAX });
    return encodeInternalResults(await applyReplicaOps(this.store, ops));
  }

  /** Applies one write directly (for test set-up: a replica made stale or ahead on purpose). */
  apply(request: WriteRequest): WriteReply {
    return this.store.applyOne(request.key, request.value, request.version);
  }

  get(key: string): ReplicaEntry | undefined {
    return this.store.getEntry(key);
  }

  /** Every entry, tombstones included. */
  dump(): Map<string, ReplicaEntry> {
    return this.store.dump();
  }

  /** Forgets everything, as a node restarted on an empty disk would, and takes a new incarnation. */
  wipe(): void {
    this.store.clear();
    this.generation += 1;
  }
}
