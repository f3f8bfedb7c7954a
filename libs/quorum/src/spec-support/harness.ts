import { decodeVersion, encodeVersion } from '@kv/protocol';
import { HashRing } from '@kv/ring';
import { MemoryHintStore } from '../hint-store';
import { InMemoryCluster } from '../in-memory/in-memory-cluster';
import { VirtualClock } from '../in-memory/virtual-clock';
import { NodeHealth } from '../node-health';
import { Replicator, type ReplicatorOptions } from '../replicator';
import type { VersionSource } from '../transport';

/**
 * Versions for tests: a counter as the version's ms (a valid version, since the in-memory nodes decode batches with
 * the real codec), so string order is numeric order.
 */
export class CounterVersions implements VersionSource {
  issued = 0;

  constructor(private counter = 0) {}

  next(): string {
    this.counter += 1;
    this.issued += 1;
    return format(this.counter);
  }

  observe(version: string): boolean {
    const seen = decodeVersion(version).ms;
    if (seen > this.counter) this.counter = seen;
    return true;
  }
}

/** The version of counter `n`. */
export function format(counter: number): string {
  return encodeVersion({ ms: counter, counter: 0, clockId: 'c' });
}

export interface Harness {
  clock: VirtualClock;
  cluster: InMemoryCluster;
  health: NodeHealth;
  hints: MemoryHintStore;
  versions: CounterVersions;
  replicator: Replicator;
  ring: HashRing;
}

/** A replicator over in-memory nodes on virtual time. */
export function harness(nodeIds: string[] = ['a', 'b', 'c'], options: Partial<ReplicatorOptions> = {}): Harness {
  const clock = new VirtualClock();
  const cluster = new InMemoryCluster(nodeIds, { clock });
  const health = new NodeHealth(nodeIds, { now: () => clock.now() });
  const hints = new MemoryHintStore();
  const versions = new CounterVersions();
  const ring = new HashRing(nodeIds, { vnodes: 16 });
  const replicator = new Replicator({
    ring,
    transport: cluster.transport(),
    versions,
    health,
    hints,
    timeoutMs: 100,
    timers: clock,
    clock,
    ...options,
  });
  return { clock, cluster, health, hints, versions, replicator, ring };
}
