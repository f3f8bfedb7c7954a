import { HashRing } from '@kv/ring';
import { CLOCK_FLOOR_LEAD_MS, CLOCK_FLOOR_RECORD } from './clock-floor';
import { Coordinator, FLOOR_ADVANCE_INTERVAL_MS, coordinatorLeaseMs, type CoordinatorEvents } from './coordinator';
import { DUPLICATE_WAIT_LEASES, DuplicateCoordinatorError } from './coordinator-presence';
import { formatCoordinatorClaim, type CoordinatorClaim } from './coordinator-registry';
import { MemoryHintStore } from './hint-store';
import { InMemoryCluster } from './in-memory/in-memory-cluster';
import { VirtualClock } from './in-memory/virtual-clock';
import { REFILL_RETRY_MS } from './node-membership';
import { MemoryStableStore } from './stable-store';

const NODES = ['a', 'b', 'c'];
const HEALTH_INTERVAL_MS = 100;
const LEASE_MS = coordinatorLeaseMs(HEALTH_INTERVAL_MS);

interface Setup {
  clock: VirtualClock;
  cluster: InMemoryCluster;
  stable: MemoryStableStore;
  coordinator: Coordinator;
  expected: Map<string, string>;
  log: string[];
  failMarks: { on: boolean };
}

interface SetupOptions {
  stable?: MemoryStableStore;
  cluster?: InMemoryCluster;
  clock?: VirtualClock;
  clockId?: string;
  incarnation?: string;
  /** Do not wait for the coordinator to join. */
  noJoin?: boolean;
}

async function setup(options: SetupOptions = {}): Promise<Setup> {
  const clock = options.clock ?? new VirtualClock();
  const cluster = options.cluster ?? new InMemoryCluster(NODES, { clock });
  const stable = options.stable ?? new MemoryStableStore();
  const claim: CoordinatorClaim = { clockId: options.clockId ?? 'p1', incarnation: options.incarnation ?? '0123456789abcdef', leaseMs: LEASE_MS };
  const header = formatCoordinatorClaim(claim);
  const expected = new Map<string, string>();
  const log: string[] = [];
  const failMarks = { on: false };
  const events: CoordinatorEvents = {
    nodeStatusChanged: (status) => log.push(`${status.id} ${status.up ? 'up' : 'down'}`),
    lostData: (nodeId) => log.push(`${nodeId} lost its data`),
    stateChanged: (nodeId, state) => log.push(`${nodeId} ${state}`),
    refillFailed: (nodeId) => log.push(`${nodeId} refill failed`),
    joined: (others, waitedMs) => log.push(`joined with [${others.join(',')}] after ${waitedMs} ms`),
    leaseLapsed: () => log.push('lease lapsed'),
    floorWriteFailed: () => log.push('floor not written'),
    floorWritten: () => log.push('floor written'),
  };
  const coordinator = await clock.run(
    Coordinator.open({
      claim,
      nodeIds: NODES,
      ring: new HashRing(NODES, { vnodes: 16 }),
      transport: cluster.transport(header),
      probe: (nodeId) => cluster.status(nodeId, header, 50),
      register: async (nodeId) => (await cluster.register(nodeId, header, 50)).coordinators,
      markFilled: async (nodeId, incarnation) => {
        if (failMarks.on) throw new Error('EIO: the node could not record it');
        await cluster.markFilled(nodeId, incarnation, 50);
      },
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
  if (options.noJoin !== true) await clock.run(coordinator.joined());
  return { clock, cluster, stable, coordinator, expected, log, failMarks };
}

async function writeKeys(s: Setup, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await s.clock.run(s.coordinator.replicator.set(`key-${i}`, `value-${i}`));
}

describe('Coordinator on the in-memory cluster and virtual time', () => {
  test('joins at once when alone, learns every node, and writes in one phase', async () => {
    const s = await setup();
    expect(s.log).toContain('joined with [] after 0 ms');
    expect(s.expected).toEqual(new Map(NODES.map((id) => [id, s.cluster.node(id).incarnation])));
    expect(Number(await s.stable.read(CLOCK_FLOOR_RECORD))).toBeGreaterThan(s.clock.now());
    expect(s.coordinator.presence.alone()).toBe(true);
    const reads = s.cluster.calls.read;
    await s.clock.run(s.coordinator.replicator.set('k', 'v'));
    expect(s.cluster.calls.read).toBe(reads);
    await s.clock.run(s.coordinator.stop());
  });

  test('a second coordinator waits for the first one\'s lease before it serves; both then write in two phases', async () => {
    const first = await setup();
    const second = await setup({ clock: first.clock, cluster: first.cluster, clockId: 'p2', incarnation: 'fedcba9876543210' });
    expect(second.log).toContain(`joined with [p1] after ${LEASE_MS} ms`);
    // The first learns of the second at its next probe, long before that wait ends.
    expect(first.coordinator.presence.otherIds()).toEqual(['p2']);
    expect(first.coordinator.presence.alone()).toBe(false);
    const reads = first.cluster.calls.read;
    await first.clock.run(first.coordinator.replicator.set('k', 'from p1'));
    expect(first.cluster.calls.read - reads).toBe(2); // phase one
    await first.clock.run(second.coordinator.stop());
    // Once the second is gone for a lease, the first is alone again.
    await first.clock.advance(LEASE_MS + HEALTH_INTERVAL_MS * 2);
    expect(first.coordinator.presence.alone()).toBe(true);
    await first.clock.run(first.coordinator.stop());
  });

  test('a clock floor that cannot be written is reported once, refuses writes beyond it with KV_NOT_READY, and recovers with the disk', async () => {
    const s = await setup();
    s.stable.failWrites = true;
    await s.clock.advance(CLOCK_FLOOR_LEAD_MS);
    // Writes wait for the floor (the APIs call versions.ready() before they write), and are refused.
    await expect(s.clock.run(s.coordinator.versions.ready() ?? Promise.resolve())).rejects.toMatchObject({ code: 'KV_NOT_READY' });
    await s.clock.advance(5 * FLOOR_ADVANCE_INTERVAL_MS);
    // Reported once, not at every attempt (one per second).
    expect(s.log.filter((line) => line.startsWith('floor'))).toEqual(['floor not written']);
    s.stable.failWrites = false;
    await s.clock.advance(2 * FLOOR_ADVANCE_INTERVAL_MS);
    expect(s.log.filter((line) => line.startsWith('floor'))).toEqual(['floor not written', 'floor written']);
    expect(s.coordinator.versions.ready()).toBeUndefined();
    await s.clock.run(s.coordinator.stop());
  });

  test('a coordinator refuses to serve before it joined', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    for (const id of NODES) cluster.setFault(id, { down: true });
    const s = await setup({ clock, cluster, noJoin: true });
    await expect(clock.run(s.coordinator.replicator.set('k', 'v'))).rejects.toMatchObject({ code: 'KV_NOT_READY' });
    cluster.heal();
    await clock.run(s.coordinator.joined());
    await expect(clock.run(s.coordinator.replicator.set('k', 'v'))).resolves.toMatchObject({ acks: 2 });
    await clock.run(s.coordinator.stop());
  });

  test('two coordinators with one clock id: the newcomer keeps trying for two leases, then gives up', async () => {
    const first = await setup();
    const second = await setup({ clock: first.clock, cluster: first.cluster, incarnation: '1111111111111111', noJoin: true });
    const error = await first.clock.run(second.coordinator.joined()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateCoordinatorError);
    expect((error as Error).message).toMatch(/clock id p1.*PROXY_ID/);
    expect(first.clock.now()).toBeGreaterThanOrEqual(1_700_000_000_000 + DUPLICATE_WAIT_LEASES * LEASE_MS);
    await first.clock.run(first.coordinator.stop());
    await first.clock.run(second.coordinator.stop());
  });

  test('a coordinator killed and restarted with its id takes over once its old lease lapsed', async () => {
    const first = await setup();
    await first.clock.run(first.coordinator.stop()); // killed: it renews nothing any more
    const again = await setup({ clock: first.clock, cluster: first.cluster, incarnation: '2222222222222222' });
    expect(again.coordinator.presence.joined).toBe(true);
    await again.clock.run(again.coordinator.stop());
  });

  test('a coordinator cut off for longer than its lease does not serve, registers again, and serves again', async () => {
    const s = await setup();
    for (const id of NODES) s.cluster.setFault(id, { hang: true });
    await s.clock.advance(LEASE_MS);
    expect(s.coordinator.presence.fresh()).toBe(false);
    await expect(s.clock.run(s.coordinator.replicator.set('k', 'v'))).rejects.toMatchObject({ code: 'KV_QUORUM_FAILED' });
    s.cluster.heal();
    // The nodes kept its registration but its lease lapsed there: the next probe is refused and it registers again.
    await s.clock.advance(HEALTH_INTERVAL_MS * 2);
    expect(s.log).toContain('lease lapsed');
    await s.clock.run(s.coordinator.joined());
    await s.clock.advance(HEALTH_INTERVAL_MS * 2);
    expect(s.coordinator.presence.joined).toBe(true);
    await expect(s.clock.run(s.coordinator.replicator.set('k', 'v'))).resolves.toMatchObject({ acks: 2 });
    await s.clock.run(s.coordinator.stop());
  });

  test('a write issued once its view went stale (as after a pause) is refused, and the nodes refuse the lapsed coordinator', async () => {
    const s = await setup();
    // A write held up long enough for the view to go stale before its replies come back.
    for (const id of NODES) s.cluster.setFault(id, { delayMs: 40 });
    const write = s.coordinator.replicator.set('k', 'v').catch((e: unknown) => e);
    await s.clock.run(s.coordinator.stop()); // no probe renews the view any more: as in a pause
    await s.clock.advance(LEASE_MS + HEALTH_INTERVAL_MS);
    // Replies arrived at +40 ms, while the view was still fresh: acknowledged. A later write is refused.
    expect(await write).toMatchObject({ acks: expect.any(Number) });
    const late = await s.clock.run(s.coordinator.replicator.set('k', 'w')).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'KV_QUORUM_FAILED' });
    const header = formatCoordinatorClaim({ clockId: 'p1', incarnation: '0123456789abcdef', leaseMs: LEASE_MS });
    await expect(s.clock.run(s.cluster.status('a', header))).rejects.toMatchObject({ code: 'KV_COORDINATOR_LAPSED' });
  });

  test('a wiped node is uncounted at once, refilled from its peers, then counted again by every coordinator', async () => {
    const s = await setup();
    await writeKeys(s, 40);
    await s.clock.advance(10); // the third replica of the last writes
    const before = s.cluster.node('a').dump();
    s.cluster.node('a').wipe();
    expect(s.cluster.node('a').service.filled).toBe(false);
    await s.clock.advance(HEALTH_INTERVAL_MS);
    expect(s.log).toContain('a lost its data');
    expect(s.expected.get('a')).toBe(s.cluster.node('a').incarnation);
    await s.clock.advance(1);
    expect(s.coordinator.stateOf('a')).toBe('ready');
    expect(s.coordinator.health.isCounted('a')).toBe(true);
    expect(s.log.indexOf('a refilling')).toBeLessThan(s.log.indexOf('a ready'));
    expect(s.cluster.node('a').dump()).toEqual(before);
    expect(s.cluster.node('a').service.filled).toBe(true);
    // A coordinator started now counts it at once: the node itself says it was refilled.
    const later = await setup({ clock: s.clock, cluster: s.cluster, clockId: 'p2', incarnation: 'fedcba9876543210' });
    expect(later.coordinator.health.isCounted('a')).toBe(true);
    await s.clock.run(s.coordinator.stop());
    await s.clock.run(later.coordinator.stop());
  });

  test('a coordinator started after a node lost its data never counts it before it is refilled', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    cluster.node('b').wipe();
    cluster.setFault('c', { down: true }); // a peer down: the refill must wait
    const s = await setup({ clock, cluster });
    expect(s.coordinator.stateOf('b')).toBe('refilling');
    expect(s.coordinator.health.isCounted('b')).toBe(false);
    cluster.heal();
    await clock.advance(REFILL_RETRY_MS + HEALTH_INTERVAL_MS);
    expect(s.coordinator.stateOf('b')).toBe('ready');
    await clock.run(s.coordinator.stop());
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
    // With b down and a uncounted, only c counts: quorums fail rather than trust a.
    await expect(s.clock.run(s.coordinator.replicator.get('key-1'))).rejects.toMatchObject({ code: 'KV_QUORUM_FAILED' });
    await s.clock.advance(REFILL_RETRY_MS * 2);
    expect(s.coordinator.stateOf('a')).toBe('refilling');
    s.cluster.setFault('b', undefined);
    await s.clock.advance(REFILL_RETRY_MS + HEALTH_INTERVAL_MS);
    expect(s.coordinator.stateOf('a')).toBe('ready');
    expect(await s.clock.run(s.coordinator.replicator.get('key-1'))).toMatchObject({ value: 'value-1' });
    await s.clock.run(s.coordinator.stop());
  });

  test('a node that cannot record its refill stays uncounted, and the refill is tried again', async () => {
    const s = await setup();
    s.failMarks.on = true;
    s.cluster.node('a').wipe();
    await s.clock.advance(HEALTH_INTERVAL_MS + 1);
    expect(s.log).toContain('a refill failed');
    expect(s.coordinator.health.isCounted('a')).toBe(false);
    s.failMarks.on = false;
    await s.clock.advance(REFILL_RETRY_MS + 1);
    expect(s.coordinator.stateOf('a')).toBe('ready');
    expect(s.coordinator.health.isCounted('a')).toBe(true);
    await s.clock.run(s.coordinator.stop());
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
