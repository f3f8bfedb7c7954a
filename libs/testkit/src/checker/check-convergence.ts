/**
 * What one replica holds for a key, as read through the internal API: a live value, a tombstone (`value: null`), or
 * `null` when the replica has no entry at all.
 */
export type ReplicaState = { version: string; value: string | null } | null;

/** For each key, what each of its replicas (by node id) holds. */
export type ReplicaStates = ReadonlyMap<string, ReadonlyMap<string, ReplicaState>>;

/** Options of `checkConvergence`. */
export interface ConvergenceCheckOptions {
  /** When given, a key listing a different number of replicas is divergent (`replica-count`): one was not read. */
  replicasPerKey?: number;
}

/**
 * How a key's replicas disagree.
 * - `missing`: some replicas have no entry while others hold a value or a tombstone.
 * - `version`: replicas hold different versions.
 * - `value`: replicas hold the same version with different contents. Versions are unique per write, so this means a
 *   version was reused: a bug in the coordinator, not a replication delay.
 * - `replica-count`: the key lists a number of replicas other than `replicasPerKey`.
 */
export type DivergenceKind = 'missing' | 'version' | 'value' | 'replica-count';

/** One key whose replicas disagree. */
export interface KeyDivergence {
  key: string;
  kinds: DivergenceKind[];
  /** The highest version any replica holds (first replica listed on a `value` conflict); `null` if none has an entry. */
  newest: ReplicaState;
  /** Replicas that do not hold `newest`: no entry, an older version, or other contents at that version. */
  behind: string[];
  /** Every replica's state, in the order given. */
  replicas: Array<{ node: string; state: ReplicaState }>;
}

/** The verdict on the replicas' final states. */
export interface ConvergenceCheckResult {
  checker: 'convergence';
  /** True when every key's replicas hold the same entry (or all none). */
  valid: boolean;
  /** Keys compared. */
  keys: number;
  /** Keys whose replicas disagree, in key order. */
  divergent: KeyDivergence[];
}

/**
 * Checks that replicas converged: for every key, all replicas hold the same version with the same contents, or all hold
 * nothing. A tombstone is an entry like any other, so a tombstone on one replica and nothing on another is divergence
 * (the deleted value could come back from a stale replica). Versions compare as strings (string order is version order).
 * Only compares: polling until the cluster converges is the caller's job.
 *
 * @throws TypeError if a state is malformed or `replicasPerKey` is not a positive integer.
 */
export function checkConvergence(
  replicaStates: ReplicaStates,
  options: ConvergenceCheckOptions = {},
): ConvergenceCheckResult {
  const { replicasPerKey } = options;
  if (replicasPerKey !== undefined && !(Number.isSafeInteger(replicasPerKey) && replicasPerKey > 0)) {
    throw new TypeError('replicasPerKey must be a positive integer');
  }
  const divergent: KeyDivergence[] = [];
  for (const key of [...replicaStates.keys()].sort()) {
    const replicas = [...(replicaStates.get(key) ?? new Map<string, ReplicaState>())].map(([node, state]) => {
      assertReplicaState(key, node, state);
      return { node, state };
    });
    let newest: ReplicaState = null;
    for (const { state } of replicas) {
      if (state !== null && (newest === null || state.version > newest.version)) newest = state;
    }
    const kinds = new Set<DivergenceKind>();
    const behind: string[] = [];
    for (const { node, state } of replicas) {
      if (sameEntry(state, newest)) continue;
      behind.push(node);
      if (state === null) kinds.add('missing');
      else if (newest !== null && state.version === newest.version) kinds.add('value');
      else kinds.add('version');
    }
    if (replicasPerKey !== undefined && replicas.length !== replicasPerKey) kinds.add('replica-count');
    if (kinds.size > 0) divergent.push({ key, kinds: [...kinds], newest, behind, replicas });
  }
  return { checker: 'convergence', valid: divergent.length === 0, keys: replicaStates.size, divergent };
}

function sameEntry(a: ReplicaState, b: ReplicaState): boolean {
  if (a === null || b === null) return a === b;
  return a.version === b.version && a.value === b.value;
}

function assertReplicaState(key: string, node: string, state: ReplicaState): void {
  if (state === null) return;
  if (typeof state !== 'object' || typeof state.version !== 'string' || (state.value !== null && typeof state.value !== 'string')) {
    throw new TypeError(`key ${JSON.stringify(key)}, replica ${node}: state must be null or { version, value }`);
  }
}
