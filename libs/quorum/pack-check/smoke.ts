// Type check of a consumer of the packed @kv/quorum, run by scripts/pack-check.sh against the installed declarations
// (its own and those of @kv/ring, @kv/protocol and @kv/wal it names). The @ts-expect-error lines fail the check if the
// types are missing or widen to `any`.
import { HybridClock } from '@kv/protocol';
import { InMemoryCluster, MemoryHintStore, NodeHealth, QuorumError, Replicator, VirtualClock } from '@kv/quorum';
import type { NodeFault, ReadResult, ReplicaEntry, ReplicatorOptions, Transport, WriteResult } from '@kv/quorum';
import { HashRing } from '@kv/ring';

const nodes = ['node1', 'node2', 'node3'];
const clock = new VirtualClock();
const cluster = new InMemoryCluster(nodes, { clock });
const transport: Transport = cluster.transport();
const options: ReplicatorOptions = {
  ring: new HashRing(nodes),
  transport,
  versions: new HybridClock({ clock, clockId: 'smoke' }),
  health: new NodeHealth(nodes),
  hints: new MemoryHintStore({ hintsMax: 1000 }),
  timers: clock,
};
const replicator = new Replicator(options);
const fault: NodeFault = { down: true };
cluster.setFault('node2', fault);

async function use(): Promise<string | undefined> {
  const written: WriteResult = await clock.run(replicator.set('k', 'v', { w: 2 }));
  const read: ReadResult | undefined = await clock.run(replicator.get('k', { r: 2 }));
  const raw: ReplicaEntry | undefined = await clock.run(replicator.read('k'));
  const tombstone: string | null | undefined = raw?.value;
  try {
    await clock.run(replicator.delete('k'));
  } catch (err) {
    if (err instanceof QuorumError) return `${err.code} ${err.acks}/${err.required} ${written.version} ${tombstone}`;
  }
  return read?.value;
}

// @ts-expect-error a value is a string
replicator.set('k', 42);
// @ts-expect-error the transport is required
new Replicator({ ring: options.ring, versions: options.versions });
// @ts-expect-error acks is a number
const wrong: string = ({} as WriteResult).acks;

export const checked = [use, wrong];
