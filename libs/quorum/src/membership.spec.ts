import { isKvError, ErrorCode, type ClusterMap } from '@kv/protocol';
import { HashRing, type HashRange } from '@kv/ring';
import { startChange, streamTasks } from './cluster-change';
import { Coordinator, coordinatorLeaseMs } from './coordinator';
import { formatCoordinatorClaim } from './coordinator-registry';
import { MemoryHintStore } from './hint-store';
import { InMemoryCluster } from './in-memory/in-memory-cluster';
import { VirtualClock } from './in-memory/virtual-clock';
import { MapProposer, sameMap, type MapPeers } from './map-proposer';
import { seededRandom } from './spec-support/random';
import { MemoryStableStore } from './stable-store';

const NODES = ['a', 'b', 'c'];
const HEALTH_INTERVAL_MS = 100;

function seedMap(ids: readonly string[] = NODES): ClusterMap {
  return {
    epoch: 1,
    members: ids.map((id) => ({ id, url: `http://${id}:1`, state: 'active' as const })),
    vnodes: 16,
    replicas: 3,
    writeQuorum: 2,
    readQuorum: 2,
    transition: null,
  };
}

/** Map peers over the in-memory cluster, each call delayed by a random virtual time (interleaving proposers). */
function peersOf(cluster: InMemoryCluster, clock: VirtualClock, random: () => number, maxDelayMs = 0): MapPeers {
  const delayed = async <T>(call: () => Promise<T>): Promise<T> => {
    if (maxDelayMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.floor(random() * maxDelayMs)));
    return call();
  };
  return {
    readMap: (id) => delayed(() => cluster.readMap(id)),
    prepare: (id, epoch, ballot) => delayed(() => cluster.prepare(id, epoch, ballot)),
    accept: (id, ballot, map) => delayed(() => cluster.accept(id, ballot, map)),
    commit: (id, map) => delayed(() => cluster.commitMap(id, map)),
  };
}

async function seeded(cluster: InMemoryCluster, clock: VirtualClock): Promise<ClusterMap> {
  const proposer = new MapProposer({ proposerId: 'p0', peers: peersOf(cluster, clock, Math.random), timers: clock });
  const outcome = await clock.run(proposer.propose(null, seedMap(), NODES));
  expect(outcome.outcome).toBe('chosen');
  return outcome.map;
}

describe('cluster maps by Paxos', () => {
  test('a brand-new cluster is seeded once: a second seeding learns the first', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const first = await seeded(cluster, clock);
    const other = new MapProposer({ proposerId: 'p9', peers: peersOf(cluster, clock, Math.random), timers: clock });
    const outcome = await clock.run(other.propose(null, { ...seedMap(), vnodes: 32 }, NODES));
    expect(outcome.outcome).toBe('lost');
    expect(sameMap(outcome.map, first)).toBe(true);
  });

  test.each(Array.from({ length: 40 }, (_, i) => i + 1))('two proposers of different changes for one epoch: exactly one wins (seed %i)', async (seed) => {
    const random = seededRandom(seed);
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster([...NODES, 'd', 'e'], { clock });
    const current = await seeded(cluster, clock);
    const addD = startChange(current, { add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, 'add-d');
    const addE = startChange(current, { add: [{ id: 'e', url: 'http://e:1' }], remove: [] }, 'add-e');
    const p1 = new MapProposer({ proposerId: 'p1', peers: peersOf(cluster, clock, random, 30), timers: clock, random });
    const p2 = new MapProposer({ proposerId: 'p2', peers: peersOf(cluster, clock, random, 30), timers: clock, random, attemptsMax: 20 });
    const [o1, o2] = await clock.run(Promise.all([p1.propose(current, addD), p2.propose(current, addE)]));
    // One outcome for epoch 2, known to both proposers and stored by every node.
    expect(sameMap(o1.map, o2.map)).toBe(true);
    expect([o1.outcome, o2.outcome].sort()).toEqual(['chosen', 'lost']);
    for (const id of NODES) expect(sameMap((await clock.run(cluster.readMap(id))) as ClusterMap, o1.map)).toBe(true);
  });

  test('a map accepted by a majority whose proposer died before committing is the one the next proposer completes', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster([...NODES, 'd', 'e'], { clock });
    const current = await seeded(cluster, clock);
    const addD = startChange(current, { add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, 'add-d');
    // The first proposer's commits never arrive (it died after its accepts).
    const dying = peersOf(cluster, clock, Math.random);
    const p1 = new MapProposer({
      proposerId: 'p1',
      peers: { ...dying, commit: () => Promise.reject(new Error('the proposer died')) },
      timers: clock,
    });
    expect((await clock.run(p1.propose(current, addD))).outcome).toBe('chosen');
    expect((await clock.run(cluster.readMap('a')))?.epoch).toBe(1);
    const addE = startChange(current, { add: [{ id: 'e', url: 'http://e:1' }], remove: [] }, 'add-e');
    const p2 = new MapProposer({ proposerId: 'p2', peers: peersOf(cluster, clock, Math.random), timers: clock });
    const outcome = await clock.run(p2.propose(current, addE));
    expect(outcome.outcome).toBe('lost');
    expect(outcome.map.transition?.id).toBe('add-d');
  });

  test('changes are refused with clear errors', () => {
    const map = seedMap();
    const refused = (add: { id: string; url: string }[], remove: string[]): string => {
      try {
        startChange(map, { add, remove }, 'x');
      } catch (error) {
        if (isKvError(error)) return `${error.code}: ${error.message}`;
      }
      return 'accepted';
    };
    expect(refused([], [])).toBe('KV_CHANGE_REFUSED: the change adds and removes nothing');
    expect(refused([], ['a'])).toBe('KV_CHANGE_REFUSED: the cluster would have 2 members, fewer than N=3 copies of each key');
    expect(refused([], ['z'])).toBe('KV_CHANGE_REFUSED: node z is not a member');
    expect(refused([{ id: 'a', url: 'http://x:1' }], [])).toBe('KV_CHANGE_REFUSED: node a is already a member');
    expect(refused([{ id: 'd', url: 'http://d:1' }, { id: 'd', url: 'http://d:2' }], [])).toBe('KV_CHANGE_REFUSED: node d is added twice');
    expect(refused([{ id: 'd', url: 'http://a:1' }], [])).toBe('KV_CHANGE_REFUSED: http://a:1 is already the URL of member a');
    const inProgress = startChange(map, { add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, 'c1');
    expect(() => startChange(inProgress, { add: [{ id: 'e', url: 'http://e:1' }], remove: [] }, 'c2')).toThrow(
      expect.objectContaining({ code: ErrorCode.ChangeInProgress }),
    );
  });

  test('adding a 4th node to 3: it gains about a quarter of the primaries, and only the ranges it gains move', () => {
    const map = startChange({ ...seedMap(), vnodes: 128 }, { add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, 'c');
    const tasks = streamTasks(map);
    expect(tasks.every((task) => task.targets.length === 1 && task.targets[0] === 'd')).toBe(true);
    // d is a replica (among N=3) of about 3/4 of the circle: each range it gains is copied once, to d.
    const share = tasks.reduce((sum, task) => sum + task.share, 0);
    expect(share).toBeGreaterThan(0.75 * 0.9);
    expect(share).toBeLessThan(0.75 * 1.1);
    const ring = new HashRing(['a', 'b', 'c', 'd'], { vnodes: 128 });
    let primaries = 0;
    const samples = 20_000;
    for (let i = 0; i < samples; i++) if (ring.preferenceList(`key-${i}`, 1)[0] === 'd') primaries += 1;
    expect(primaries / samples).toBeGreaterThan(0.22);
    expect(primaries / samples).toBeLessThan(0.28);
  });
});

interface Proxy {
  coordinator: Coordinator;
  log: string[];
}

async function startProxy(
  cluster: InMemoryCluster,
  clock: VirtualClock,
  clockId: string,
  options: {
    skipStreaming?: boolean;
    writeQuorum?: number;
    streamBytesPerS?: number;
    rangesPerRound?: number;
    maxClockSkewMs?: number;
    /** The `WAL_SYNC` each node's probe answers report, read at every probe (none by default, as an older node). */
    walSync?: Map<string, 'always' | 'interval' | 'none'>;
    /** Runs anti-entropy with this interval (none by default). */
    antiEntropyIntervalMs?: number;
  } = {},
): Promise<Proxy> {
  const claim = { clockId, incarnation: '0123456789abcdef', leaseMs: coordinatorLeaseMs(HEALTH_INTERVAL_MS) };
  const header = formatCoordinatorClaim(claim);
  const log: string[] = [];
  let epoch = (): number => 0;
  const caller = { claim: header, epoch: () => epoch() };
  const coordinator = await clock.run(
    Coordinator.open({
      claim,
      nodeIds: NODES,
      ring: new HashRing(NODES, { vnodes: 16 }),
      transport: cluster.transport(caller),
      probe: async (nodeId) => ({ ...(await cluster.status(nodeId, header, 50)), walSync: options.walSync?.get(nodeId) }),
      register: async (nodeId) => (await cluster.register(nodeId, header, 50)).coordinators,
      markFilled: (nodeId, incarnation) => cluster.markFilled(nodeId, incarnation, 50),
      entries: (nodeId) => cluster.entries(nodeId),
      expectIncarnation: () => undefined,
      stable: new MemoryStableStore(),
      hints: new MemoryHintStore(),
      clock,
      timers: clock,
      timeoutMs: 50,
      healthIntervalMs: HEALTH_INTERVAL_MS,
      unsafe: { skipStreaming: options.skipStreaming },
      ...(options.antiEntropyIntervalMs === undefined
        ? {}
        : {
            antiEntropy: {
              intervalMs: options.antiEntropyIntervalMs,
              bytesPerS: 1_000_000,
              pauseMs: 0,
              tombstoneGraceMs: 0,
              peers: {
                digests: (nodeId: string, ranges: readonly HashRange[], buckets: boolean) => cluster.digests(nodeId, ranges, buckets, 50),
                versions: (nodeId: string, ranges: readonly HashRange[], before?: number) => cluster.versions(nodeId, ranges, before, 50),
                purge: (nodeId: string, epoch: number, entries: readonly (readonly [string, string])[]) => cluster.purge(nodeId, epoch, entries, 50),
              },
            },
          }),
      writeQuorum: options.writeQuorum,
      maxClockSkewMs: options.maxClockSkewMs,
      clusterMap: {
        seed: seedMap(),
        streamBytesPerS: options.streamBytesPerS ?? 1_000_000,
        streamRangesPerRound: options.rangesPerRound,
        membersChanged: (map) => {
          epoch = () => map.epoch;
          log.push(`epoch ${map.epoch}`);
        },
        probeNew: async (url) => {
          const id = new URL(url).hostname;
          const status = await cluster.status(id, undefined, 50);
          return { nodeId: status.nodeId, keys: 0 };
        },
        holdings: async (nodeId) => ({ keys: cluster.node(nodeId).dump().size, bytes: 0 }),
        peers: {
          ...peersOf(cluster, clock, Math.random),
          rangeEntries: (nodeId, ranges) => cluster.rangeEntries(nodeId, ranges),
          streamProgress: (nodeId, change) => cluster.streamProgress(nodeId, change),
          recordStreamed: async (nodeId, change, indexes, keys, bytes) => {
            await cluster.recordStream(nodeId, change, indexes, keys, bytes);
          },
        },
      },
      events: {
        changeStalled: (error) => log.push(`stalled: ${(error as Error).message}`),
        quorumsDiffer: (map, own) => log.push(`quorums differ: map W=${map.writeQuorum}, own W=${own.writeQuorum}`),
        skewSettingDiffers: (nodeId, nodeMs, ownMs) => log.push(`skew setting differs: ${nodeId} ${nodeMs}, own ${ownMs}`),
        weakSync: (nodeId, mode) => log.push(`weak sync: ${nodeId} ${mode}`),
        refilled: (nodeId, report) => log.push(`refilled ${nodeId} ${report.copied}`),
        roundFinished: (progress) => log.push(`round ${progress.state} at epoch ${epoch()}: ${progress.differences} differences`),
      },
    }),
  );
  await clock.run(coordinator.start());
  await clock.run(coordinator.joined());
  return { coordinator, log };
}

/** Writes `count` keys; returns those acknowledged, with their values. */
async function writeKeys(proxy: Proxy, clock: VirtualClock, prefix: string, count: number): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  const outcomes = await clock.run(
    Promise.allSettled(Array.from({ length: count }, (_, i) => proxy.coordinator.replicator.set(`${prefix}${i}`, `v${i}`))),
  );
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') acked.set(`${prefix}${i}`, `v${i}`);
  });
  return acked;
}

async function unreadable(proxy: Proxy, clock: VirtualClock, acked: ReadonlyMap<string, string>): Promise<string[]> {
  const missing: string[] = [];
  for (const [key, value] of acked) {
    const read = await clock.run(proxy.coordinator.replicator.get(key).catch(() => undefined));
    if (read?.value !== value) missing.push(key);
  }
  return missing;
}

async function waitForChange(proxy: Proxy, clock: VirtualClock, epoch: number): Promise<void> {
  for (let i = 0; i < 2000 && (proxy.coordinator.map?.epoch ?? 0) < epoch; i++) await clock.advance(HEALTH_INTERVAL_MS);
  expect(proxy.coordinator.map?.epoch).toBe(epoch);
}

describe('membership changes on the in-memory cluster', () => {
  test('add a 4th node while writing, then remove one of the three and lose it for good: every acknowledged write stays readable', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const proxy = await startProxy(cluster, clock, 'p1');
    expect(proxy.coordinator.map?.epoch).toBe(1);
    const acked = await writeKeys(proxy, clock, 'before-', 300);
    expect(acked.size).toBe(300);

    cluster.addNode('d');
    const plan = await clock.run(proxy.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, true));
    expect(plan.dryRun && plan.plan.keys).toBeGreaterThan(150);
    const started = await clock.run(proxy.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, false));
    expect(started).toMatchObject({ dryRun: false, epoch: 2 });
    // Writes during the change go to old and new owners.
    for (const [key, value] of await writeKeys(proxy, clock, 'during-', 200)) acked.set(key, value);
    await waitForChange(proxy, clock, 4);
    expect(proxy.coordinator.map?.members.map((member) => `${member.id}:${member.state}`)).toEqual(['a:active', 'b:active', 'c:active', 'd:active']);
    expect(cluster.node('d').dump().size).toBeGreaterThan(300);
    expect(await unreadable(proxy, clock, acked)).toEqual([]);

    await clock.run(proxy.coordinator.changeMembership({ add: [], remove: ['a'] }, false));
    for (const [key, value] of await writeKeys(proxy, clock, 'removing-', 100)) acked.set(key, value);
    await waitForChange(proxy, clock, 7);
    expect(proxy.coordinator.map?.members.map((member) => member.id)).toEqual(['b', 'c', 'd']);
    cluster.setFault('a', { down: true });
    cluster.node('a').wipe();
    // And one more node down: every key is still on W of its 3 replicas.
    cluster.setFault('b', { down: true });
    await clock.advance(HEALTH_INTERVAL_MS * 3);
    expect(await unreadable(proxy, clock, acked)).toEqual([]);
    expect(proxy.log.filter((line) => line.startsWith('stalled'))).toEqual([]);
  });

  test('streaming copies the expiry of values that expire: on the new owners they expire as they did', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const proxy = await startProxy(cluster, clock, 'p1');
    const ttlMs = 600_000;
    const written = await clock.run(
      Promise.all(Array.from({ length: 100 }, (_, i) => proxy.coordinator.replicator.set(`ttl-${i}`, `v${i}`, { ttlMs }))),
    );
    cluster.addNode('d');
    await clock.run(proxy.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, false));
    await waitForChange(proxy, clock, 4);
    const copied = [...cluster.node('d').dump()].filter(([key]) => key.startsWith('ttl-'));
    expect(copied.length).toBeGreaterThan(10);
    for (const [key, entry] of copied) expect(entry.expiresAt).toBe(written[Number(key.slice(4))].expiresAt);
    // Reads go to the new owners now; once the time has passed, the keys read as expired there too.
    expect((await clock.run(proxy.coordinator.replicator.get('ttl-0')))?.value).toBe('v0');
    await clock.advance(ttlMs);
    const reads = await clock.run(Promise.all(copied.map(([key]) => proxy.coordinator.replicator.get(key))));
    expect(reads.every((read) => read === undefined)).toBe(true);
  });

  test('a proxy whose map is behind sends a refused request again under the newer map: writes and reads succeed', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const first = await startProxy(cluster, clock, 'p1');
    const second = await startProxy(cluster, clock, 'p2');
    const acked = await writeKeys(second, clock, 'before-', 100);
    cluster.addNode('d');
    await clock.run(first.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, false));
    // The nodes hold epoch 2 and refuse requests of epoch 1; the second proxy has not heard of it yet.
    expect(second.coordinator.map?.epoch).toBe(1);
    const during = await writeKeys(second, clock, 'during-', 100);
    expect(during.size).toBe(100);
    expect(second.coordinator.map?.epoch).toBeGreaterThanOrEqual(2);
    for (const [key, value] of during) acked.set(key, value);
    await waitForChange(first, clock, 4);
    // The first proxy completed the change; reads through the second, still at an older epoch, are sent again too.
    expect(second.coordinator.map?.epoch).toBeLessThan(4);
    expect(await unreadable(second, clock, acked)).toEqual([]);
    expect(second.coordinator.map?.epoch).toBe(4);
  });

  test('a change that no majority of the members answers fails with 503 KV_QUORUM_FAILED, and may still take effect', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const proxy = await startProxy(cluster, clock, 'p1');
    cluster.addNode('d');
    cluster.setFault('b', { down: true });
    cluster.setFault('c', { down: true });
    const error = await clock.run(proxy.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, false).catch((e: unknown) => e));
    expect(error).toMatchObject({ code: 'KV_QUORUM_FAILED', status: 503, details: { acks: 1, required: 2 } });
    expect((error as Error).message).toMatch(/^no majority of the 3 members answered for the cluster map of epoch 2 \(1 did\); the change may still take effect/);
  });

  test("a proxy whose W differs from the map's says so when it takes the map", async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const first = await startProxy(cluster, clock, 'p1');
    const second = await startProxy(cluster, clock, 'p2', { writeQuorum: 3 });
    expect(first.log.filter((line) => line.startsWith('quorums differ'))).toEqual([]);
    expect(second.log).toContain('quorums differ: map W=2, own W=3');
  });

  test('anti-entropy rounds run on the driver only, never during a membership change; any proxy repairs on demand', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const first = await startProxy(cluster, clock, 'p1', { antiEntropyIntervalMs: 1000, streamBytesPerS: 2000 });
    const second = await startProxy(cluster, clock, 'p2', { antiEntropyIntervalMs: 1000 });
    await writeKeys(first, clock, 'k-', 300);
    await clock.advance(2500);
    const rounds = (proxy: Proxy): string[] => proxy.log.filter((line) => line.startsWith('round '));
    expect(rounds(first).length).toBeGreaterThanOrEqual(1);
    expect(rounds(first)[0]).toBe('round done at epoch 1: 0 differences');
    expect(rounds(second)).toEqual([]);
    // A membership change: no round starts while it runs, and one asked for is refused.
    cluster.addNode('d');
    await clock.run(first.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, false));
    const before = rounds(first).length;
    await clock.advance(3000);
    expect(first.coordinator.map?.transition).not.toBeNull();
    expect(rounds(first)).toHaveLength(before);
    expect(() => second.coordinator.repair()).toThrow(expect.objectContaining({ code: 'KV_CHANGE_IN_PROGRESS' }));
    await waitForChange(first, clock, 4);
    await clock.advance(2500);
    expect(rounds(first).length).toBeGreaterThan(before);
    expect(rounds(first).at(-1)).toMatch(/^round done at epoch 4: /);
    // On demand, on the proxy that does not drive.
    const { started, done } = second.coordinator.repair();
    expect(started).toBe(true);
    expect(await clock.run(done)).toMatchObject({ state: 'done', rangesFailed: 0 });
    expect(second.coordinator.repairProgress?.state).toBe('done');
  });

  test('stopping the proxy that drives a change stops the streaming at once; the next proxy resumes it', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    // About 24 KB to stream (two old owners read per range) at 2 KB/s: twelve seconds of streaming.
    const first = await startProxy(cluster, clock, 'p1', { streamBytesPerS: 2000 });
    const acked = await writeKeys(first, clock, 'k-', 300);
    cluster.addNode('d');
    await clock.run(first.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, false));
    await clock.advance(1000);
    expect(first.coordinator.changeProgress?.phase).toBe('copy');
    const stopping = clock.now();
    await clock.run(first.coordinator.stop());
    expect(clock.now() - stopping).toBeLessThan(1000);
    expect(first.log).toContain('stalled: the coordinator is stopping: the change resumes with the next driver');
    const second = await startProxy(cluster, clock, 'p2');
    await waitForChange(second, clock, 4);
    expect(await unreadable(second, clock, acked)).toEqual([]);
  });

  test("a proxy that does not drive the change shows its progress from the gaining nodes' records; the next driver counts on from them", async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const driver = await startProxy(cluster, clock, 'p1', { streamBytesPerS: 2000, rangesPerRound: 4 });
    const other = await startProxy(cluster, clock, 'p2', { streamBytesPerS: 2000, rangesPerRound: 4 });
    await writeKeys(driver, clock, 'k-', 300);
    cluster.addNode('d');
    await clock.run(other.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, false));
    // Until the driver has recorded a round, and the other proxy has read the records since.
    for (let i = 0; i < 100 && !((driver.coordinator.changeProgress?.rangesDone ?? 0) > 0); i++) await clock.advance(100);
    await clock.advance(HEALTH_INTERVAL_MS * 2);
    const driving = driver.coordinator.changeProgress;
    const observed = other.coordinator.changeProgress;
    expect(driving?.rangesDone).toBeGreaterThan(0);
    expect(observed).toMatchObject({ change: driving?.change, rangesTotal: driving?.rangesTotal });
    expect(observed?.rangesDone).toBeGreaterThan(0);
    expect(observed?.rangesDone).toBeLessThanOrEqual(driving?.rangesDone ?? 0);
    expect(observed?.keysStreamed).toBeGreaterThan(0);
    await clock.run(driver.coordinator.stop());
    const recorded = observed?.keysStreamed ?? 0;
    await clock.advance(HEALTH_INTERVAL_MS * 2);
    // The second proxy drives now, from the counts the gaining node recorded.
    expect(other.coordinator.changeProgress?.keysStreamed).toBeGreaterThanOrEqual(recorded);
    await waitForChange(other, clock, 4);
    expect(other.coordinator.changeProgress).toBeUndefined();
  });

  test("a proxy whose MAX_CLOCK_SKEW_MS differs from the nodes' says so once per node", async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const nodeMs = (await clock.run(cluster.status('a'))).maxClockSkewMs;
    const alike = await startProxy(cluster, clock, 'p1', { maxClockSkewMs: nodeMs });
    const apart = await startProxy(cluster, clock, 'p2', { maxClockSkewMs: nodeMs + 5000 });
    await clock.advance(HEALTH_INTERVAL_MS * 5);
    expect(alike.log.filter((line) => line.startsWith('skew setting differs'))).toEqual([]);
    expect(apart.log.filter((line) => line.startsWith('skew setting differs')).sort()).toEqual(
      NODES.map((id) => `skew setting differs: ${id} ${nodeMs}, own ${nodeMs + 5000}`),
    );
  });

  test('a proxy knows each node\'s WAL_SYNC and says once per node and mode when one acknowledges before fsync', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const walSync = new Map<string, 'always' | 'interval' | 'none'>([
      ['a', 'always'],
      ['b', 'interval'],
    ]);
    const proxy = await startProxy(cluster, clock, 'p1', { walSync });
    await clock.advance(HEALTH_INTERVAL_MS * 5);
    expect(NODES.map((id) => proxy.coordinator.syncModeOf(id))).toEqual(['always', 'interval', undefined]);
    expect(proxy.log.filter((line) => line.startsWith('weak sync'))).toEqual(['weak sync: b interval']);
    walSync.set('b', 'none');
    walSync.set('a', 'always');
    await clock.advance(HEALTH_INTERVAL_MS * 5);
    walSync.set('b', 'always');
    await clock.advance(HEALTH_INTERVAL_MS * 5);
    expect(proxy.coordinator.syncModeOf('b')).toBe('always');
    expect(proxy.log.filter((line) => line.startsWith('weak sync'))).toEqual(['weak sync: b interval', 'weak sync: b none']);
  });

  test('a change resumes after its driver died: the next proxy streams only the ranges not yet recorded', async () => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const first = await startProxy(cluster, clock, 'p1');
    const acked = await writeKeys(first, clock, 'k-', 300);
    cluster.addNode('d');
    await clock.run(first.coordinator.changeMembership({ add: [{ id: 'd', url: 'http://d:1' }], remove: [] }, false));
    await clock.run(first.coordinator.stop());
    const second = await startProxy(cluster, clock, 'p2');
    expect(second.coordinator.map?.epoch).toBeGreaterThanOrEqual(2);
    await waitForChange(second, clock, 4);
    expect(await unreadable(second, clock, acked)).toEqual([]);
  });

  test.each([
    ['streams the ranges first: nothing is lost', false],
    ['weakened: switches reads to the new owners without streaming, and loses acknowledged writes', true],
  ])('adding two nodes at once %s', async (_name, skipStreaming) => {
    const clock = new VirtualClock();
    const cluster = new InMemoryCluster(NODES, { clock });
    const proxy = await startProxy(cluster, clock, 'p1', { skipStreaming });
    const acked = await writeKeys(proxy, clock, 'k-', 300);
    cluster.addNode('d');
    cluster.addNode('e');
    const add = [
      { id: 'd', url: 'http://d:1' },
      { id: 'e', url: 'http://e:1' },
    ];
    await clock.run(proxy.coordinator.changeMembership({ add, remove: [] }, false));
    await waitForChange(proxy, clock, 4);
    const missing = await unreadable(proxy, clock, acked);
    if (skipStreaming) expect(missing.length).toBeGreaterThan(0);
    else expect(missing).toEqual([]);
  });
});
