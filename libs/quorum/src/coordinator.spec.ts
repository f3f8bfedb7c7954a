import { HashRing } from '@kv/ring';
import { CLOCK_FLOOR_RECORD } from './clock-floor';
import { Coordinator, type CoordinatorEvents } from './coordinator';
import { MemoryHintStore } from './hint-store';
import { InMemoryCluster } from './in-memory/in-memory-cluster';
import { VirtualClock } from './in-memory/virtual-clock';
import { NODES_RECORD, REFILL_RETRY_MS } from './node-membership';
import { MemoryStableStore } from './stable-store';

const NODES = ['a', 'b', 'c'];
const HEALTH_INTERVAL_MS = 100;

interface Setup {
  clock: VirtualClock;
  cluster: InMemoryCluster;
  stable: MemoryStableStore;
  coordinator: Coordinator;
  expected: Map<string, string>;
  log: string[];
}

async function setup(options: { stable?: MemoryStableStore; cluster?: InMemoryCluster; clock?: VirtualClock } = {}): Promise<Setup> {
  const clock = options.clock ?? new VirtualClock();
  const cluster = options.cluster ?? new InMemoryCluster(NODES, { clock });
  const stable = options.stable ?? new MemoryStableStore();
  const expected = new Map<string, string>();
  const log: string[] = [];
  const events: CoordinatorEvents = {
    nodeStatusChanged: (status) => log.push(`${status.id} ${status.up ? 'up' : 'down'}`),
    lostData: (nodeId) => log.push(`${nodeId} lost its data`),
    stateChanged: (nodeId, state) => log.push(`${nodeId} ${state}`),
    refillFailed: (nodeId) => log.push(`${nodeId} refill failed`),
    nodeStateNotRecorded: (nodeId) => log.push(`${nodeId} not recorded`),
  };
  const coordinator = await clock.run(
    Coordinator.open({
      clockId: 'p1',
      nodeIds: NODES,
      ring: new HashRing(NODES, { vnodes: 16 }),
      transport: cluster.transport(),
      probe: (nodeId) => cluster.probe(nodeId, 50),
      entries: (nodeId) => cluster.entries(nodeId),
      expectIncarnation: (nodeId, incarnation) => expected.set(nodeId, incarnation),
      stable,
      hints: new MemoryHintStore(),
      clock,
      timers: clock,
      timeoutMs: 50,
      healthIntervalMs: HEALTH_INTERVAL_MS,
      events,
    }),
  );
  await clock.run(coordinator.start());
  return { clock, cluster, stable, coordinator, expected, log };
}

async function writeKeys(s: Setup, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await s.clock.run(s.coordinator.replicator.set(`key-${i}`, `value-${i}`));
}

describe('Coordinator on the in-memory cluster and virtual time', () => {
  test('learns every node on the first probes and records their incarnations durably', async () => {
    const s = await setup();
    expect(s.expected).toEqual(new Map(NODES.map((id) => [id, s.cluster.node(id).incarnation])));
    expect(JSON.parse((await s.stable.read(NODES_RECORD)) as string)).toEqual(
      Object.fromEntries(NODES.map((id) => [id, { incarnation: s.cluster.node(id).incarnation, state: 'ready' }])),
    );
    expect(Number(await s.stable.read(CLOCK_FLOOR_RECORD))).toBeGreaterThan(s.clock.now());
    await s.clock.run(s.coordinator.stop());
  });

  test('a wiped node is uncounted at once, refilled from its peers, then counted again', async () => {
    const s = await setup();
    await writeKeys(s, 40);
    await s.clock.advance(10); // the third replica of the last writes
    const before = s.cluster.node('a').dump();
    s.cluster.node('a').wipe();
    // The next probe sees the new incarnation: excluded before anything else.
    await s.clock.advance(HEALTH_INTERVAL_MS);
    expect(s.log).toContain('a lost its data');
    expect(s.expected.get('a')).toBe(s.cluster.node('a').incarnation);
    // The refill runs on the next turn of the timers; until it ends, a answers nothing that counts.
    await s.clock.advance(1);
    expect(s.coordinator.stateOf('a')).toBe('ready');
    expect(s.coordinator.health.isCounted('a')).toBe(true);
    expect(s.log.indexOf('a refilling')).toBeLessThan(s.log.indexOf('a ready'));
    expect(s.cluster.node('a').dump()).toEqual(before);
    expect(JSON.parse((await s.stable.read(NODES_RECORD)) as string).a.state).toBe('ready');
    await s.clock.run(s.coordinator.stop());
  });

  test('a refill waits while a peer is down, since that peer may hold the only copy of a write', async () => {
    const s = await setup();
    await writeKeys(s, 20);
    s.cluster.setFault('b', { down: true });
    await s.clock.advance(HEALTH_INTERVAL_MS);
    expect(s.coordinator.health.isUp('b')).toBe(false);
    s.cluster.node('a').wipe();
    await s.clock.advance(HEALTH_INTERVAL_MS);
    expect(s.coordinator.stateOf('a')).toBe('refilling');
    expect(s.coordinator.health.isCounted('a')).toBe(false);
    // Reads and writes go on with b down and a uncounted: only c counts, so quorums fail rather than trust a.
    await expect(s.clock.run(s.coordinator.replicator.get('key-1'))).rejects.toMatchObject({ code: 'KV_QUORUM_FAILED' });
    await s.clock.advance(REFILL_RETRY_MS * 2);
    expect(s.coordinator.stateOf('a')).toBe('refilling');
    s.cluster.setFault('b', undefined);
    await s.clock.advance(REFILL_RETRY_MS + HEALTH_INTERVAL_MS);
    expect(s.coordinator.stateOf('a')).toBe('ready');
    expect(await s.clock.run(s.coordinator.replicator.get('key-1'))).toMatchObject({ value: 'value-1' });
    await s.clock.run(s.coordinator.stop());
  });

  test('a coordinator restarted during a refill keeps the node uncounted and resumes the refill', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const stable = new MemoryStableStore();
    const first = await setup({ clock, cluster, stable });
    await writeKeys(first, 10);
    cluster.setFault('c', { down: true });
    await clock.advance(HEALTH_INTERVAL_MS);
    cluster.node('a').wipe();
    await clock.advance(HEALTH_INTERVAL_MS);
    expect(first.coordinator.stateOf('a')).toBe('refilling');
    await clock.run(first.coordinator.stop()); // the coordinator goes away mid-refill

    const second = await setup({ clock, cluster, stable });
    expect(second.coordinator.health.isCounted('a')).toBe(false);
    cluster.setFault('c', undefined);
    await clock.advance(REFILL_RETRY_MS + HEALTH_INTERVAL_MS);
    expect(second.coordinator.stateOf('a')).toBe('ready');
    expect(second.coordinator.health.isCounted('a')).toBe(true);
    await clock.run(second.coordinator.stop());
  });

  test('when its own disk cannot record a lost node, the node stays excluded and is reported down until it can', async () => {
    const s = await setup();
    s.stable.failWrites = true;
    s.cluster.node('a').wipe();
    await s.clock.advance(HEALTH_INTERVAL_MS);
    expect(s.log).toContain('a not recorded');
    expect(s.coordinator.health.isCounted('a')).toBe(false);
    expect(s.coordinator.health.isUp('a')).toBe(false);
    s.stable.failWrites = false;
    await s.clock.advance(HEALTH_INTERVAL_MS + 1);
    expect(s.coordinator.stateOf('a')).toBe('ready');
    expect(s.coordinator.health.isCounted('a')).toBe(true);
    await s.clock.run(s.coordinator.stop());
  });

  test('a malformed node record stops the coordinator rather than guessing which nodes count', async () => {
    const stable = new MemoryStableStore();
    await stable.write(NODES_RECORD, '{"a": {"incarnation": 7}}');
    await expect(setup({ stable })).rejects.toThrow(/malformed/);
  });

  test('probes run every interval, never two at once for one node, and mark failing nodes down', async () => {
    const s = await setup();
    s.cluster.setFault('c', { hang: true });
    await s.clock.advance(HEALTH_INTERVAL_MS * 3);
    expect(s.coordinator.health.isUp('c')).toBe(false);
    s.cluster.setFault('c', undefined);
    await s.clock.advance(HEALTH_INTERVAL_MS * 2);
    expect(s.coordinator.health.isUp('c')).toBe(true);
    expect(s.log.filter((line) => line === 'c down')).toHaveLength(1);
    await s.clock.run(s.coordinator.stop());
    expect(s.clock.pendingTimers).toBe(0);
  });
});
