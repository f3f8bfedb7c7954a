import type { ReplicaEntry, WriteReply, WriteRequest } from '../transport';

/**
 * A data node's state in memory, with the apply rule of the real ones: a write is applied only if its version is
 * greater than the version held for the key (tombstones included); otherwise the held version is reported.
 */
export class InMemoryNode {
  private readonly entries = new Map<string, ReplicaEntry>();
  /** Writes applied since creation (ignored ones are not counted). */
  applied = 0;

  constructor(readonly id: string) {}

  apply(request: WriteRequest): WriteReply {
    const held = this.entries.get(request.key);
    if (held !== undefined && held.version >= request.version) return { applied: false, version: held.version };
    this.entries.set(request.key, { value: request.value, version: request.version });
    this.applied += 1;
    return { applied: true, version: request.version };
  }

  get(key: string): ReplicaEntry | undefined {
    return this.entries.get(key);
  }

  /** Every entry, tombstones included. */
  dump(): Map<string, ReplicaEntry> {
    return new Map(this.entries);
  }

  /** Forgets everything, as a node restarted on an empty disk would. */
  wipe(): void {
    this.entries.clear();
  }
}
