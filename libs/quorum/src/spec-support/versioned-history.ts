import { compareVersions } from '@kv/protocol';

/** One operation of a register history, with the version the coordinator reported. */
export interface VersionedOp {
  kind: 'write' | 'read';
  key: string;
  /** The value written (unique per write), or the value read (`null`: nothing, or a tombstone). */
  value: string | null;
  /** Logical times: every invocation and completion takes the next tick, so real-time order is exact. */
  invokedAt: number;
  completedAt: number;
  /** Version acknowledged (write) or returned (read: `''` when nothing was found); `''` for a failed write. */
  version: string;
  /** False: a write whose outcome is unknown, or a read that failed (ignored). */
  ok: boolean;
}

/**
 * Checks a register history with unique written values for linearizability, through versions: each write that took
 * effect has one version, and ordering all effective operations by version (a read right after the write of its
 * version) must respect real time. Conditions, per key:
 * 1. every value read was written by a write invoked before the read completed, and is always read at one version
 *    (the acknowledged one, for an acknowledged write): a write never takes effect twice;
 * 2. if A completed before B was invoked, B's version is >= A's when B is a read, > A's when B is a write (an
 *    unknown-outcome write counts at the version reads saw it at, if any).
 * These are sufficient for linearizability; a violation is returned as a sentence.
 */
export function versionViolations(history: readonly VersionedOp[]): string[] {
  const found: string[] = [];
  const byKey = new Map<string, VersionedOp[]>();
  for (const op of history) {
    if (!op.ok && op.kind === 'read') continue;
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  for (const [key, ops] of byKey) {
    const writes = new Map<string, VersionedOp>();
    for (const op of ops) if (op.kind === 'write' && op.value !== null) writes.set(op.value, op);
    // The version at which each write took effect: acknowledged, or seen by reads.
    const effective = new Map<VersionedOp, string>();
    for (const op of ops) if (op.kind === 'write' && op.ok) effective.set(op, op.version);
    for (const read of ops) {
      if (read.kind !== 'read' || read.value === null) continue;
      const write = writes.get(read.value);
      if (write === undefined || write.invokedAt > read.completedAt) {
        found.push(`${key}: read at ${read.invokedAt} returned ${read.value}, which no write had started to write`);
        continue;
      }
      const known = effective.get(write);
      if (known === undefined) effective.set(write, read.version);
      else if (known !== read.version) {
        found.push(`${key}: ${read.value} was read at version ${read.version}, but took effect at ${known}: written twice`);
      }
    }
    const versionOf = (op: VersionedOp): string | undefined => (op.kind === 'read' ? op.version : effective.get(op));
    for (const b of ops) {
      const vb = versionOf(b);
      if (vb === undefined) continue;
      for (const a of ops) {
        if (a.completedAt >= b.invokedAt) continue;
        if (!a.ok) continue; // an unknown outcome has no completion that orders it
        const va = versionOf(a);
        if (va === undefined) continue;
        const order = compareVersions(vb, va);
        if (b.kind === 'read' ? order < 0 : order <= 0) {
          found.push(
            `${key}: ${b.kind} at ${b.invokedAt} (version ${vb || 'none'}) sorts before the ${a.kind} completed at ` +
              `${a.completedAt} (version ${va || 'none'})`,
          );
        }
      }
    }
  }
  return found;
}
