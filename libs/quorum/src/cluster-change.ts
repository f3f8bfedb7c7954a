import {
  ErrorCode,
  KvError,
  newRingMembers,
  oldRingMembers,
  validateClusterMap,
  type ClusterMap,
  type ClusterMember,
} from '@kv/protocol';
import { diffRings, HashRing, rangeSize, type HashRange } from '@kv/ring';

/** A membership change as an operator asks for it: nodes to add (id and URL) and ids to remove. */
export interface ChangeRequest {
  readonly add: readonly { readonly id: string; readonly url: string }[];
  readonly remove: readonly string[];
}

/** One range to stream: its hash range, the old owners to read it from, and the nodes that gain it. */
export interface StreamTask {
  /** Position among the change's ranges (what progress records name). */
  readonly index: number;
  readonly range: HashRange;
  /** The range's preference list before the change: where its entries are read. */
  readonly sources: readonly string[];
  /** Owners after the change that were not owners before: where its entries are written. */
  readonly targets: readonly string[];
  /** Share of the hash circle, 0..1. */
  readonly share: number;
}

/** Hash values on the ring: 2^32. */
const HASH_SPACE = 2 ** 32;

/** The ring of the members before the change in progress (the old owners). */
export function oldRingOf(map: ClusterMap): HashRing {
  return new HashRing(oldRingMembers(map), { vnodes: map.vnodes });
}

/** The ring of the members after the change in progress (the new owners). */
export function newRingOf(map: ClusterMap): HashRing {
  return new HashRing(newRingMembers(map), { vnodes: map.vnodes });
}

/**
 * Checks a change against the current map and returns the map of its first phase (`copy`, epoch + 1): added members
 * `joining`, removed ones `leaving`.
 * @throws KvError `KV_CHANGE_IN_PROGRESS` while another change runs; `KV_CHANGE_REFUSED` for an empty change, an id
 *   added twice or already a member, a removed id that is not a member or is named twice, or a change that would leave
 *   fewer than N members.
 */
export function startChange(map: ClusterMap, request: ChangeRequest, changeId: string): ClusterMap {
  const refuse = (message: string): KvError => new KvError(ErrorCode.ChangeRefused, message);
  if (map.transition !== null) {
    throw new KvError(ErrorCode.ChangeInProgress, `another membership change (${map.transition.id}) is in progress at epoch ${map.epoch}; wait for it to complete`);
  }
  if (request.add.length === 0 && request.remove.length === 0) throw refuse('the change adds and removes nothing');
  const members = new Map(map.members.map((member) => [member.id, member]));
  const added = new Set<string>();
  for (const { id, url } of request.add) {
    if (members.has(id)) throw refuse(`node ${id} is already a member`);
    if (added.has(id)) throw refuse(`node ${id} is added twice`);
    for (const member of map.members) if (member.url === url) throw refuse(`${url} is already the URL of member ${member.id}`);
    added.add(id);
  }
  const removed = new Set<string>();
  for (const id of request.remove) {
    if (!members.has(id)) throw refuse(`node ${id} is not a member`);
    if (removed.has(id)) throw refuse(`node ${id} is removed twice`);
    removed.add(id);
  }
  const remaining = map.members.length - removed.size + added.size;
  if (remaining < map.replicas) {
    throw refuse(`the cluster would have ${remaining} members, fewer than N=${map.replicas} copies of each key`);
  }
  const next: ClusterMember[] = [
    ...map.members.map((member): ClusterMember => (removed.has(member.id) ? { ...member, state: 'leaving' } : member)),
    ...request.add.map(({ id, url }): ClusterMember => ({ id, url, state: 'joining' })),
  ];
  return validateClusterMap({
    ...map,
    epoch: map.epoch + 1,
    members: next,
    transition: { id: changeId, phase: 'copy', add: [...added], remove: [...removed] },
  });
}

/**
 * The map after `map` in its change: `copy` → `read-new` → done (joining members active, leaving ones gone).
 * @throws TypeError when no change is in progress.
 */
export function nextPhase(map: ClusterMap): ClusterMap {
  const transition = map.transition;
  if (transition === null) throw new TypeError(`no membership change is in progress at epoch ${map.epoch}`);
  if (transition.phase === 'copy') return { ...map, epoch: map.epoch + 1, transition: { ...transition, phase: 'read-new' } };
  return {
    ...map,
    epoch: map.epoch + 1,
    members: map.members.filter((member) => member.state !== 'leaving').map((member) => ({ ...member, state: 'active' as const })),
    transition: null,
  };
}

/**
 * The ranges a change moves (docs/ARCHITECTURE.md, Streaming): every range of the hash circle whose preference list
 * gains a node, with its old owners (sources) and the nodes gaining it (targets). Deterministic for a map, so every
 * proxy numbers the ranges alike.
 */
export function streamTasks(map: ClusterMap): StreamTask[] {
  if (map.transition === null) return [];
  const tasks: StreamTask[] = [];
  for (const move of diffRings(oldRingOf(map), newRingOf(map), map.replicas)) {
    const targets = move.to.filter((id) => !move.from.includes(id));
    if (targets.length === 0) continue;
    const range = { start: move.start, end: move.end };
    tasks.push({ index: tasks.length, range, sources: move.from, targets, share: rangeSize(range) / HASH_SPACE });
  }
  return tasks;
}

/** A planned change as a dry run shows it: ranges from whom to whom, with estimates of keys and bytes. */
export interface ChangePlan {
  /** The map the change starts with (phase `copy`). */
  readonly map: ClusterMap;
  readonly ranges: readonly {
    readonly start: number;
    readonly end: number;
    readonly from: readonly string[];
    readonly to: readonly string[];
    readonly keys: number;
    readonly bytes: number;
  }[];
  /** Totals of the estimates: entries and bytes copied (each range once per node gaining it). */
  readonly keys: number;
  readonly bytes: number;
  /** Share of the hash circle whose owners change, 0..1. */
  readonly share: number;
}

/**
 * Plans a change for a dry run: what {@link startChange} would start, and what it would stream. `holdings` gives
 * what the current members hold (keys and bytes, from their status); estimates assume keys spread evenly over the
 * circle, which the hash makes true on average.
 */
export function planChange(
  map: ClusterMap,
  request: ChangeRequest,
  holdings: ReadonlyMap<string, { keys: number; bytes: number }>,
): ChangePlan {
  const next = startChange(map, request, 'plan');
  let keysTotal = 0;
  let bytesTotal = 0;
  for (const id of oldRingMembers(map)) {
    const held = holdings.get(id);
    if (held === undefined) continue;
    keysTotal += held.keys;
    bytesTotal += held.bytes;
  }
  // Each key is held by N members: the cluster's distinct keys are about the sum over N.
  const distinctKeys = keysTotal / map.replicas;
  const distinctBytes = bytesTotal / map.replicas;
  let keys = 0;
  let bytes = 0;
  let share = 0;
  const ranges = streamTasks(next).map((task) => {
    const rangeKeys = Math.round(distinctKeys * task.share);
    const rangeBytes = Math.round(distinctBytes * task.share);
    keys += rangeKeys * task.targets.length;
    bytes += rangeBytes * task.targets.length;
    share += task.share;
    return { start: task.range.start, end: task.range.end, from: task.sources, to: task.targets, keys: rangeKeys, bytes: rangeBytes };
  });
  return { map: next, ranges, keys, bytes, share };
}
