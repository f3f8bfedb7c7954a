import type { ClusterChange } from '@kv/protocol';
import type { UiNode, UiRepair, UiState } from '../../src/ui/ui-state';

/** One row of the nodes table, as text. */
export interface NodeRow {
  id: string;
  /** `up` or `down`: the class of the row's status badge. */
  status: 'up' | 'down';
  /** What the node does now: `ready`, `refilling`, `joining`, `leaving`. */
  state: string;
  keys: string;
  /** Empty when no node reports tombstones (the column is hidden then). */
  tombstones: string;
  sync: string;
  /** Its share of the ring, now (and after the change in progress when it differs). */
  share: string;
  /** Whether the sync mode acknowledges writes before they are on disk. */
  weakSync: boolean;
}

/** A progress bar: its title, the fraction done (0..1) and a line of detail. */
export interface Progress {
  title: string;
  fraction: number;
  detail: string;
}

/** Whether any node reports tombstones: the column shows only then. */
export function hasTombstones(nodes: readonly UiNode[]): boolean {
  return nodes.some((node) => node.tombstones !== undefined);
}

/** The rows of the nodes table. */
export function nodeRows(state: UiState): NodeRow[] {
  return state.nodes.map((node) => {
    const before = state.ring.shares[node.id];
    const after = state.ring.sharesAfter[node.id];
    const share = before === undefined ? '' : after !== undefined && Math.abs(after - before) >= 0.0005 ? `${percent(before)} → ${percent(after)}` : percent(before);
    return {
      id: node.id,
      status: node.status,
      state: node.member === 'joining' || node.member === 'leaving' ? node.member : (node.state ?? '—'),
      keys: node.keys === undefined ? '—' : count(node.keys),
      tombstones: node.tombstones === undefined ? '' : count(node.tombstones),
      sync: node.walSync ?? '—',
      share,
      weakSync: node.walSync !== undefined && node.walSync !== 'always',
    };
  });
}

/** The summary line: nodes up of all, and the quorum settings. */
export function summary(state: UiState): string {
  const up = state.nodes.filter((node) => node.status === 'up').length;
  return `${up} of ${state.nodes.length} nodes up · N=${state.replicas} W=${state.writeQuorum} R=${state.readQuorum} · epoch ${state.epoch}`;
}

/** The progress bar of a membership change, or undefined when none is in progress. */
export function changeProgress(change: ClusterChange | null): Progress | undefined {
  if (change === null) return undefined;
  const parts = [...change.add.map((id) => `+${id}`), ...change.remove.map((id) => `−${id}`)].join(' ');
  const title = `Change ${change.id} (${parts}): ${change.phase === 'copy' ? 'copying ranges' : 'reading from the new owners'}`;
  const progress = change.progress;
  if (progress === null) {
    return { title, fraction: change.phase === 'read-new' ? 1 : 0, detail: change.phase === 'read-new' ? 'ranges copied' : 'driven by another proxy' };
  }
  const fraction = progress.rangesTotal === 0 ? 1 : progress.rangesDone / progress.rangesTotal;
  return {
    title,
    fraction: clamp(fraction),
    detail: `${progress.rangesDone} of ${progress.rangesTotal} ranges · ${count(progress.keysStreamed)} keys · ${bytes(progress.bytesStreamed)}`,
  };
}

/** The progress bar of the anti-entropy repair, or undefined when the proxy reports none. */
export function repairProgress(repair: UiRepair | undefined): Progress | undefined {
  if (repair === undefined) return undefined;
  const fraction = repair.rangesTotal === 0 ? (repair.state === 'done' ? 1 : 0) : repair.rangesDone / repair.rangesTotal;
  const details = [`${repair.rangesDone} of ${repair.rangesTotal} ranges`];
  if (repair.rangesFailed !== undefined && repair.rangesFailed > 0) details.push(`${repair.rangesFailed} failed`);
  if (repair.repaired !== undefined) details.push(`${count(repair.repaired)} keys repaired`);
  if (repair.purged !== undefined) details.push(`${count(repair.purged)} tombstones purged`);
  if (repair.error !== undefined) details.push(repair.error);
  return { title: `Repair: ${repair.state}`, fraction: clamp(fraction), detail: details.join(' · ') };
}

/** A whole number with thousands separators. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A byte count in B, KiB, MiB or GiB. */
export function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  let scaled = value;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${unit === 0 ? scaled : scaled.toFixed(1)} ${units[unit]}`;
}

/** A share (0..1) as a percentage with one decimal. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/** How long ago `since` was, in words: `5 s`, `3 min`. */
export function ago(nowMs: number, sinceMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - sinceMs) / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

function clamp(fraction: number): number {
  return Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
}
