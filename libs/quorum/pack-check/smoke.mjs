// Smoke test of the packed @kv/quorum through ESM import, run by scripts/pack-check.sh in a folder where the tarball is
// installed with its @kv dependencies. Named imports of a CommonJS package only work if Node can detect its exports,
// which is what this checks.
import assert from 'node:assert/strict';
import { HybridClock } from '@kv/protocol';
import { BatchingTransport, InMemoryCluster, READ_QUORUM_DEFAULT, Replicator, WRITE_QUORUM_DEFAULT } from '@kv/quorum';
import { HashRing } from '@kv/ring';

assert.equal(WRITE_QUORUM_DEFAULT, 2);
assert.equal(READ_QUORUM_DEFAULT, 2);

// On real time, through the batching transport: concurrent writes of different keys share one batch per node.
const nodes = ['node1', 'node2', 'node3'];
const cluster = new InMemoryCluster(nodes);
const replicator = new Replicator({
  ring: new HashRing(nodes),
  transport: new BatchingTransport({ sender: cluster.batchSender() }),
  versions: new HybridClock({ clock: Date, clockId: 'smoke' }),
});

const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
const results = await Promise.all(keys.map((key) => replicator.set(key, `value of ${key}`)));
assert.ok(results.every((result) => result.acks >= 2));
for (const key of keys) assert.equal((await replicator.get(key))?.value, `value of ${key}`);

console.log(`smoke.mjs ok: ${keys.length} keys written and read through BatchingTransport`);
