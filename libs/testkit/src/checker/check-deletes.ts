/** One key of a delete workload: written once, then deleted, and how each ended. */
export interface DeletedKey {
  key: string;
  /** The value written before the delete. */
  value: string;
  write: 'ok' | 'fail' | 'unknown';
  delete: 'ok' | 'fail' | 'unknown';
}

/** A key whose acknowledged delete was undone: its value reads back. */
export interface Resurrection {
  key: string;
  value: string;
  /** Where it was seen: a read during the run, or the final read. */
  seen: 'during the run' | 'final read';
}

/** The verdict on a delete workload. */
export interface DeleteCheckResult {
  checker: 'deletes';
  /** True when no acknowledged delete came back and (when checked) every tombstone was collected. */
  valid: boolean;
  /** Keys written and deleted, and acknowledged deletes among them. */
  keys: number;
  deleted: number;
  /** Acknowledged deletes whose value read back. */
  resurrected: Resurrection[];
  /** Tombstones the data nodes still held at the end (summed), and whether that had to be 0. */
  tombstonesLeft?: number;
}

/**
 * Checks a delete workload: a key whose delete was acknowledged must never read back its value, neither in a read made
 * after the delete completed nor in the final read (`present`: each key's value as the final read found it, undefined
 * for not found). With `tombstonesLeft`, every tombstone must have been collected by then (0 left).
 */
export function checkDeletes(
  keys: readonly DeletedKey[],
  readsAfterDelete: readonly { key: string; value: string | undefined }[],
  present: ReadonlyMap<string, string | undefined>,
  tombstonesLeft?: number,
): DeleteCheckResult {
  const byKey = new Map(keys.map((key) => [key.key, key]));
  const resurrected: Resurrection[] = [];
  for (const read of readsAfterDelete) {
    const key = byKey.get(read.key);
    if (key?.delete === 'ok' && read.value !== undefined) resurrected.push({ key: read.key, value: read.value, seen: 'during the run' });
  }
  for (const key of keys) {
    const value = present.get(key.key);
    if (key.delete === 'ok' && value !== undefined) resurrected.push({ key: key.key, value, seen: 'final read' });
  }
  return {
    checker: 'deletes',
    valid: resurrected.length === 0 && (tombstonesLeft === undefined || tombstonesLeft === 0),
    keys: keys.length,
    deleted: keys.filter((key) => key.delete === 'ok').length,
    resurrected,
    ...(tombstonesLeft === undefined ? {} : { tombstonesLeft }),
  };
}

/** The report of {@link checkDeletes}: a summary line, then the resurrected keys (at most `detailsMax`). */
export function formatDeletes(result: DeleteCheckResult, detailsMax = 10): string {
  const tombstones = result.tombstonesLeft === undefined ? '' : `, ${result.tombstonesLeft} tombstones left`;
  const lines = [
    `deletes: ${result.valid ? 'VALID' : 'INVALID'} — ${result.keys} keys, ${result.deleted} deletes acknowledged, ${result.resurrected.length} came back${tombstones}`,
  ];
  for (const r of result.resurrected.slice(0, detailsMax)) lines.push(`  key ${JSON.stringify(r.key)}: deleted, then ${JSON.stringify(r.value)} read back (${r.seen})`);
  if (result.resurrected.length > detailsMax) lines.push(`  ... and ${result.resurrected.length - detailsMax} more`);
  return lines.join('\n');
}
