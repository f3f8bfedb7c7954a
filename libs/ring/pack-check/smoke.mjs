// Smoke test of the packed @kv/ring through ESM import, run by scripts/pack-check.sh in a folder where the tarball is
// installed. Named imports of a CommonJS package only work if Node can detect its exports, which is what this checks.
import assert from 'node:assert/strict';
import { DEFAULT_VNODES, HashRing, VNODES_MAX, diffRings, hashKey, rangeSize } from '@kv/ring';

assert.equal(DEFAULT_VNODES, 128);
assert.equal(VNODES_MAX, 4096);
assert.equal(hashKey('é'), 0x0e048d3e);

const ring = new HashRing(['node1', 'node2', 'node3'], { vnodes: 64 });
const list = ring.preferenceList('user:42', 3);
assert.equal(list.length, 3);
assert.equal(new Set(list).size, 3);
assert.deepEqual(ring.preferenceList('user:42', 5), list);

const shrunk = ring.withoutNode('node2');
const moves = diffRings(ring, shrunk);
assert.ok(moves.every((move) => move.from === 'node2'));
const movedFraction = moves.reduce((sum, move) => sum + rangeSize(move), 0) / 2 ** 32;
assert.ok(movedFraction > 0.1 && movedFraction < 0.6, `moved fraction ${movedFraction}`);

const replicaMoves = diffRings(ring, shrunk, 2);
assert.ok(replicaMoves.every((move) => move.from.includes('node2') && !move.to.includes('node2')));

assert.throws(() => ring.withoutNode('node9'), TypeError);

console.log(`smoke.mjs ok: ${moves.length} ranges move off node2 (${(movedFraction * 100).toFixed(1)}% of the ring)`);
