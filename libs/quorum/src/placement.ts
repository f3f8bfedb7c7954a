import { newRingMembers, oldRingMembers, type ClusterMap } from '@kv/protocol';
import { HashRing } from '@kv/ring';

/** The part of a hash ring the replicator needs: a key's preference list (replicas, primary first). */
export interface PreferenceLists {
  preferenceList(key: string, n: number): string[];
}

/** Where a write of a key goes, and what its quorum is. */
export interface WriteSet {
  /** Every replica the write is sent to. */
  readonly targets: readonly string[];
  /** The quorum groups: W acknowledgements are needed in each (one group but during membership changes). */
  readonly groups: readonly (readonly string[])[];
}

/**
 * Where each key lives, for the replicator: the replicas a write goes to (and its quorum groups) and the replicas a
 * read asks, in preference order. One per cluster map epoch.
 */
export interface Placement {
  /** The epoch of the cluster map it comes from (0: a fixed ring, no map). */
  readonly epoch: number;
  writeSet(key: string): WriteSet;
  readSet(key: string): readonly string[];
}

/** A fixed ring: a key's N replicas are its preference list, for reads and writes. */
export function ringPlacement(ring: PreferenceLists, n: number, epoch = 0): Placement {
  return {
    epoch,
    writeSet(key) {
      const replicas = ring.preferenceList(key, n);
      return { targets: replicas, groups: [replicas] };
    },
    readSet: (key) => ring.preferenceList(key, n),
  };
}

/**
 * The placement a cluster map prescribes (docs/ARCHITECTURE.md, The cluster map and membership changes): without a
 * change, the ring of the members; during a change, writes to the old and the new owners with a quorum in each, and
 * reads from the old owners (`copy`) or the new ones (`read-new`).
 */
export function mapPlacement(map: ClusterMap): Placement {
  const n = map.replicas;
  const oldRing = new HashRing(oldRingMembers(map), { vnodes: map.vnodes });
  if (map.transition === null) return ringPlacement(oldRing, n, map.epoch);
  const newRing = new HashRing(newRingMembers(map), { vnodes: map.vnodes });
  const readsNew = map.transition.phase === 'read-new';
  return {
    epoch: map.epoch,
    writeSet(key) {
      const before = oldRing.preferenceList(key, n);
      const after = newRing.preferenceList(key, n);
      const targets = [...before];
      for (const id of after) if (!targets.includes(id)) targets.push(id);
      return { targets, groups: sameMembers(before, after) ? [before] : [before, after] };
    },
    readSet: (key) => (readsNew ? newRing : oldRing).preferenceList(key, n),
  };
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}
