import type { UiState } from '../../src/ui/ui-state';
import { chartData, chartRoutes, sameSeries } from './chart-data';
import { arcPath, nodeColours } from './ring-draw';
import { ago, bytes, changeProgress, hasTombstones, nodeRows, repairProgress, summary } from './view';

const state = (overrides: Partial<UiState> = {}): UiState => ({
  now: 0,
  epoch: 2,
  replicas: 3,
  writeQuorum: 2,
  readQuorum: 2,
  vnodes: 128,
  nodes: [
    { id: 'n1', status: 'up', state: 'ready', member: 'active', walSync: 'always', keys: 1200 },
    { id: 'n2', status: 'down', state: 'ready', member: 'active', walSync: 'interval' },
    { id: 'n3', status: 'up', state: 'refilling', member: 'joining', keys: 0 },
  ],
  change: null,
  ring: { shares: { n1: 0.5, n2: 0.5, n3: 0 }, sharesAfter: { n1: 0.34, n2: 0.33, n3: 0.33 }, arcs: [], moving: [] },
  hints: { pending: 0, bytes: 0, dropped: 0 },
  stats: { bucketSeconds: 2, times: [], routes: [] },
  ...overrides,
});

describe('the nodes table', () => {
  test('status, state (a joining node says so), keys, sync mode and ring share now and after the change', () => {
    expect(nodeRows(state())).toEqual([
      { id: 'n1', status: 'up', state: 'ready', keys: '1,200', tombstones: '', sync: 'always', share: '50.0 % → 34.0 %', weakSync: false },
      { id: 'n2', status: 'down', state: 'ready', keys: '—', tombstones: '', sync: 'interval', share: '50.0 % → 33.0 %', weakSync: true },
      { id: 'n3', status: 'up', state: 'joining', keys: '0', tombstones: '', sync: '—', share: '0.0 % → 33.0 %', weakSync: false },
    ]);
    expect(summary(state())).toBe('2 of 3 nodes up · N=3 W=2 R=2 · epoch 2');
  });

  test('tombstones show only when a node reports them', () => {
    expect(hasTombstones(state().nodes)).toBe(false);
    const withTombstones = state({ nodes: [{ id: 'n1', status: 'up', keys: 3, tombstones: 4 }] });
    expect(hasTombstones(withTombstones.nodes)).toBe(true);
    expect(nodeRows(withTombstones)[0].tombstones).toBe('4');
  });
});

describe('progress bars', () => {
  test('a change with streaming progress; one driven elsewhere; none', () => {
    const change = { id: 'c1', phase: 'copy' as const, add: ['n4'], remove: [], progress: { rangesDone: 3, rangesTotal: 12, keysStreamed: 1500, bytesStreamed: 2048 } };
    expect(changeProgress(change)).toEqual({ title: 'Change c1 (+n4): copying ranges', fraction: 0.25, detail: '3 of 12 ranges · 1,500 keys · 2.0 KiB' });
    expect(changeProgress({ ...change, progress: null })?.detail).toBe('driven by another proxy');
    expect(changeProgress({ ...change, phase: 'read-new', progress: null })?.fraction).toBe(1);
    expect(changeProgress(null)).toBeUndefined();
  });

  test('a repair, when the proxy reports one', () => {
    expect(repairProgress({ state: 'running', rangesDone: 1, rangesTotal: 4, rangesFailed: 1, repaired: 2, purged: 7 })).toEqual({
      title: 'Repair: running',
      fraction: 0.25,
      detail: '1 of 4 ranges · 1 failed · 2 keys repaired · 7 tombstones purged',
    });
    expect(repairProgress({ state: 'done', rangesDone: 0, rangesTotal: 0 })?.fraction).toBe(1);
    expect(repairProgress(undefined)).toBeUndefined();
  });
});

describe('drawing', () => {
  const g = { cx: 100, cy: 100, inner: 50, outer: 100 };
  test('an arc of a quarter from the top goes clockwise to the right', () => {
    expect(arcPath(g, { start: 0, end: 0.25 })).toBe('M100 0A100 100 0 0 1 200 100L150 100A50 50 0 0 0 100 50Z');
  });
  test('more than half sets the large-arc flag; a whole circle is two halves; nothing for an empty arc', () => {
    expect(arcPath(g, { start: 0, end: 0.75 })).toContain('A100 100 0 1 1');
    expect(arcPath(g, { start: 0, end: 1 }).match(/M/g)).toHaveLength(2);
    expect(arcPath(g, { start: 0.5, end: 0.5 })).toBe('');
  });
  test('colours are stable per id whatever the order', () => {
    expect(nodeColours(['b', 'a']).get('a')).toBe(nodeColours(['a', 'b', 'a']).get('a'));
    expect(nodeColours(['a', 'b']).get('a')).not.toBe(nodeColours(['a', 'b']).get('b'));
    // A node added that sorts last leaves the others their colours.
    expect(nodeColours(['node1', 'node2', 'node3', 'node4']).get('node3')).toBe(nodeColours(['node1', 'node2', 'node3']).get('node3'));
  });
});

describe('chart data', () => {
  const stats = {
    bucketSeconds: 2,
    times: [2000, 4000],
    routes: [
      { route: 'GET /health', ops: [1, 1], errorRate: [0, 0], p50Ms: [0.1, 0.1], p99Ms: [0.2, 0.2] },
      { route: 'GET /kv/:key', ops: [10, 0], errorRate: [0.015, null], p50Ms: [1, null], p99Ms: [5, null] },
    ],
  };
  test('data routes first; x in seconds; error rate in percent; gaps stay gaps', () => {
    expect(chartRoutes(stats)).toEqual(['GET /kv/:key', 'GET /health']);
    const charts = chartData(stats);
    expect(charts.ops.columns).toEqual([[2, 4], [10, 0], [1, 1]]);
    expect(charts.latency.labels).toEqual(['GET /kv/:key p50', 'GET /kv/:key p99', 'GET /health p50', 'GET /health p99']);
    expect(charts.errors.columns[1]).toEqual([1.5, null]);
    expect(sameSeries(charts.ops, chartData(stats).ops)).toBe(true);
    expect(sameSeries(undefined, charts.ops)).toBe(false);
  });
});

test('ago and bytes', () => {
  expect(ago(10_000, 5_000)).toBe('5 s');
  expect(ago(400_000, 0)).toBe('7 min');
  expect(bytes(512)).toBe('512 B');
  expect(bytes(5 * 1024 * 1024)).toBe('5.0 MiB');
});
