import fc from 'fast-check';
import { encodeVersion, type ClusterMap } from '@kv/protocol';
import { HashRing, hashKey, rangeContains } from '@kv/ring';
import { AntiEntropy, ringRanges, type AntiEntropyPeers } from './anti-entropy';
import { BatchingTransport, type BatchSender } from './batching-transport';
import { HintReplayer } from './hint-replayer';
import { MemoryHintStore } from './hint-store';
import { InMemoryCluster } from './in-memory/in-memory-cluster';
import { VirtualClock } from './in-memory/virtual-clock';
import { EMPTY_DIGEST, KeyIndex } from './key-index';
import { NodeHealth } from './node-health';
import { Replicator } from './replicator';
import type { VersionSource } from './transport';

const NODES = ['a', 'b', 'c'];
const GRACE_MS = 60_000;
const SKEW_MS = 1_000;
const WHOLE = { start: 0, end: 0 };

const MAP: ClusterMap = {
  epoch: 1,
  members: NODES.map((id) => ({ id, url: `http://${id}:1`, state: 'active' as const })),
  vnodes: 16,
  replicas: 3,
  writeQuorum: 2,
  readQuorum: 2,
  transition: null,
};

/** Versions on the virtual wall clock, so that their age is what the grace period measures. */
function clockVersions(clock: VirtualClock): VersionSource {
  let counter = 0;
  return { next: () => encodeVersion({ ms: clock.now(), counter: counter++ % 1000, clockId: 'c' }), observe: () => true };
}

function setUp(options: { unsafe?: boolean } = {}) {
  const clock = new VirtualClock();
  const cluster = new InMemoryCluster(NODES, { clock });
  const health = new NodeHealth(NODES, { now: () => clock.now() });
  const hints = new MemoryHintStore();
  const transport = cluster.transport();
  const replicator = new Replicator({
    ring: new HashRing(NODES, { vnodes: MAP.vnodes }),
    transport,
    versions: clockVersions(clock),
    health,
    hints,
    timeoutMs: 100,
    timers: clock,
  });
  const peers: AntiEntropyPeers = {
    digests: (id, ranges, buckets) => cluster.digests(id, ranges, buckets),
    versions: (id, ranges, before) => cluster.versions(id, ranges, before),
    purge: (id, epoch, entries) => cluster.purge(id, epoch, entries),
  };
  const antiEntropy = new AntiEntropy({
    peers,
    transport,
    clock,
    timers: clock,
    timeoutMs: 100,
    bytesPerS: 10_000_000,
    pauseMs: 1,
    tombstoneGraceMs: GRACE_MS,
    unsafePurgeWithoutConfirmation: options.unsafe,
  });
  const round = () => clock.run(antiEntropy.round(MAP, () => MAP.epoch));
  return { clock, cluster, health, hints, replicator, antiEntropy, round };
}

async function committed(cluster: InMemoryCluster, clock: VirtualClock): Promise<void> {
  for (const id of NODES) await clock.run(cluster.commitMap(id, MAP));
}

describe('ringRanges', () => {
  test('cover the circle once, each with the preference list of its hashes', () => {
    const ranges = ringRanges(MAP);
    const ring = new HashRing(NODES, { vnodes: MAP.vnodes });
    expect(ranges).toHaveLength(ring.tokenCount);
    const total = ranges.reduce((sum, { range }) => sum + ((range.end - range.start + 2 ** 32) % 2 ** 32), 0);
    expect(total).toBe(2 ** 32);
    for (const { range, replicas } of ranges) expect(replicas).toEqual(ring.preferenceListOfHash((range.start + 1) % 2 ** 32, 3));
  });
});

describe('anti-entropy', () => {
  test('a replica that missed writes whose hints were lost converges after one round', async () => {
    const { clock, cluster, replicator, round } = setUp();
    for (let i = 0; i < 50; i++) await clock.run(replicator.write(`key-${i}`, `old-${i}`));
    cluster.setFault('c', { down: true });
    for (let i = 0; i < 200; i++) await clock.run(replicator.write(`key-${i}`, `new-${i}`));
    for (let i = 0; i < 20; i++) await clock.run(replicator.write(`key-${i}`, null));
    // The hints are never delivered (a lost hint log): only anti-entropy brings c up to date.
    cluster.setFault('c', undefined);
    expect(cluster.node('c').dump()).not.toEqual(cluster.node('a').dump());
    const first = await round();
    expect(first).toMatchObject({ state: 'done', differences: 200, repaired: 200, rangesFailed: 0 });
    expect(cluster.node('c').dump()).toEqual(cluster.node('a').dump());
    expect(cluster.node('b').dump()).toEqual(cluster.node('a').dump());
    const second = await round();
    expect(second).toMatchObject({ state: 'done', differences: 0, repaired: 0 });
  });

  test('a value that expires is repaired with its expiry, so the stale replica cannot hold it forever', async () => {
    const { clock, cluster, replicator, round } = setUp();
    cluster.setFault('c', { down: true });
    const written = clock.now();
    await clock.run(replicator.write('session', 'token', { ttlMs: 3_600_000 }));
    cluster.setFault('c', undefined);
    expect(cluster.node('c').get('session')).toBeUndefined();
    expect(await round()).toMatchObject({ state: 'done', repaired: 1 });
    const held = cluster.node('a').get('session');
    expect(held?.expiresAt).toBe(written + 3_600_000);
    expect(cluster.node('c').get('session')).toEqual(held);
  });

  test('a round restricted to a key range repairs only that range', async () => {
    const { clock, cluster, replicator, antiEntropy } = setUp();
    cluster.setFault('c', { down: true });
    for (let i = 0; i < 100; i++) await clock.run(replicator.write(`key-${i}`, `v-${i}`));
    cluster.setFault('c', undefined);
    const scope = { start: 0, end: 2 ** 31 };
    const progress = await clock.run(antiEntropy.round(MAP, () => 1, scope));
    const inScope = [...cluster.node('a').dump().keys()].filter((key) => ringRanges(MAP, scope).some(({ range }) => new KeyIndexProbe(range).has(key)));
    expect(progress.repaired).toBe(inScope.length);
    expect([...cluster.node('c').dump().keys()].sort()).toEqual(inScope.sort());
  });

  test('replicas hashing pairs differently (a rolling upgrade) differ on every digest, yet a round writes nothing', async () => {
    const { clock, cluster, replicator } = setUp();
    for (let i = 0; i < 200; i++) await clock.run(replicator.write(`key-${i}`, `v-${i}`));
    // The last writes beyond their quorum land too: every replica holds the same pairs.
    await clock.runAll();
    const before = cluster.node('a').dump();
    for (const id of NODES) expect(cluster.node(id).dump()).toEqual(before);
    // Node c answers every digest of a non-empty part under another pair hash: here, each hex digit complemented.
    const otherHash = (digest: string): string =>
      digest === EMPTY_DIGEST ? digest : [...digest].map((digit) => (15 - parseInt(digit, 16)).toString(16)).join('');
    let listed = 0;
    const peers: AntiEntropyPeers = {
      digests: async (id, ranges, buckets) => {
        const answers = await cluster.digests(id, ranges, buckets);
        if (id !== 'c') return answers;
        return answers.map((answer) => ({
          ...answer,
          digest: otherHash(answer.digest),
          buckets: answer.buckets?.map((bucket) => ({ ...bucket, digest: otherHash(bucket.digest) })),
        }));
      },
      versions: (id, ranges, beforeMs) => {
        // Listings for a repair only: tombstone collection lists old tombstones of every range anyway.
        if (beforeMs === undefined) listed += 1;
        return cluster.versions(id, ranges, beforeMs);
      },
      purge: (id, epoch, entries) => cluster.purge(id, epoch, entries),
    };
    const transport = cluster.transport();
    const antiEntropy = new AntiEntropy({ peers, transport, clock, timers: clock, timeoutMs: 100, bytesPerS: 10_000_000, pauseMs: 1, tombstoneGraceMs: GRACE_MS });
    const sent = { ...cluster.calls };
    const progress = await clock.run(antiEntropy.round(MAP, () => MAP.epoch));
    // Every range holding keys was listed on each replica (its digests differ), and every replica listed the same
    // versions: nothing to write.
    const holding = ringRanges(MAP).filter(({ range }) => [...before.keys()].some((key) => rangeContains(range, hashKey(key))));
    expect(listed).toBe(holding.length * NODES.length);
    expect(progress).toMatchObject({ state: 'done', differences: 0, repaired: 0, bytes: 0, rangesFailed: 0 });
    expect(cluster.calls).toMatchObject({ write: sent.write, batch: sent.batch });
    for (const id of NODES) expect(cluster.node(id).dump()).toEqual(before);
  });

  test('refuses to run while a membership change is in progress', () => {
    const { antiEntropy } = setUp();
    const changing: ClusterMap = { ...MAP, transition: { id: 'c2-x', phase: 'copy', add: [], remove: [] } };
    expect(() => antiEntropy.round(changing, () => 1)).toThrow(/in progress/);
  });
});

/** One internal batch the anti-entropy driver sent, as a data node would see it. */
interface SentBatch {
  readonly node: string;
  readonly atMs: number;
  readonly reads: number;
  readonly writes: number;
  /** Bytes of the keys, values and versions of its writes. */
  readonly writeBytes: number;
  /** Operations of the driver in flight on every node when it was sent, this batch included. */
  readonly opsInFlight: number;
  readonly failed: boolean;
}

/**
 * A cluster where c lacks the newest version of `count` keys that a and b hold (values of `valueBytes`), and a driver
 * on the batching transport that the proxies use, whose every batch is recorded; `fail` picks batches that fail whole.
 */
function pacedSetUp(options: {
  count: number;
  /** Keys every replica holds at the same version besides. */
  agreeing?: number;
  valueBytes?: number;
  keysPerS: number;
  bytesPerS?: number;
  fail?: (batch: { node: string; kind: 'read' | 'write'; index: number }) => boolean;
}) {
  const clock = new VirtualClock();
  const cluster = new InMemoryCluster(NODES, { clock });
  const value = 'v'.repeat(options.valueBytes ?? 10);
  for (let i = 0; i < options.count; i++) {
    const key = `key-${i}`;
    cluster.node('c').apply({ key, value: 'old', version: encodeVersion({ ms: clock.now() - 1000, counter: 0, clockId: 'c' }) });
    const version = encodeVersion({ ms: clock.now(), counter: i, clockId: 'c' });
    for (const id of ['a', 'b']) cluster.node(id).apply({ key, value, version });
  }
  for (let i = 0; i < (options.agreeing ?? 0); i++) {
    for (const id of NODES) cluster.node(id).apply({ key: `same-${i}`, value: 'v', version: encodeVersion({ ms: clock.now(), counter: i, clockId: 'c' }) });
  }
  const sent: SentBatch[] = [];
  const listed = { keys: 0 };
  const counts = { read: 0, write: 0 };
  let opsInFlight = 0;
  const inner = cluster.batchSender();
  const sender: BatchSender = {
    send: async (node, batch, timeoutMs) => {
      const reads = batch.ops.filter((op) => op[0] === 'g').length;
      const kind = reads === batch.ops.length ? 'read' : 'write';
      const failed = options.fail?.({ node, kind, index: counts[kind]++ }) ?? false;
      let writeBytes = 0;
      for (const op of batch.ops) if (op[0] === 's') writeBytes += op[1].length + op[2].length + op[3].length;
      opsInFlight += batch.ops.length;
      sent.push({ node, atMs: clock.now(), reads, writes: batch.ops.length - reads, writeBytes, opsInFlight, failed });
      try {
        if (failed) throw new Error(`batch to ${node} failed`);
        return await inner.send(node, batch, timeoutMs);
      } finally {
        opsInFlight -= batch.ops.length;
      }
    },
  };
  const transport = new BatchingTransport({ sender, clock, schedule: (callback) => clock.setTimeout(callback, 0) });
  const antiEntropy = new AntiEntropy({
    peers: {
      digests: (id, ranges, buckets) => cluster.digests(id, ranges, buckets),
      versions: async (id, ranges, before) => {
        const lines = await cluster.versions(id, ranges, before);
        listed.keys += lines.length;
        return lines;
      },
      purge: (id, epoch, entries) => cluster.purge(id, epoch, entries),
    },
    transport,
    clock,
    timers: clock,
    timeoutMs: 100,
    bytesPerS: options.bytesPerS ?? 100_000_000,
    keysPerS: options.keysPerS,
    pauseMs: 0,
    tombstoneGraceMs: 0,
  });
  const round = async () => {
    const started = clock.now();
    const progress = await clock.run(antiEntropy.round(MAP, () => MAP.epoch));
    return { progress, elapsedMs: clock.now() - started };
  };
  return { clock, cluster, sent, listed, round };
}

/** The most of `amount` over the sent batches that fall in any window of `windowMs` (each window opening at a batch). */
function mostInWindow(sent: readonly SentBatch[], windowMs: number, amount: (batch: SentBatch) => number): number {
  let most = 0;
  for (const first of sent) {
    const total = sent.filter((batch) => batch.atMs >= first.atMs && batch.atMs < first.atMs + windowMs).reduce((sum, batch) => sum + amount(batch), 0);
    most = Math.max(most, total);
  }
  return most;
}

describe('anti-entropy pacing', () => {
  test('many differences: read and written in small batches at no more than ANTI_ENTROPY_KEYS_PER_S, converged in one round', async () => {
    const { cluster, sent, round } = pacedSetUp({ count: 3000, keysPerS: 500 });
    const { progress, elapsedMs } = await round();
    expect(progress).toMatchObject({ state: 'done', differences: 3000, repaired: 3000, rangesFailed: 0 });
    expect(cluster.node('c').dump()).toEqual(cluster.node('a').dump());
    // 3000 keys at 500 keys/s: about 6 s, not a burst.
    expect(elapsedMs).toBeGreaterThanOrEqual(5800);
    expect(elapsedMs).toBeLessThan(6500);
    // Batches of 20 ms of the rate (10 keys): reads in batches, not one request per key; one batch at a time.
    const reads = sent.filter((batch) => batch.reads > 0);
    expect(reads.reduce((sum, batch) => sum + batch.reads, 0)).toBe(3000);
    expect(Math.max(...reads.map((batch) => batch.reads))).toBe(10);
    expect(reads.length).toBeLessThanOrEqual(600);
    expect(Math.max(...sent.map((batch) => batch.opsInFlight))).toBeLessThanOrEqual(10);
    // In any second, at most the rate and one batch ahead of it.
    expect(mostInWindow(sent, 1000, (batch) => batch.reads)).toBeLessThanOrEqual(510);
    expect(mostInWindow(sent, 1000, (batch) => batch.writes)).toBeLessThanOrEqual(510);
    // Spread evenly: no tenth of a second carries more than a tenth of the rate and one batch.
    expect(mostInWindow(sent, 100, (batch) => batch.reads)).toBeLessThanOrEqual(60);
    const second = await round();
    expect(second.progress).toMatchObject({ state: 'done', differences: 0, repaired: 0 });
  });

  test('only the digest cells that differ are listed, not every key of a range that differs', async () => {
    const { cluster, listed, round } = pacedSetUp({ count: 5, agreeing: 20_000, keysPerS: 1000 });
    const { progress } = await round();
    expect(progress).toMatchObject({ state: 'done', differences: 5, repaired: 5 });
    expect(cluster.node('c').dump()).toEqual(cluster.node('a').dump());
    // Five cells of 2^16 hashes, about 0.3 keys each besides the key that differs, on three replicas.
    expect(listed.keys).toBeGreaterThanOrEqual(15);
    expect(listed.keys).toBeLessThan(60);
  });

  test('large values: written at no more than ANTI_ENTROPY_BYTES_PER_S, and the reads wait for the writes they feed', async () => {
    const { cluster, sent, round } = pacedSetUp({ count: 300, valueBytes: 1000, keysPerS: 1_000_000, bytesPerS: 50_000 });
    const { progress, elapsedMs } = await round();
    expect(progress).toMatchObject({ state: 'done', differences: 300, repaired: 300 });
    expect(cluster.node('c').dump()).toEqual(cluster.node('a').dump());
    const total = sent.reduce((sum, batch) => sum + batch.writeBytes, 0);
    expect(progress.bytes).toBe(total);
    expect(elapsedMs).toBeGreaterThanOrEqual(((total - 50_000) / 50_000) * 1000);
    // In any second, at most the rate and one write of slack (a write holds 20 ms of the rate: one entry here).
    expect(mostInWindow(sent, 1000, (batch) => batch.writeBytes)).toBeLessThanOrEqual(50_000 + 1100);
    // Reads run at most one batch (64 keys) ahead of the writes.
    let read = 0;
    let written = 0;
    for (const batch of sent) {
      read += batch.reads;
      written += batch.writes;
      expect(read - written).toBeLessThanOrEqual(64);
    }
  });

  test('a batch of reads or writes that fails mid-round is counted, the rest of the round goes on, and the next round repairs it', async () => {
    const { cluster, sent, round } = pacedSetUp({
      count: 600,
      keysPerS: 1000,
      fail: ({ node, kind, index }) => (kind === 'read' && index === 3) || (kind === 'write' && node === 'c' && index === 7),
    });
    const first = await round();
    const failedReads = sent.filter((batch) => batch.failed && batch.reads > 0).reduce((sum, batch) => sum + batch.reads, 0);
    const failedWrites = sent.filter((batch) => batch.failed && batch.writes > 0).reduce((sum, batch) => sum + batch.writes, 0);
    // One batch each (at most 20 ms of the rate: 20 keys), in the middle of the round.
    for (const failed of [failedReads, failedWrites]) {
      expect(failed).toBeGreaterThan(0);
      expect(failed).toBeLessThanOrEqual(20);
    }
    expect(first.progress).toMatchObject({ state: 'failed', differences: 600, repaired: 600 - failedReads - failedWrites });
    expect(first.progress.rangesFailed).toBeGreaterThanOrEqual(1);
    expect(first.progress.rangesFailed).toBeLessThanOrEqual(2);
    expect(first.progress.rangesDone).toBe(first.progress.rangesTotal);
    const lagging = [...cluster.node('a').dump()].filter(([key, entry]) => cluster.node('c').get(key)?.version !== entry.version);
    expect(lagging).toHaveLength(failedReads + failedWrites);
    const second = await round();
    expect(second.progress).toMatchObject({ state: 'done', differences: failedReads + failedWrites, repaired: failedReads + failedWrites, rangesFailed: 0 });
    expect(cluster.node('c').dump()).toEqual(cluster.node('a').dump());
  });
});

describe('tombstone collection', () => {
  test('old tombstones confirmed on every replica are purged everywhere; young ones and values stay', async () => {
    const { clock, cluster, replicator, round } = setUp();
    await committed(cluster, clock);
    await clock.run(replicator.write('old', 'v'));
    await clock.run(replicator.write('old', null));
    await clock.run(replicator.write('kept', 'v'));
    await clock.advance(GRACE_MS + 1);
    await clock.run(replicator.write('young', null));
    const progress = await round();
    expect(progress.purged).toBe(1);
    for (const id of NODES) {
      expect(cluster.node(id).get('old')).toBeUndefined();
      expect(cluster.node(id).get('young')?.value).toBeNull();
      expect(cluster.node(id).get('kept')?.value).toBe('v');
    }
  });

  test('a tombstone is not purged while one replica is down or cannot be given it', async () => {
    const { clock, cluster, replicator, round } = setUp();
    await committed(cluster, clock);
    await clock.run(replicator.write('k', 'v'));
    cluster.setFault('c', { down: true });
    await clock.run(replicator.write('k', null));
    await clock.advance(GRACE_MS + 1);
    expect((await round()).purged).toBe(0);
    for (const id of ['a', 'b']) expect(cluster.node(id).get('k')?.value).toBeNull();
    // c answers digests and listings but every write to it fails: it never holds the tombstone, so nothing goes.
    cluster.setFault('c', undefined);
    cluster.setFaultPolicy((id, kind) => (id === 'c' && kind === 'write' ? { error: true } : undefined));
    const failing = await round();
    expect(failing).toMatchObject({ purged: 0, state: 'failed' });
    for (const id of ['a', 'b']) expect(cluster.node(id).get('k')?.value).toBeNull();
    expect(cluster.node('c').get('k')?.value).toBe('v');
    cluster.heal();
    expect((await round()).purged).toBe(1);
    for (const id of NODES) expect(cluster.node(id).get('k')).toBeUndefined();
  });

  test('purges are refused by a node under another map or during a membership change', async () => {
    const { clock, cluster } = setUp();
    await expect(clock.run(cluster.purge('a', 1, [['k', 'v']]))).rejects.toMatchObject({ code: 'KV_STALE_EPOCH' });
    await committed(cluster, clock);
    await expect(clock.run(cluster.purge('a', 2, [['k', 'v']]))).rejects.toMatchObject({ code: 'KV_STALE_EPOCH' });
  });

  test('a member that is not a replica of the key must answer too, and loses its older copy with the purge', async () => {
    const clock = new VirtualClock();
    const ids = [...NODES, 'd'];
    const map4: ClusterMap = { ...MAP, members: ids.map((id) => ({ id, url: `http://${id}:1`, state: 'active' as const })) };
    const cluster = new InMemoryCluster(ids, { clock });
    for (const id of ids) await clock.run(cluster.commitMap(id, map4));
    const ring = new HashRing(ids, { vnodes: map4.vnodes });
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => !ring.preferenceList(k, 3).includes('d')) as string;
    const [old, deleted] = [encodeVersion({ ms: clock.now(), counter: 0, clockId: 'c' }), encodeVersion({ ms: clock.now(), counter: 1, clockId: 'c' })];
    // d kept a copy from when it owned the key; the replicas hold the tombstone.
    cluster.node('d').apply({ key, value: 'stale', version: old });
    for (const id of ring.preferenceList(key, 3)) cluster.node(id).apply({ key, value: null, version: deleted });
    const antiEntropy = new AntiEntropy({
      peers: {
        digests: (id, ranges, buckets) => cluster.digests(id, ranges, buckets),
        versions: (id, ranges, before) => cluster.versions(id, ranges, before),
        purge: (id, epoch, entries) => cluster.purge(id, epoch, entries),
      },
      transport: cluster.transport(),
      clock,
      timers: clock,
      timeoutMs: 100,
      bytesPerS: 10_000_000,
      pauseMs: 0,
      tombstoneGraceMs: GRACE_MS,
    });
    await clock.advance(GRACE_MS + 1);
    cluster.setFault('d', { down: true });
    expect((await clock.run(antiEntropy.round(map4, () => 1))).purged).toBe(0);
    cluster.setFault('d', undefined);
    const second = await clock.run(antiEntropy.round(map4, () => 1));
    expect(second).toMatchObject({ purged: 1, rangesFailed: 0 });
    for (const id of ids) expect(cluster.node(id).get(key)).toBeUndefined();
  });

  /** The zombie case: a node down past the grace period, holding a value deleted meanwhile, comes back. */
  async function zombie(unsafe: boolean): Promise<{ read: string | null | undefined; expired: number }> {
    const { clock, cluster, health, hints, replicator, round } = setUp({ unsafe });
    await committed(cluster, clock);
    await clock.run(replicator.write('k', 'alive'));
    cluster.setFault('c', { down: true });
    for (let i = 0; i < 5; i++) health.report('c', false);
    await clock.run(replicator.write('k', null));
    expect(hints.count).toBe(1);
    await clock.advance(GRACE_MS + SKEW_MS + 1);
    await round();
    // c comes back: its hint is older than the grace minus the skew, so it is dropped, not delivered.
    cluster.setFault('c', undefined);
    health.report('c', true);
    let expired = 0;
    const replayer = new HintReplayer({ hints, transport: cluster.transport(), health, timers: clock, clock, maxAgeMs: GRACE_MS - SKEW_MS, onExpired: () => (expired += 1) });
    await clock.run(replayer.replayOnce());
    await round();
    await round();
    const read = await clock.run(replicator.read('k'));
    return { read: read?.value, expired };
  }

  test('a node down past the grace period never resurrects a deleted value; its old hint is dropped', async () => {
    const { read, expired } = await zombie(false);
    expect(expired).toBe(1);
    expect(read ?? null).toBeNull();
  });

  test('the weakened build (purge without confirmation) resurrects it, which the test above would catch', async () => {
    const { read } = await zombie(true);
    expect(read).toBe('alive');
  });
});

describe('digests on a replica', () => {
  test('stay equal to a from-scratch computation after random writes and purges (property)', async () => {
    const op = fc.record({
      key: fc.integer({ min: 0, max: 60 }),
      kind: fc.constantFrom('set', 'delete', 'purge'),
      ms: fc.integer({ min: 1, max: 50 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 300 }), async (ops) => {
        const clock = new VirtualClock();
        const cluster = new InMemoryCluster(['a'], { clock });
        await clock.run(cluster.commitMap('a', { ...MAP, members: [MAP.members[0]], replicas: 1, writeQuorum: 1, readQuorum: 1 }));
        const node = cluster.node('a');
        for (const { key, kind, ms } of ops) {
          const version = encodeVersion({ ms, counter: 0, clockId: 'c' });
          if (kind === 'purge') await node.service.purge(1, [[`k${key}`, version]]);
          else await node.service.apply([kind === 'set' ? ['s', `k${key}`, 'v', version] : ['d', `k${key}`, version]]);
        }
        const fresh = new KeyIndex();
        for (const [key, entry] of node.dump()) fresh.record(key, entry.version);
        const [digest] = node.service.digests([WHOLE], true);
        expect({ digest: digest.digest, keys: digest.keys }).toEqual(fresh.digest(WHOLE));
        expect(digest.buckets).toEqual(fresh.bucketDigests(WHOLE));
      }),
      { numRuns: 60 },
    );
  });
});

/** Whether a key hashes into a range. */
class KeyIndexProbe {
  private readonly index = new KeyIndex();
  constructor(private readonly range: { start: number; end: number }) {}
  has(key: string): boolean {
    this.index.record(key, 'v');
    const found = [...this.index.keysIn(this.range)].includes(key);
    this.index.record(key, undefined);
    return found;
  }
}
