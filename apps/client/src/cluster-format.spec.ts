import type { ClusterChangePlan, ClusterChangeStarted, ClusterResponse } from '@kv/protocol';
import { changeProgress, describeChange, formatBytes, formatClusterStatus, formatPlan, isChangeDone } from './cluster-format';

const SETTINGS = { replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128 };
const STARTED: ClusterChangeStarted = { dryRun: false, epoch: 2, change: 'c2-1a2b3c4d' };

function cluster(epoch: number, change: ClusterResponse['change'], ids = ['node1', 'node2', 'node3']): ClusterResponse {
  return {
    nodes: ids.map((id, i) => ({ id, url: `http://127.0.0.1:800${i + 1}`, status: 'up', state: 'ready', member: 'active' })),
    ...SETTINGS,
    epoch,
    change,
  };
}

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10.0 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
    [5 * 1024 ** 5, '5120.0 TiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('describeChange', () => {
  it.each([
    [['node4'], [], 'add node4'],
    [[], ['node1', 'node2'], 'remove node1, node2'],
    [['node5'], ['node2'], 'add node5, remove node2'],
    [[], [], 'no change'],
  ])('%j %j is %s', (add, remove, text) => {
    expect(describeChange(add, remove)).toBe(text);
  });
});

describe('formatPlan', () => {
  it('groups the moving ranges by old owners and gaining nodes, each range counted once per gaining node', () => {
    const plan: ClusterChangePlan = {
      dryRun: true,
      epoch: 2,
      members: [
        { id: 'node1', url: 'http://127.0.0.1:8001', state: 'active' },
        { id: 'node2', url: 'http://127.0.0.1:8002', state: 'leaving' },
        { id: 'node3', url: 'http://127.0.0.1:8003', state: 'active' },
        { id: 'node4', url: 'http://127.0.0.1:8004', state: 'active' },
        { id: 'node5', url: 'http://127.0.0.1:8005', state: 'joining' },
      ],
      ranges: [
        // Old owners in preference-list order: the group is the same set.
        { start: 0, end: 100, from: ['node2', 'node1', 'node3'], to: ['node5'], keys: 1000, bytes: 1024 * 1024 },
        { start: 100, end: 200, from: ['node1', 'node2', 'node3'], to: ['node5'], keys: 500, bytes: 512 * 1024 },
        { start: 200, end: 300, from: ['node2', 'node3', 'node4'], to: ['node5', 'node1'], keys: 10, bytes: 2048 },
      ],
      keys: 1520,
      bytes: 1024 * 1024 + 512 * 1024 + 4096,
      share: 0.3125,
    };
    expect(formatPlan({ add: [{ id: 'node5', url: 'http://127.0.0.1:8005' }], remove: ['node2'] }, plan)).toBe(
      [
        'dry run: add node5, remove node2 (nothing was changed)',
        'epoch    the change would start at epoch 2',
        'members  node1 active, node2 leaving, node3 active, node4 active, node5 joining',
        'share    31.3% of the ring changes owners',
        '',
        'from               to           ranges  keys    bytes',
        'node1,node2,node3  node5             2  1500  1.5 MiB',
        'node2,node3,node4  node1,node5       1    20  4.0 KiB',
        'total                                3  1520  1.5 MiB',
        '',
        'keys and bytes are estimates: what the members hold, spread evenly over the ring',
      ].join('\n'),
    );
  });

  it('prints a plan without moving ranges', () => {
    const plan: ClusterChangePlan = { dryRun: true, epoch: 7, members: [], ranges: [], keys: 0, bytes: 0, share: 0 };
    expect(formatPlan({ add: [], remove: ['node9'] }, plan)).toContain('from   to  ranges  keys  bytes\ntotal           0     0    0 B\n');
  });
});

describe('formatClusterStatus', () => {
  it('prints the members with their part, health and state, and the change with its progress', () => {
    const answer = cluster(2, {
      id: 'c2-1a2b3c4d',
      phase: 'copy',
      add: ['node4'],
      remove: [],
      progress: { rangesDone: 12, rangesTotal: 40, keysStreamed: 1234, bytesStreamed: 1.5 * 1024 * 1024 },
    });
    answer.nodes.push({ id: 'node4', url: 'http://127.0.0.1:8004', status: 'down', member: 'joining' });
    expect(formatClusterStatus('http://localhost:8000', answer)).toBe(
      [
        'server  http://localhost:8000',
        'epoch   2',
        'quorum  N=3 W=2 R=2 (128 vnodes per node)',
        'change  c2-1a2b3c4d: add node4, phase copy',
        '        12 of 40 ranges streamed, 1234 keys, 1.5 MiB',
        '',
        'node   url                    member   status  state',
        'node1  http://127.0.0.1:8001  active   up      ready',
        'node2  http://127.0.0.1:8002  active   up      ready',
        'node3  http://127.0.0.1:8003  active   up      ready',
        'node4  http://127.0.0.1:8004  joining  down    -',
      ].join('\n'),
    );
  });

  it.each([
    ['read-new', 'every range streamed; reads go to the new owners'],
    ['copy', 'streaming (its progress shows once this proxy has read it)'],
  ] as const)('says what it can of a change in %s without progress', (phase, text) => {
    const answer = cluster(3, { id: 'c2-1a2b3c4d', phase, add: [], remove: ['node1'], progress: null });
    expect(formatClusterStatus('http://h', answer)).toContain(`change  c2-1a2b3c4d: remove node1, phase ${phase}\n        ${text}\n`);
  });

  it('says "none" without a change', () => {
    expect(formatClusterStatus('http://h', cluster(4, null))).toContain('\nchange  none\n');
  });
});

describe('changeProgress and isChangeDone', () => {
  const change = (phase: 'copy' | 'read-new', progress: { rangesDone: number; rangesTotal: number } | null, id = STARTED.change) => ({
    id,
    phase,
    add: ['node4'],
    remove: [],
    progress: progress === null ? null : { ...progress, keysStreamed: 10, bytesStreamed: 2048 },
  });

  it.each([
    ['the proxy has not taken the new map yet', cluster(1, null), false, 0, 'epoch 1, waiting for the change to show', '1 starting'],
    ['streaming', cluster(2, change('copy', { rangesDone: 3, rangesTotal: 4 })), false, 0.75, 'epoch 2, copy: 3 of 4 ranges streamed, 10 keys, 2.0 KiB', '2 copy'],
    ['streaming, nothing to stream', cluster(2, change('copy', { rangesDone: 0, rangesTotal: 0 })), false, 1, 'epoch 2, copy: 0 of 0 ranges streamed, 10 keys, 2.0 KiB', '2 copy'],
    ['progress not read yet', cluster(2, change('copy', null)), false, 0, 'epoch 2, copy: streaming (its progress shows once this proxy has read it)', '2 copy'],
    ['reading from the new owners', cluster(3, change('read-new', null)), false, 1, 'epoch 3, read-new: every range streamed; reads go to the new owners', '3 read-new'],
    ['done', cluster(4, null), true, 1, 'done at epoch 4', '4 done'],
    ['done, and another change runs', cluster(5, change('copy', null, 'c5-ffffffff')), true, 1, 'done at epoch 5', '5 done'],
  ])('%s', (_what, answer, done, fraction, detail, phase) => {
    expect(isChangeDone(answer, STARTED)).toBe(done);
    expect(changeProgress(answer, STARTED)).toEqual({ fraction, detail, phase });
  });
});
