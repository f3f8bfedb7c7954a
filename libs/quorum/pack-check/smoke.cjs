'use strict';
// Smoke test of the packed @kv/quorum through require(), run by scripts/pack-check.sh in a folder where the tarball is
// installed together with the packed @kv/ring, @kv/protocol and @kv/wal it depends on: a Replicator over the exported
// InMemoryCluster, on virtual time, with one replica down and then two.
const assert = require('node:assert/strict');
const { HybridClock } = require('@kv/protocol');
const { InMemoryCluster, MemoryHintStore, NodeHealth, QuorumError, Replicator, VirtualClock, replicaStates } = require('@kv/quorum');
const { HashRing } = require('@kv/ring');

assert.match(require.resolve('@kv/quorum'), /node_modules[\\/]@kv[\\/]quorum[\\/]index\.js$/);

(async () => {
  const nodes = ['node1', 'node2', 'node3'];
  const clock = new VirtualClock();
  const cluster = new InMemoryCluster(nodes, { clock });
  const health = new NodeHealth(nodes);
  const hints = new MemoryHintStore();
  const replicator = new Replicator({
    ring: new HashRing(nodes),
    transport: cluster.transport(),
    versions: new HybridClock({ clock, clockId: 'smoke' }),
    health,
    hints,
    timeoutMs: 100,
    timers: clock,
  });

  const first = await clock.run(replicator.set('user:42', 'Ada'));
  assert.equal(first.acks, 2);
  assert.match(first.version, /^[0-9a-f]{12}-[0-9a-f]{4}-smoke$/);
  assert.deepEqual(await clock.run(replicator.get('user:42')), { value: 'Ada', version: first.version });

  // One replica down: W = 2 is still met, and the write it missed becomes a hint.
  cluster.setFault('node2', { down: true });
  health.report('node2', false);
  const second = await clock.run(replicator.set('user:42', 'Grace'));
  assert.equal(second.acks, 2);
  assert.deepEqual(
    hints.pending('node2', 10).map((hint) => [hint.key, hint.value]),
    [['user:42', 'Grace']],
  );
  assert.equal((await clock.run(replicator.get('user:42'))).value, 'Grace');

  // Two replicas down: no quorum, a typed error with the counts.
  cluster.setFault('node3', { down: true });
  await assert.rejects(clock.run(replicator.set('user:42', 'Lovelace')), (err) => {
    assert.ok(err instanceof QuorumError);
    assert.equal(err.code, 'KV_QUORUM_FAILED');
    assert.equal(err.required, 2);
    return true;
  });

  cluster.heal();
  await clock.run(replicator.delete('user:42'));
  assert.equal(await clock.run(replicator.get('user:42')), undefined);
  const states = replicaStates(cluster, 'user:42');
  assert.equal(states.size, 3);
  console.log(`smoke.cjs ok: ${first.version} .. ${second.version}, ${cluster.calls.write} writes and ${cluster.calls.read} reads sent`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
