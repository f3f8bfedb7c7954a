import type { ClusterChange, ClusterChangePlan, ClusterChangeStarted, ClusterResponse } from '@kv/protocol';
import type { MembershipChange } from './cluster-args';
import { formatTable } from './table';

/**
 * Shown for a node whose URL the proxy left out: it has `AUTH_TOKEN`, and shows node URLs only to requests carrying its
 * `CLUSTER_TOKEN`.
 */
export const HIDDEN_URL = '(hidden)';

/**
 * The plain-text forms of `kv cluster`: the plan of a dry run, the cluster's members and change, a change's progress.
 * Pure functions of the server's answers; nothing here does I/O.
 */

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `512 B`, `1.5 KiB`, `20.0 MiB`: binary units, one decimal from KiB on. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  value /= 1024;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** `add node4, remove node1`: what a change does, in words, from the ids it adds and removes. */
export function describeChange(add: readonly string[], remove: readonly string[]): string {
  const parts: string[] = [];
  if (add.length > 0) parts.push(`add ${add.join(', ')}`);
  if (remove.length > 0) parts.push(`remove ${remove.join(', ')}`);
  return parts.length === 0 ? 'no change' : parts.join(', ');
}

function describeRequested(change: MembershipChange): string {
  return describeChange(
    change.add.map((node) => node.id),
    change.remove,
  );
}

/**
 * The plan of a dry run: what it would do, then the moving ranges grouped by old owners and gaining nodes (estimated
 * entries and bytes copied, each range counted once per gaining node, as the server's totals count them), and totals:
 * ```
 * dry run: add node4 (nothing was changed)
 * epoch    the change would start at epoch 2
 * members  node1 active, node2 active, node3 active, node4 joining
 * share    74.8% of the ring changes owners
 *
 * from               to     ranges  keys   bytes
 * node1,node2,node3  node4      97  1234  1.2 MiB
 * total                         97  1234  1.2 MiB
 * ```
 */
export function formatPlan(change: MembershipChange, plan: ClusterChangePlan): string {
  const members = Array.isArray(plan.members) ? plan.members : [];
  const ranges = Array.isArray(plan.ranges) ? plan.ranges : [];
  const summary = formatTable([
    ['epoch', `the change would start at epoch ${plan.epoch}`],
    ['members', members.map((member) => `${member.id} ${member.state}`).join(', ')],
    ['share', `${formatShare(plan.share)} of the ring changes owners`],
  ]);
  const groups = new Map<string, { from: string; to: string; ranges: number; keys: number; bytes: number }>();
  for (const range of ranges) {
    const from = [...range.from].sort().join(',');
    const to = [...range.to].sort().join(',');
    const key = `${from} ${to}`;
    const group = groups.get(key) ?? { from, to, ranges: 0, keys: 0, bytes: 0 };
    group.ranges += 1;
    group.keys += range.keys * range.to.length;
    group.bytes += range.bytes * range.to.length;
    groups.set(key, group);
  }
  const rows = [...groups.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  const table = formatTable(
    [
      ['from', 'to', 'ranges', 'keys', 'bytes'],
      ...rows.map((row) => [row.from, row.to, String(row.ranges), String(row.keys), formatBytes(row.bytes)]),
      ['total', '', String(ranges.length), String(plan.keys), formatBytes(plan.bytes)],
    ],
    ['left', 'left', 'right', 'right', 'right'],
  );
  return [
    `dry run: ${describeRequested(change)} (nothing was changed)`,
    summary,
    '',
    table,
    '',
    'keys and bytes are estimates: what the members hold, spread evenly over the ring',
  ].join('\n');
}

/** `change c2-1a2b3c4d started at epoch 2: add node4`. */
export function formatStarted(change: MembershipChange, started: ClusterChangeStarted): string {
  return `change ${started.change} started at epoch ${started.epoch}: ${describeRequested(change)}`;
}

/**
 * `kv cluster status`: the proxy, the epoch, the quorum settings, the change in progress with its progress, and the
 * members:
 * ```
 * server  http://localhost:8000
 * epoch   2
 * quorum  N=3 W=2 R=2 (128 vnodes per node)
 * change  c2-1a2b3c4d: add node4, phase copy
 *         12 of 40 ranges streamed, 1234 keys, 1.2 MiB
 *
 * node   url                    member   status  state
 * node1  http://127.0.0.1:8001  active   up      ready
 * node4  http://127.0.0.1:8004  joining  up      ready
 * ```
 */
export function formatClusterStatus(server: string, cluster: ClusterResponse): string {
  const nodes = Array.isArray(cluster.nodes) ? cluster.nodes : [];
  const change = cluster.change ?? null;
  const summary: string[][] = [
    ['server', server],
    ['epoch', String(cluster.epoch)],
    ['quorum', `N=${cluster.replicas} W=${cluster.writeQuorum} R=${cluster.readQuorum} (${cluster.vnodes} vnodes per node)`],
  ];
  if (change === null) summary.push(['change', 'none']);
  else {
    summary.push(['change', `${change.id}: ${describeChange(change.add, change.remove)}, phase ${change.phase}`]);
    summary.push(['', describeProgress(change)]);
  }
  const table = formatTable([
    ['node', 'url', 'member', 'status', 'state'],
    ...nodes.map((node) => [String(node.id), node.url ?? HIDDEN_URL, node.member ?? '-', String(node.status), node.state ?? '-']),
  ]);
  return `${formatTable(summary)}\n\n${table}`;
}

/** `members node1, node2, node3, node4 at epoch 4`. */
export function formatMembers(cluster: ClusterResponse): string {
  const nodes = Array.isArray(cluster.nodes) ? cluster.nodes : [];
  return `${nodes.length} members at epoch ${cluster.epoch}: ${nodes.map((node) => node.id).join(', ')}`;
}

/** How far a change has come, as the polled proxy knows it. */
export interface ChangeProgressView {
  /** 0..1: ranges streamed of all; 1 once streaming is over (`read-new`) or the change is done. */
  fraction: number;
  /** `epoch 2, copy: 12 of 40 ranges streamed, 1234 keys, 1.2 MiB`. */
  detail: string;
  /** What changes when a phase ends: `2 copy`, `3 read-new`, `4 done`. */
  phase: string;
}

/**
 * Whether the change `started` is over in `cluster`: a later epoch than the one it started at, and it is no longer in
 * progress (no change, or another one, which can only start after it).
 */
export function isChangeDone(cluster: ClusterResponse, started: ClusterChangeStarted): boolean {
  const change = cluster.change ?? null;
  return cluster.epoch > started.epoch && (change === null || change.id !== started.change);
}

/** The progress of the change `started` in a `GET /cluster` answer. */
export function changeProgress(cluster: ClusterResponse, started: ClusterChangeStarted): ChangeProgressView {
  if (isChangeDone(cluster, started)) return { fraction: 1, detail: `done at epoch ${cluster.epoch}`, phase: `${cluster.epoch} done` };
  const change = cluster.change ?? null;
  if (change === null || change.id !== started.change) {
    // The proxy has not taken the new map yet.
    return { fraction: 0, detail: `epoch ${cluster.epoch}, waiting for the change to show`, phase: `${cluster.epoch} starting` };
  }
  const progress = change.progress;
  let fraction = 0;
  if (change.phase === 'read-new') fraction = 1;
  else if (progress !== null && progress.rangesTotal > 0) fraction = Math.min(1, progress.rangesDone / progress.rangesTotal);
  else if (progress !== null) fraction = 1;
  return {
    fraction,
    detail: `epoch ${cluster.epoch}, ${change.phase}: ${describeProgress(change)}`,
    phase: `${cluster.epoch} ${change.phase}`,
  };
}

function describeProgress(change: ClusterChange): string {
  const progress = change.progress;
  if (progress !== null && progress !== undefined) {
    return `${progress.rangesDone} of ${progress.rangesTotal} ranges streamed, ${progress.keysStreamed} keys, ${formatBytes(progress.bytesStreamed)}`;
  }
  if (change.phase === 'read-new') return 'every range streamed; reads go to the new owners';
  return 'streaming (its progress shows once this proxy has read it)';
}

function formatShare(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : String(share);
}
