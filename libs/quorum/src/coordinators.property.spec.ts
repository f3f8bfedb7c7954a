import fc from 'fast-check';
import { HashRing } from '@kv/ring';
import { BatchingTransport } from './batching-transport';
import { CoordinatorVersions } from './coordinator-versions';
import { HintReplayer } from './hint-replayer';
import { MemoryHintStore } from './hint-store';
import { InMemoryCluster, type NodeFault } from './in-memory/in-memory-cluster';
import { VirtualClock } from './in-memory/virtual-clock';
import { NodeHealth } from './node-health';
import { QuorumError } from './quorum-error';
import { Replicator, type ReplicatorOptions } from './replicator';
import { seededRandom } from './spec-support/random';
import { versionViolations, type VersionedOp } from './spec-support/versioned-history';

interface RunOptions {
  seed: number;
  coordinators: number;
  clients: number;
  opsPerClient: number;
  keys: number;
  faultRate: number;
  /** Largest clock offset of a coordinator, in ms, either way; offsets change during the run. */
  skewMs: number;
  /** Test-only weakenings that the check must catch. */
  weakened?: { sameClockId?: boolean; supersededWrites?: ReplicatorOptions['supersededWrites']; assumeAlone?: boolean };
}

/**
 * Several coordinators, each with its own clock (offset from the others, stepped during the run), hints and health,
 * over one in-memory cluster whose calls fail at random; clients spread their operations over the coordinators.
 */
async function run(options: RunOptions): Promise<{ history: VersionedOp[]; converged: boolean }> {
  const random = seededRandom(options.seed);
  const nodeIds = ['n0', 'n1', 'n2'];
  const clock = new VirtualClock();
  const cluster = new InMemoryCluster(nodeIds, { clock });
  const timeoutMs = 100;
  cluster.setFaultPolicy((): NodeFault | undefined => {
    if (random() >= options.faultRate) return random() < 0.5 ? { delayMs: Math.floor(random() * 60) } : undefined;
    const pick = random();
    if (pick < 0.3) return { down: true };
    if (pick < 0.5) return { hang: true };
    if (pick < 0.75) return { dropReplies: true };
    return { delayMs: timeoutMs + Math.floor(random() * 100) };
  });
  const ring = new HashRing(nodeIds, { vnodes: 8 });
  const offsets = Array.from({ length: options.coordinators }, () => Math.round((random() * 2 - 1) * options.skewMs));
  const coordinators = offsets.map((_, i) => {
    const versions = new CoordinatorVersions({
      clockId: options.weakened?.sameClockId === true ? 'proxy' : `c${i}`,
      clock: { now: () => clock.now() + offsets[i] },
      floor: undefined,
      driftMsMax: 4 * Math.max(options.skewMs, 1000),
    });
    const health = new NodeHealth(nodeIds, { now: () => clock.now() });
    const hints = new MemoryHintStore();
    const transport = random() < 0.5 ? cluster.transport() : new BatchingTransport({ sender: cluster.batchSender(), clock, schedule: (f) => void Promise.resolve().then(f) });
    const replicator = new Replicator({
      ring,
      transport,
      versions,
      health,
      hints,
      timeoutMs,
      timers: clock,
      alone: () => options.weakened?.assumeAlone === true,
      supersededWrites: options.weakened?.supersededWrites,
    });
    return { replicator, health, hints, transport };
  });
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);
  let tick = 0;
  let written = 0;
  const history: VersionedOp[] = [];
  const client = async (): Promise<void> => {
    for (let i = 0; i < options.opsPerClient; i++) {
      if (random() < 0.1) {
        // A clock stepped while running.
        const which = Math.floor(random() * offsets.length);
        offsets[which] = Math.round((random() * 2 - 1) * options.skewMs);
      }
      const coordinator = coordinators[Math.floor(random() * coordinators.length)];
      const key = keys[Math.floor(random() * keys.length)];
      const kind = random() < 0.5 ? 'write' : 'read';
      const op: VersionedOp = { kind, key, value: null, invokedAt: ++tick, completedAt: 0, version: '', ok: false };
      if (kind === 'write') op.value = `v${++written}`;
      try {
        if (kind === 'write') op.version = (await coordinator.replicator.set(key, op.value as string)).version;
        else {
          const entry = await coordinator.replicator.read(key);
          op.version = entry?.version ?? '';
          op.value = entry?.value ?? null;
        }
        op.ok = true;
      } catch (error) {
        if (!(error instanceof QuorumError)) throw error;
      }
      op.completedAt = ++tick;
      history.push(op);
      if (random() < 0.2) for (const id of nodeIds) coordinator.health.report(id, random() > options.faultRate);
    }
  };
  await clock.run(Promise.all(Array.from({ length: options.clients }, client)));
  await clock.runAll();

  cluster.heal();
  for (const c of coordinators) {
    for (const id of nodeIds) c.health.report(id, true);
    const replayer = new HintReplayer({ hints: c.hints, transport: c.transport, health: c.health, timers: clock, timeoutMs });
    for (let round = 0; c.hints.count > 0 && round < 50; round++) await clock.run(replayer.replayOnce());
  }
  await clock.runAll();
  // A final read of every key through each coordinator: part of the history.
  for (const key of keys) {
    for (const c of coordinators) {
      const op: VersionedOp = { kind: 'read', key, value: null, invokedAt: ++tick, completedAt: 0, version: '', ok: true };
      const entry = await clock.run(c.replicator.read(key));
      op.version = entry?.version ?? '';
      op.value = entry?.value ?? null;
      op.completedAt = ++tick;
      history.push(op);
    }
  }
  await clock.runAll();
  const converged = keys.every((key) => {
    const states = nodeIds.map((id) => cluster.node(id).get(key)?.version);
    return states.every((version) => version === states[0]);
  });
  return { history, converged };
}

const SEED = Number(process.env.KV_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const profile = { seed: SEED, numRuns: Number(process.env.QUORUM_PROPERTY_RUNS ?? (process.env.CI === 'true' ? 40 : 60)) };

beforeAll(() => {
  process.stdout.write(`several coordinators (property): seed ${SEED} (replay with KV_PROPERTY_SEED=${SEED})\n`);
});

describe('several coordinators with skewed clocks, under random faults (property)', () => {
  test('linearizable per key (writes in two phases), and replicas converge', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.constantFrom(2, 3), fc.integer({ min: 0, max: 30 }), fc.constantFrom(0, 50, 5000), async (seed, n, faults, skewMs) => {
        const outcome = await run({
          seed,
          coordinators: n,
          clients: 5,
          opsPerClient: 12,
          keys: 2,
          faultRate: faults / 100,
          skewMs,
        });
        const found = versionViolations(outcome.history);
        if (found.length > 0) process.stdout.write(JSON.stringify({ found, history: outcome.history.filter((op) => op.key === found[0].split(':')[0]) }) + '\n');
        expect(found).toEqual([]);
        expect(outcome.converged).toBe(true);
      }),
      profile,
    );
  });

  test.each([
    ['acknowledging writes found behind a newer version (the old rule)', { supersededWrites: 'acknowledge' as const }],
    ['two coordinators with the same clock id (equal versions for different values)', { sameClockId: true }],
    ['coordinators that each believe they are alone (one-phase writes with others live)', { assumeAlone: true }],
  ])('the check catches a weakened build: %s', async (_name, weakened) => {
    let caught: string[] = [];
    for (let seed = 1; seed <= 300 && caught.length === 0; seed++) {
      const outcome = await run({
        seed,
        coordinators: 2,
        clients: 6,
        opsPerClient: 12,
        keys: 1,
        faultRate: 0.1,
        skewMs: 'sameClockId' in weakened ? 0 : 5000,
        weakened: { assumeAlone: true, ...weakened },
      });
      caught = versionViolations(outcome.history);
    }
    expect(caught.length).toBeGreaterThan(0);
  });
});
