import { supersedes, type StoreOp, type WriteResult } from '@kv/wal';
import type { HeldEntry, ReplicaStore } from '../replica-ops';

/**
 * A replica's store in memory, for the in-memory cluster: applies writes with `@kv/wal`'s one apply rule, as a data
 * node's durable store does, and makes them visible at once (nothing to wait for).
 */
export class MemoryReplicaStore implements ReplicaStore {
  private readonly entries = new Map<string, HeldEntry>();
  /** Writes applied since creation (ignored ones are not counted). */
  applied = 0;

  getEntry(key: string): HeldEntry | undefined {
    return this.entries.get(key);
  }

  /** Applies one write (a tombstone when `value` is null) and returns the outcome, synchronously. */
  applyOne(key: string, value: string | null, version: string, expiresAt?: number): WriteResult {
    const held = this.entries.get(key);
    if (!supersedes(version, held?.version)) return { applied: false, version: (held as HeldEntry).version };
    this.entries.set(key, value === null || expiresAt === undefined ? { value, version } : { value, version, expiresAt });
    this.applied += 1;
    return { applied: true, version };
  }

  async apply(ops: readonly StoreOp[]): Promise<WriteResult[]> {
    return ops.map((op) => this.applyOne(op.key, op.op === 'set' ? op.value : null, op.version as string, op.op === 'set' ? op.expiresAt : undefined));
  }

  /** As a data node's store: the expiring value at exactly `version` becomes a tombstone at that version. */
  async expire(key: string, version: string): Promise<boolean> {
    const held = this.entries.get(key);
    if (held === undefined || held.value === null || held.expiresAt === undefined || held.version !== version) return false;
    this.entries.set(key, { value: null, version });
    return true;
  }

  async purge(key: string, version: string): Promise<boolean> {
    const held = this.entries.get(key);
    if (held === undefined || held.version > version) return false;
    this.entries.delete(key);
    return true;
  }

  /** Every entry, tombstones included. */
  dump(): Map<string, HeldEntry> {
    return new Map(this.entries);
  }

  /** Forgets everything, as a node restarted on an empty disk would. */
  clear(): void {
    this.entries.clear();
  }
}
