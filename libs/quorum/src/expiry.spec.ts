import { decodeInternalBatch, encodeInternalBatch, encodeVersion, readResultOf, writeOpOf, type InternalOp } from '@kv/protocol';
import { openStore, PowerLossFileSystem } from '@kv/wal';
import { BatchingTransport } from './batching-transport';
import { HintReplayer } from './hint-replayer';
import { MemoryHintStore } from './hint-store';
import { InMemoryCluster, type InMemoryClusterOptions } from './in-memory/in-memory-cluster';
import { MemoryReplicaStore } from './in-memory/memory-replica-store';
import { VirtualClock } from './in-memory/virtual-clock';
import { NodeHealth } from './node-health';
import { ReplicaService } from './replica-service';
import { Replicator, type ReplicatorOptions } from './replicator';
import type { Clock } from './time';
import type { Transport, VersionSource } from './transport';

const KEY = 'session:1';
const SKEW_MS = 60_000;
const TTL_MS = 2_000;

/** Versions from the virtual clock, as a coordinator's hybrid clock makes them: the version's ms is the clock's. */
class ClockVersions implements VersionSource {
  private counter = 0;
  constructor(private readonly clock: Clock) {}
  next(): string {
    this.counter += 1;
    return encodeVersion({ ms: this.clock.now(), counter: this.counter, clockId: 'p' });
  }
  observe(): boolean {
    return true;
  }
}

interface Setup {
  clock: VirtualClock;
  cluster: InMemoryCluster;
  hints: MemoryHintStore;
  replicator: Replicator;
  health: NodeHealth;
}

function setup(options: { cluster?: InMemoryClusterOptions; replicator?: Partial<ReplicatorOptions>; transport?: (cluster: InMemoryCluster) => Transport } = {}): Setup {
  const clock = new VirtualClock();
  const cluster = new InMemoryCluster(['a', 'b', 'c'], { clock, maxClockSkewMs: SKEW_MS, ...options.cluster });
  const hints = new MemoryHintStore();
  const health = new NodeHealth(['a', 'b', 'c'], { now: () => clock.now() });
  const replicator = new Replicator({
    ring: { preferenceList: () => ['a', 'b', 'c'] },
    transport: options.transport?.(cluster) ?? cluster.transport(),
    versions: new ClockVersions(clock),
    health,
    hints,
    timeoutMs: 100,
    timers: clock,
    clock,
    ...options.replicator,
  });
  return { clock, cluster, hints, replicator, health };
}

describe('expiring keys on the coordinator', () => {
  test('a write with a ttl expires ttl after its version, and then reads as not found', async () => {
    const s = setup();
    const written = await s.clock.run(s.replicator.set(KEY, 'v', { ttlMs: TTL_MS }));
    expect(written.expiresAt).toBe(s.clock.now() + TTL_MS);
    await s.clock.runAll();
    // Every replica holds the expiry with the value, under the same version.
    for (const id of ['a', 'b', 'c']) expect(s.cluster.node(id).get(KEY)).toEqual({ value: 'v', version: written.version, expiresAt: written.expiresAt });
    await expect(s.clock.run(s.replicator.get(KEY))).resolves.toEqual({ value: 'v', version: written.version, expiresAt: written.expiresAt });
    await s.clock.advance(TTL_MS - 1);
    await expect(s.clock.run(s.replicator.get(KEY))).resolves.toMatchObject({ value: 'v' });
    await s.clock.advance(1);
    await expect(s.clock.run(s.replicator.get(KEY))).resolves.toBeUndefined();
    // read() still shows the entry as held, expired.
    await expect(s.clock.run(s.replicator.read(KEY))).resolves.toMatchObject({ value: 'v', expiresAt: written.expiresAt });
  });

  test('a write without ttl clears the expiry; an absolute expiry is kept as given; tombstones never expire', async () => {
    const s = setup();
    await s.clock.run(s.replicator.set(KEY, 'v1', { ttlMs: TTL_MS }));
    const plain = await s.clock.run(s.replicator.set(KEY, 'v2'));
    expect(plain.expiresAt).toBeUndefined();
    await s.clock.advance(TTL_MS * 10);
    await expect(s.clock.run(s.replicator.get(KEY))).resolves.toEqual({ value: 'v2', version: plain.version });
    const at = s.clock.now() + 12_345;
    await expect(s.clock.run(s.replicator.set('abs', 'x', { expiresAt: at }))).resolves.toMatchObject({ expiresAt: at });
    const deleted = await s.clock.run(s.replicator.write('gone', null, { ttlMs: TTL_MS }));
    expect(deleted.expiresAt).toBeUndefined();
    expect(s.cluster.node('a').get('gone')).toEqual({ value: null, version: deleted.version });
  });

  test('bulk writes and batched reads: each key with its own expiry, expired ones read as not found', async () => {
    const s = setup({ transport: (cluster) => new BatchingTransport({ sender: cluster.batchSender() }) });
    const results = await s.clock.run(
      s.replicator.writeMany([
        { key: 'short', value: '1', ttlMs: 1_000 },
        { key: 'long', value: '2', ttlMs: 10_000 },
        { key: 'plain', value: '3' },
      ]),
    );
    expect(results.map((r) => ('expiresAt' in r ? r.expiresAt : undefined))).toEqual([s.clock.now() + 1_000, s.clock.now() + 10_000, undefined]);
    await s.clock.advance(1_000);
    const reads = await s.clock.run(Promise.all(['short', 'long', 'plain'].map((key) => s.replicator.get(key))));
    expect(reads.map((r) => r?.value)).toEqual([undefined, '2', '3']);
  });

  test("replicas' clocks far ahead or behind change nothing about what reads see", async () => {
    // Node a runs ahead by almost the allowed skew, node b behind by as much: neither decides anything before expiresAt.
    const s = setup({ cluster: { nodeClockOffsetsMs: { a: SKEW_MS - 1_000, b: -(SKEW_MS - 1_000) } } });
    const written = await s.clock.run(s.replicator.set(KEY, 'v', { ttlMs: TTL_MS }));
    await s.clock.advance(TTL_MS - 1);
    expect([...(await s.cluster.sweepExpired()).values()]).toEqual([0, 0, 0]);
    for (const down of ['a', 'b', 'c']) {
      s.cluster.heal();
      s.cluster.setFault(down, { down: true });
      await expect(s.clock.run(s.replicator.get(KEY))).resolves.toMatchObject({ value: 'v' });
    }
    s.cluster.heal();
    await s.clock.advance(1);
    // Node b's clock says the value has 59 s to live: the reading coordinator's clock decides.
    for (const down of ['a', 'b', 'c']) {
      s.cluster.heal();
      s.cluster.setFault(down, { down: true });
      await expect(s.clock.run(s.replicator.get(KEY))).resolves.toBeUndefined();
    }
    s.cluster.heal();
    expect(s.cluster.node('b').get(KEY)).toEqual({ value: 'v', version: written.version, expiresAt: written.expiresAt });
  });

  test('a replica that converted the value already does not make it vanish for a coordinator: the value wins at an equal version', async () => {
    const s = setup();
    const written = await s.clock.run(s.replicator.set(KEY, 'v', { ttlMs: TTL_MS }));
    // A tombstone at the very version (as a replica whose clock ran far ahead would leave).
    await s.cluster.node('a').store.expire(KEY, written.version);
    await expect(s.clock.run(s.replicator.get(KEY))).resolves.toMatchObject({ value: 'v' });
  });
});

describe('expiring keys on the data nodes', () => {
  test('a node turns an expired value into a tombstone at the same version once its clock passes expiresAt + MAX_CLOCK_SKEW_MS', async () => {
    const s = setup();
    const written = await s.clock.run(s.replicator.set(KEY, 'v', { ttlMs: TTL_MS }));
    await s.clock.runAll();
    expect(s.cluster.node('a').service.expiredKeys()).toBe(0);
    await s.clock.advance(TTL_MS);
    // Expired, not converted yet: stored, but not counted as live.
    expect(s.cluster.node('a').service.expiredKeys()).toBe(1);
    await s.clock.advance(SKEW_MS - 1);
    expect([...(await s.cluster.sweepExpired()).values()]).toEqual([0, 0, 0]);
    await s.clock.advance(1);
    expect([...(await s.cluster.sweepExpired()).values()]).toEqual([1, 1, 1]);
    expect(s.cluster.node('a').service.expiredKeys()).toBe(0);
    for (const id of ['a', 'b', 'c']) expect(s.cluster.node(id).get(KEY)).toEqual({ value: null, version: written.version });
    await expect(s.clock.run(s.replicator.get(KEY))).resolves.toBeUndefined();
    // Nothing left to do; a newer write revives the key.
    expect([...(await s.cluster.sweepExpired()).values()]).toEqual([0, 0, 0]);
    await s.clock.run(s.replicator.set(KEY, 'again'));
    await expect(s.clock.run(s.replicator.get(KEY))).resolves.toMatchObject({ value: 'again' });
  });

  test('a key written again or deleted before its expiry is not converted', async () => {
    const s = setup();
    await s.clock.run(s.replicator.set('rewritten', 'v', { ttlMs: TTL_MS }));
    await s.clock.run(s.replicator.set('rewritten', 'kept'));
    await s.clock.run(s.replicator.set('deleted', 'v', { ttlMs: TTL_MS }));
    const tombstone = await s.clock.run(s.replicator.delete('deleted'));
    await s.clock.advance(TTL_MS + SKEW_MS);
    expect([...(await s.cluster.sweepExpired()).values()]).toEqual([0, 0, 0]);
    expect(s.cluster.node('a').get('rewritten')?.value).toBe('kept');
    expect(s.cluster.node('a').get('deleted')).toEqual({ value: null, version: tombstone.version });
    expect(s.cluster.node('a').service.expiry.size).toBe(0);
  });

  test('a sweep converts a bounded number of values, soonest first', async () => {
    const clock = new VirtualClock();
    const store = new MemoryReplicaStore();
    const service = new ReplicaService({
      nodeId: 'a',
      store,
      keys: [],
      incarnation: '0000000000000001',
      filled: true,
      recordFilled: async () => undefined,
      wall: clock,
      monotonic: clock,
      maxClockSkewMs: 1,
      persistMap: async () => undefined,
      persistStream: async () => undefined,
      expirySweepMax: 2,
    });
    const at = clock.now();
    const ops: InternalOp[] = [3, 1, 2].map((n) => writeOpOf({ key: `k${n}`, value: 'v', version: encodeVersion({ ms: at, counter: n, clockId: 'p' }), expiresAt: at + n }));
    await service.apply(decodeInternalBatch(encodeInternalBatch(ops), { valueBytesMax: 100 }));
    await clock.advance(10);
    await expect(service.sweepExpired()).resolves.toBe(2);
    expect([store.getEntry('k1')?.value, store.getEntry('k2')?.value, store.getEntry('k3')?.value]).toEqual([null, null, 'v']);
    await expect(service.sweepExpired()).resolves.toBe(1);
    expect(store.getEntry('k3')?.value).toBeNull();
  });

  test('expired keys stay expired across a restart: the log replays the expiry, and recovered values are converted', async () => {
    const clock = new VirtualClock();
    const fs = new PowerLossFileSystem();
    const open = () => openStore('/node', { fs, onFatal: () => undefined, logger: { info: () => undefined, warn: () => undefined } });
    const serviceOf = (store: Awaited<ReturnType<typeof open>>): ReplicaService =>
      new ReplicaService({
        nodeId: 'a',
        store,
        keys: [...store.allEntries()].map((entry) => entry.key),
        incarnation: '0000000000000001',
        filled: true,
        recordFilled: async () => undefined,
        wall: clock,
        monotonic: clock,
        maxClockSkewMs: SKEW_MS,
        persistMap: async () => undefined,
        persistStream: async () => undefined,
      });
    const version = encodeVersion({ ms: clock.now(), counter: 1, clockId: 'p' });
    const expiresAt = clock.now() + TTL_MS;
    let store = await open();
    await serviceOf(store).apply(decodeInternalBatch(encodeInternalBatch([writeOpOf({ key: KEY, value: 'v', version, expiresAt })]), { valueBytesMax: 100 }));
    await store.close();

    // Down while the value expires; back later: the replayed value is converted at the first sweep.
    await clock.advance(TTL_MS + SKEW_MS);
    store = await open();
    expect(readResultOf(store.getEntry(KEY))).toEqual([version, 'v', expiresAt]);
    await expect(serviceOf(store).sweepExpired()).resolves.toBe(1);
    await store.close();

    store = await open();
    expect(readResultOf(store.getEntry(KEY))).toEqual([version, null]);
    // The old value delivered again (a hint, a refill) is ignored: the tombstone holds its version.
    const [result] = await serviceOf(store).apply(decodeInternalBatch(encodeInternalBatch([writeOpOf({ key: KEY, value: 'v', version, expiresAt })]), { valueBytesMax: 100 }));
    expect(result).toEqual([0, version]);
    await store.close();
  });

  test('an in-memory node restarted with its data finds its expiring values again', async () => {
    const s = setup();
    await s.clock.run(s.replicator.set(KEY, 'v', { ttlMs: TTL_MS }));
    s.cluster.node('a').restart();
    await s.clock.advance(TTL_MS + SKEW_MS);
    expect((await s.cluster.sweepExpired()).get('a')).toBe(1);
  });
});

describe('an expired key cannot come back', () => {
  test('through a hint: the hint carries the expiry, and the delivered value reads as expired', async () => {
    const s = setup();
    s.cluster.setFault('c', { down: true });
    const written = await s.clock.run(s.replicator.set(KEY, 'v', { ttlMs: TTL_MS }));
    await s.clock.runAll();
    expect(s.hints.pending('c', 10)).toEqual([{ nodeId: 'c', key: KEY, value: 'v', version: written.version, expiresAt: written.expiresAt }]);
    await s.clock.advance(TTL_MS + SKEW_MS);
    await s.cluster.sweepExpired();
    s.cluster.heal();
    const replayer = new HintReplayer({ hints: s.hints, transport: s.cluster.transport(), timers: s.clock });
    await expect(s.clock.run(replayer.replayOnce())).resolves.toMatchObject({ delivered: 1 });
    expect(s.cluster.node('c').get(KEY)).toEqual({ value: 'v', version: written.version, expiresAt: written.expiresAt });
    for (const down of ['a', 'b']) {
      s.cluster.heal();
      s.cluster.setFault(down, { down: true });
      await expect(s.clock.run(s.replicator.get(KEY))).resolves.toBeUndefined();
    }
    s.cluster.heal();
    await s.clock.advance(1);
    expect((await s.cluster.sweepExpired()).get('c')).toBe(1);
  });

  test('through read repair: the repaired copy carries the expiry', async () => {
    const s = setup();
    s.cluster.setFault('c', { down: true });
    const written = await s.clock.run(s.replicator.set(KEY, 'v', { ttlMs: TTL_MS }));
    await s.clock.runAll();
    s.hints.remove(s.hints.pending('c', 10)[0]);
    // c missed the write; a read of a and c repairs c, while a still holds the value (not converted yet).
    s.cluster.heal();
    s.cluster.setFault('b', { down: true });
    await s.clock.advance(TTL_MS);
    await expect(s.clock.run(s.replicator.get(KEY))).resolves.toBeUndefined();
    await s.clock.runAll();
    expect(s.cluster.node('c').get(KEY)).toEqual({ value: 'v', version: written.version, expiresAt: written.expiresAt });
    // Later, whichever replicas a read meets, the key stays expired; c converts it as the others do.
    s.cluster.heal();
    await s.clock.advance(SKEW_MS);
    expect([...(await s.cluster.sweepExpired()).values()]).toEqual([1, 1, 1]);
    for (const down of ['a', 'b', 'c']) {
      s.cluster.heal();
      s.cluster.setFault(down, { down: true });
      await expect(s.clock.run(s.replicator.get(KEY))).resolves.toBeUndefined();
    }
  });

  test('through a refill or streaming: the entries a node lists carry the expiry', async () => {
    const s = setup();
    const written = await s.clock.run(s.replicator.set(KEY, 'v', { ttlMs: TTL_MS }));
    await s.clock.runAll();
    const lines = await s.clock.run(
      (async () => {
        const listed = [];
        for await (const line of s.cluster.entries('a')) listed.push(line);
        return listed;
      })(),
    );
    expect(lines).toEqual([[KEY, written.version, 'v', written.expiresAt]]);
    const ranged = [...s.cluster.node('a').service.entriesIn([{ start: 0, end: 2 ** 32 - 1 }])];
    expect(ranged).toEqual([[KEY, written.version, 'v', written.expiresAt]]);
  });
});
