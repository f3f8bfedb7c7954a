// Coordinator overhead per operation: the replicator (N=3, W=2, R=2) over in-memory replicas that answer at once, so
// the figure is the cost of the coordinator's own logic (preference list, versions, fan-out, quorum counting, read
// merge, batching and serialization), with no network or disk: wall time per operation, or CPU time when larger. Run: npx tsx --tsconfig tsconfig.base.json libs/quorum/bench/coordinator.bench.ts
import { performance } from 'node:perf_hooks';
import { HashRing } from '@kv/ring';
import type { InternalOpResult } from '@kv/protocol';
import {
  BatchingTransport,
  InMemoryNode,
  NodeHealth,
  Replicator,
  type BatchSender,
  type OutgoingBatch,
  type Transport,
  type VersionSource,
  type WriteRequest,
} from '../src/index';

/** Replicas in memory that answer at once (no timers): what is left to measure is the coordinator. */
function immediateReplicas(nodes: string[]): { transport: Transport; sender: BatchSender } {
  const replicas = new Map(nodes.map((id) => [id, new InMemoryNode(id, { now: () => Date.now() })]));
  const node = (id: string): InMemoryNode => replicas.get(id) as InMemoryNode;
  const transport: Transport = {
    write: (id, request) => Promise.resolve(node(id).apply(request)),
    read: (id, key) => Promise.resolve(node(id).get(key)),
  };
  const sender: BatchSender = {
    send: (id: string, batch: OutgoingBatch) => {
      batch.bytes(); // a real sender encodes each batch once
      return Promise.resolve(
        batch.ops.map((op): InternalOpResult => {
          if (op[0] === 'g') {
            const entry = node(id).get(op[1]);
            return entry === undefined ? null : [entry.version, entry.value];
          }
          const request: WriteRequest = op[0] === 's' ? { key: op[1], value: op[2], version: op[3] } : { key: op[1], value: null, version: op[2] };
          const reply = node(id).apply(request);
          return [reply.applied ? 1 : 0, reply.version];
        }),
      );
    },
  };
  return { transport, sender };
}

const OPS = Number(process.env.OPS ?? 200_000);
const CONCURRENCY = 64;
const ROUNDS = 5;

class Versions implements VersionSource {
  private n = 0;
  next(): string {
    this.n += 1;
    return `0000${this.n.toString(16).padStart(8, '0')}-0000-bench`;
  }
  observe(): boolean {
    return true; // the bench issues every version itself
  }
}

async function measure(name: string, transport: Transport, op: 'set' | 'get', nodes: string[]): Promise<number> {
  const replicator = new Replicator({
    ring: new HashRing(nodes),
    transport,
    versions: new Versions(),
    health: new NodeHealth(nodes),
    timeoutMs: 10_000,
  });
  const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i.toString().padStart(8, '0')}`);
  if (op === 'get') await Promise.all(keys.map((key) => replicator.set(key, 'v'.repeat(100))));
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let next = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < OPS) {
        const key = keys[next++ % keys.length];
        if (op === 'set') await replicator.set(key, 'v'.repeat(100));
        else await replicator.get(key);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const used = process.cpuUsage(cpu);
    samples.push(Math.max(performance.now() - started, (used.user + used.system) / 1000) / OPS);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  console.log(`${name.padEnd(40)} ${op}  ${(1000 * median).toFixed(2).padStart(6)} us/op  ${Math.round(1000 / median).toLocaleString('en-US').padStart(10)} ops/s`);
  return median;
}

async function main(): Promise<void> {
  const nodes = ['node1', 'node2', 'node3'];
  console.log(`coordinator overhead, ${OPS} operations per round, ${CONCURRENCY} concurrent, median of ${ROUNDS} rounds`);
  for (const op of ['set', 'get'] as const) {
    await measure('one call per operation and replica', immediateReplicas(nodes).transport, op, nodes);
    await measure('batching transport', new BatchingTransport({ sender: immediateReplicas(nodes).sender }), op, nodes);
  }
}

void main();
