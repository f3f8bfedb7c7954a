'use strict';
// Smoke test of the packed @kv/ring through require(), run by scripts/pack-check.sh in a folder where the tarball is
// installed: it exercises the published build and its declared dependencies, not the workspace sources.
const assert = require('node:assert/strict');
const { DEFAULT_VNODES, HashRing, diffRings, hashKey, rangeContains } = require('@kv/ring');

assert.match(require.resolve('@kv/ring'), /node_modules[\\/]@kv[\\/]ring[\\/]index\.js$/);

assert.equal(hashKey('123456789'), 0xcbf43926);

const ring = new HashRing(['node3', 'node1', 'node2']);
assert.deepEqual(ring.nodes, ['node1', 'node2', 'node3']);
assert.equal(ring.vnodes, DEFAULT_VNODES);

const list = ring.preferenceList('user:42', 3);
assert.equal(list.length, 3);
assert.equal(new Set(list).size, 3);
assert.equal(list[0], ring.primary('user:42'));

const grown = ring.withNode('node4');
const moves = diffRings(ring, grown);
assert.ok(moves.length > 0);
assert.ok(moves.every((move) => move.to === 'node4'));
for (let i = 0; i < 2000; i++) {
  const key = `key-${i}`;
  const moved = ring.primary(key) !== grown.primary(key);
  assert.equal(moves.some((move) => rangeContains(move, hashKey(key))), moved);
}

assert.throws(() => ring.preferenceList('k', 0), TypeError);
assert.throws(() => new HashRing(['a', 'a']), TypeError);

console.log(`smoke.cjs ok: preference list of user:42 is ${list.join(', ')}`);
