import type { ClusterChange, ClusterResponse } from '@kv/protocol';
import type { RingView } from './ring-view';
import type { RouteStatsSnapshot } from './route-stats';

/** One data node on the status page: `GET /cluster`'s view (without its URL) and what its last probe counted. */
export interface UiNode {
  id: string;
  status: 'up' | 'down';
  state?: 'ready' | 'refilling';
  member?: 'active' | 'joining' | 'leaving';
  walSync?: 'always' | 'interval' | 'none';
  /** Live keys, and tombstones (deleted keys not yet purged), as the node last reported them; absent before a probe answered or when it does not say. */
  keys?: number;
  tombstones?: number;
}

/** The anti-entropy repair this proxy runs, as far as the page shows it (fields a proxy does not report are absent). */
export interface UiRepair {
  state: string;
  rangesDone: number;
  rangesTotal: number;
  rangesFailed?: number;
  differences?: number;
  repaired?: number;
  purged?: number;
  error?: string;
}

/** `GET /ui/state`: everything the status page shows, in one small answer. */
export interface UiState {
  /** This proxy's wall clock when it answered (ms since the epoch). */
  now: number;
  epoch: number;
  replicas: number;
  writeQuorum: number;
  readQuorum: number;
  vnodes: number;
  nodes: UiNode[];
  change: ClusterChange | null;
  /** The repair in progress or last run; absent when this proxy runs none. */
  repair?: UiRepair;
  ring: RingView;
  hints: { pending: number; bytes: number; dropped: number };
  stats: RouteStatsSnapshot;
}

/** What the proxy knows beside `GET /cluster` for its status page. */
export interface UiSources {
  /** Keys and tombstones a node's last probe reported (undefined before one answered). */
  counts: (nodeId: string) => { keys?: number; tombstones?: number } | undefined;
  /** The ring view of the map in use (cached by the caller per map). */
  ring: () => RingView;
  hints: () => { pending: number; bytes: number; dropped: number };
  /** The repair progress, when the proxy runs repairs: any shape, checked by {@link repairOf}. */
  repair?: () => unknown;
  stats: () => RouteStatsSnapshot;
  now?: () => number;
}

/** Builds `GET /ui/state` from the cluster view and the proxy's other sources. */
export function uiState(cluster: ClusterResponse, sources: UiSources): UiState {
  const repair = repairOf(sources.repair?.());
  return {
    now: (sources.now ?? Date.now)(),
    epoch: cluster.epoch,
    replicas: cluster.replicas,
    writeQuorum: cluster.writeQuorum,
    readQuorum: cluster.readQuorum,
    vnodes: cluster.vnodes,
    nodes: cluster.nodes.map(({ url: _url, ...node }) => {
      const counts = sources.counts(node.id);
      return {
        ...node,
        ...(typeof counts?.keys === 'number' ? { keys: counts.keys } : {}),
        ...(typeof counts?.tombstones === 'number' ? { tombstones: counts.tombstones } : {}),
      };
    }),
    change: cluster.change,
    ...(repair === undefined ? {} : { repair }),
    ring: sources.ring(),
    hints: sources.hints(),
    stats: sources.stats(),
  };
}

/** The repair fields the page shows, from a progress report of any shape; undefined unless it has a state and range counts. */
export function repairOf(value: unknown): UiRepair | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const count = (name: string): number | undefined => (typeof raw[name] === 'number' && Number.isFinite(raw[name]) ? (raw[name] as number) : undefined);
  const rangesDone = count('rangesDone');
  const rangesTotal = count('rangesTotal');
  if (typeof raw.state !== 'string' || rangesDone === undefined || rangesTotal === undefined) return undefined;
  const repair: UiRepair = { state: raw.state, rangesDone, rangesTotal };
  for (const name of ['rangesFailed', 'differences', 'repaired', 'purged'] as const) {
    const value = count(name);
    if (value !== undefined) repair[name] = value;
  }
  if (typeof raw.error === 'string') repair.error = raw.error;
  return repair;
}
