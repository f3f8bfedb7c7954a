import fc from 'fast-check';
import { HashRing } from '@kv/ring';
import { HintReplayer } from './hint-replayer';
import { MemoryHintStore } from './hint-store';
import { InMemoryCluster, type NodeFault } from './in-memory/in-memory-cluster';
import { VirtualClock } from './in-memory/virtual-clock';
import { NodeHealth } from './node-health';
import { QuorumError } from './quorum-error';
import { Replicator } from './replicator';
import { CounterVersions } from './spec-support/harness';
import { seededRandom } from './spec-support/random';
import type { Transport, WriteRequest } from './transport';

interface Operation {
  kind: 'write' | 'read';
  key: string;
  /** Logical times: every invocation and every completion takes the next tick, so real-time order is exact. */
  invokedAt: number;
  completedAt: number;
  /** Version written (acknowledged) or read; `''` for a read that found nothing. */
  version: string;
  ok: boolean;
}

interface RunOptions {
  seed: number;
  nodes: number;
  clients: number;
  opsPerClient: number;
  keys: number;
  faultRate: number;
}

/**
 * Runs concurrent clients against a replicator whose replicas fail at random (down, failing, hanging, slow,
 * losing replies, replying after the deadline), then heals, replays hints and returns the history and final states.
 */
async function run(options: RunOptions) {
  const random = seededRandom(options.seed);
  const nodeIds = Array.from({ length: options.nodes }, (_, i) => `n${i}`);
  const clock = new VirtualClock();
  const cluster = new InMemoryCluster(nodeIds, { clock });
  const timeoutMs = 100;
  cluster.setFaultPolicy((): NodeFault | undefined => {
    if (random() >= options.faultRate) return random() < 0.5 ? { delayMs: Math.floor(random() * 60) } : undefined;
    const pick = random();
    if (pick < 0.25) return { down: true };
    if (pick < 0.4) return { error: true };
    if (pick < 0.55) return { hang: true };
    if (pick < 0.75) return { dropReplies: true };
    return { delayMs: timeoutMs + Math.floor(random() * 100) };
  });
  const issued: WriteRequest[] = [];
  const inner = cluster.transport();
  const transport: Transport = {
    write: (nodeId, request, ms) => {
      if (!issued.includes(request)) issued.push(request);
      return inner.write(nodeId, request, ms);
    },
    read: (nodeId, key, ms) => inner.read(nodeId, key, ms),
  };
  const health = new NodeHealth(nodeIds);
  const hints = new MemoryHintStore();
  const ring = new HashRing(nodeIds, { vnodes: 8 });
  const replicator = new Replicator({ ring, transport, versions: new CounterVersions(), health, hints, timeoutMs });
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);

  let tick = 0;
  const history: Operation[] = [];
  const client = async (): Promise<void> => {
    for (let i = 0; i < options.opsPerClient; i++) {
      const key = keys[Math.floor(random() * keys.length)];
      const kind = random() < 0.5 ? 'write' : 'read';
      const op: Operation = { kind, key, invokedAt: ++tick, completedAt: 0, version: '', ok: false };
      try {
        if (kind === 'write') {
          const result =
            random() < 0.15 ? await replicator.delete(key) : await replicator.set(key, `value-${op.invokedAt}`);
          op.version = result.version;
        } else {
          op.version = (await replicator.read(key))?.version ?? '';
        }
        op.ok = true;
      } catch (error) {
        if (!(error instanceof QuorumError)) throw error;
      }
      op.completedAt = ++tick;
      history.push(op);
      // Health probes now and then, as the proxy's checker does.
      if (random() < 0.2) for (const id of nodeIds) health.report(id, random() > options.faultRate);
    }
  };
  await clock.run(Promise.all(Array.from({ length: options.clients }, client)));
  await clock.runAll();

  cluster.heal();
  for (const id of nodeIds) health.report(id, true);
  const replayer = new HintReplayer({ hints, transport, health, timers: clock, timeoutMs });
  for (let round = 0; hints.count > 0 && round < 50; round++) await clock.run(replayer.replayOnce());
  await clock.runAll();
  return { history, issued, cluster, ring, keys, hints, replicator, clock };
}

function violations(history: Operation[]): string[] {
  const found: string[] = [];
  const acknowledgedWrites = history.filter((op) => op.ok && op.kind === 'write');
  const reads = history.filter((op) => op.ok && op.kind === 'read');
  for (const read of reads) {
    for (const write of acknowledgedWrites) {
      if (write.key === read.key && write.completedAt < read.invokedAt && read.version < write.version) {
        found.push(`read of ${read.key} at ${read.invokedAt} returned ${read.version || 'nothing'}, older than ` +
          `write ${write.version} acknowledged at ${write.completedAt}`);
      }
    }
    for (const earlier of reads) {
      if (earlier.key === read.key && earlier.completedAt < read.invokedAt && read.version < earlier.version) {
        found.push(`read of ${read.key} at ${read.invokedAt} returned ${read.version || 'nothing'}, older than ` +
          `${earlier.version} returned by the read completed at ${earlier.completedAt}`);
      }
    }
  }
  return found;
}

const profile = { numRuns: Number(process.env.QUORUM_PROPERTY_RUNS ?? (process.env.CI === 'true' ? 40 : 60)) };

describe('Replicator under random faults (property)', () => {
  test('reads see every acknowledged write and never go back in time; replicas converge after hint replay', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.constantFrom(3, 5),
        fc.integer({ min: 0, max: 40 }),
        async (seed, nodes, faultPercent) => {
          const outcome = await run({ seed, nodes, clients: 4, opsPerClient: 15, keys: 3, faultRate: faultPercent / 100 });
          expect(violations(outcome.history)).toEqual([]);
          expect(outcome.hints.count).toBe(0);
          for (const key of outcome.keys) {
            const newest = outcome.issued
              .filter((request) => request.key === key)
              .reduce<string | undefined>((max, request) => (max === undefined || request.version > max ? request.version : max), undefined);
            for (const nodeId of outcome.ring.preferenceList(key, 3)) {
              expect({ key, nodeId, version: outcome.cluster.node(nodeId).get(key)?.version }).toEqual({ key, nodeId, version: newest });
            }
          }
          // After healing, every read succeeds and returns the newest version.
          for (const key of outcome.keys) {
            const read = await outcome.clock.run(outcome.replicator.read(key));
            const newest = outcome.cluster.node(outcome.ring.preferenceList(key, 1)[0]).get(key);
            expect(read).toEqual(newest);
          }
        },
      ),
      profile,
    );
  });

  test('concurrent writes to one key converge to the highest version on every replica', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        const outcome = await run({ seed, nodes: 3, clients: 6, opsPerClient: 8, keys: 1, faultRate: 0.3 });
        const newest = outcome.issued.map((request) => request.version).sort().at(-1);
        for (const node of outcome.cluster.nodes.values()) expect(node.get('k0')?.version).toBe(newest);
      }),
      profile,
    );
  });

  test('the checker catches stale reads: with background read repair and r=1 reads go back in time', async () => {
    // The same workload against a weakened replicator must produce violations for some seed, or the checks above
    // could not fail.
    let caught = false;
    for (let seed = 1; seed <= 200 && !caught; seed++) {
      const random = seededRandom(seed);
      const nodeIds = ['a', 'b', 'c'];
      const clock = new VirtualClock();
      const cluster = new InMemoryCluster(nodeIds, { clock });
      cluster.setFaultPolicy(() => (random() < 0.3 ? { down: true } : undefined));
      const replicator = new Replicator({
        ring: new HashRing(nodeIds, { vnodes: 8 }),
        transport: cluster.transport(),
        versions: new CounterVersions(),
        timeoutMs: 100,
        readQuorum: 1,
        writeQuorum: 1,
        readRepair: 'background',
      });
      let tick = 0;
      const history: Operation[] = [];
      for (let i = 0; i < 30; i++) {
        const kind = random() < 0.5 ? 'write' : 'read';
        const op: Operation = { kind, key: 'k', invokedAt: ++tick, completedAt: 0, version: '', ok: false };
        try {
          op.version =
            kind === 'write'
              ? (await clock.run(replicator.set('k', 'v'))).version
              : ((await clock.run(replicator.read('k')))?.version ?? '');
          op.ok = true;
        } catch {
          // quorum failures are expected here
        }
        op.completedAt = ++tick;
        history.push(op);
      }
      caught = violations(history).length > 0;
    }
    expect(caught).toBe(true);
  });
});
