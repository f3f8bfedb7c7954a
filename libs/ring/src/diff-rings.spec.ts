import CRC32 from 'crc-32';
import { diffRings, PrimaryMove, ReplicaSetMove } from './diff-rings';
import { rangeContains, rangeSize } from './hash-range';
import { HashRing } from './hash-ring';
import { HASH_MAX, HASH_SPACE_SIZE } from './limits';
import { naturalKeys, nodeIds } from './testing/keys';
import { checkShape } from './testing/range-checks';
import { tokenReference } from './testing/tokens';

const crc = (s: string): number => CRC32.str(s) >>> 0;
// Token #0 of a node, from CRC32 and the test's own fmix32: a#0 = 719822058 < b#0 = 2579746465 < c#0 = 2860651012.
const token0 = (id: string): number => tokenReference(id, 0);

// Hashes worth probing: a spread of keys, plus every token of both rings and its neighbours, where ownership flips.
function probeHashes(a: HashRing, b: HashRing, keys: readonly string[]): number[] {
  const hashes = new Set<number>([0, 1, HASH_MAX - 1, HASH_MAX]);
  for (const key of keys) {
    hashes.add(crc(key));
  }
  for (const ring of [a, b]) {
    for (let p = 0; p < ring.tokenCount; p++) {
      const { token } = ring.tokenAt(p);
      hashes.add(token);
      hashes.add(token === 0 ? HASH_MAX : token - 1);
      hashes.add(token === HASH_MAX ? 0 : token + 1);
    }
  }
  return [...hashes];
}

// Compares a diff with the per-hash truth; returns the disagreements.
function checkAgainstBruteForce(
  before: HashRing,
  after: HashRing,
  moves: readonly (PrimaryMove | ReplicaSetMove)[],
  ownerOf: (ring: HashRing, hash: number) => string,
  hashes: readonly number[],
): string[] {
  const problems: string[] = [];
  for (const hash of hashes) {
    const from = ownerOf(before, hash);
    const to = ownerOf(after, hash);
    const containing = moves.filter((m) => rangeContains(m, hash));
    if (from === to) {
      if (containing.length !== 0) {
        problems.push(`hash ${hash} keeps ${from} but lies in ${containing.length} range(s)`);
      }
    } else if (containing.length !== 1) {
      problems.push(`hash ${hash} moves ${from} -> ${to} but lies in ${containing.length} range(s)`);
    } else if (String(containing[0].from) !== from || String(containing[0].to) !== to) {
      problems.push(`hash ${hash} moves ${from} -> ${to}, range says ${containing[0].from} -> ${containing[0].to}`);
    }
  }
  return problems;
}

const primaryOf = (ring: HashRing, hash: number): string => ring.ownerOfHash(hash).node;
const listOf =
  (n: number) =>
  (ring: HashRing, hash: number): string =>
    ring.preferenceListOfHash(hash, n).join();

describe('diffRings: hand-checked cases', () => {
  it('relies on these tokens #0', () => {
    expect([token0('a'), token0('b'), token0('c')]).toEqual([719822058, 2579746465, 2860651012]);
  });

  it('is empty for equal rings', () => {
    const ring = new HashRing(nodeIds(4));
    expect(diffRings(ring, new HashRing([...nodeIds(4)].reverse()))).toEqual([]);
    expect(diffRings(ring, ring, 3)).toEqual([]);
  });

  it('reports a move that wraps past 2^32 - 1', () => {
    // One token each: a#0 lies below b#0, so adding a to [b] gives a the hashes [b#0, 2^32) and [0, a#0).
    const before = new HashRing(['b'], { vnodes: 1 });
    const after = new HashRing(['a', 'b'], { vnodes: 1 });
    const moves = diffRings(before, after);
    expect(moves).toEqual([{ start: token0('b') - 1, end: token0('a') - 1, from: 'b', to: 'a' }]);
    expect(moves[0].start).toBeGreaterThan(moves[0].end);
    for (const hash of [token0('b'), HASH_MAX, 0, token0('a') - 1]) {
      expect(rangeContains(moves[0], hash)).toBe(true);
    }
    for (const hash of [token0('b') - 1, token0('a')]) {
      expect(rangeContains(moves[0], hash)).toBe(false);
    }
  });

  it('reports a non-wrapping move as (previous token - 1, token - 1]', () => {
    // b#0 lies above a#0, so adding b to [a] gives b the hashes [a#0, b#0).
    const moves = diffRings(new HashRing(['a'], { vnodes: 1 }), new HashRing(['a', 'b'], { vnodes: 1 }));
    expect(moves).toEqual([{ start: token0('a') - 1, end: token0('b') - 1, from: 'a', to: 'b' }]);
    expect(moves[0].start).toBeLessThan(moves[0].end);
  });

  it('merges a move that crosses the top of the circle into one wrapping range', () => {
    // a#0 < b#0 < c#0. Going from [a] to [b, c], b takes [c#0, 2^32) and [0, a#0) as well as [a#0, b#0): one range.
    const moves = diffRings(new HashRing(['a'], { vnodes: 1 }), new HashRing(['b', 'c'], { vnodes: 1 }));
    expect(moves).toEqual([
      { start: token0('b') - 1, end: token0('c') - 1, from: 'a', to: 'c' },
      { start: token0('c') - 1, end: token0('b') - 1, from: 'a', to: 'b' },
    ]);
    expect(checkShape(moves)).toEqual([]);
  });

  it('reports the whole circle as start === end', () => {
    const moves = diffRings(new HashRing(['a'], { vnodes: 3 }), new HashRing(['b'], { vnodes: 2 }));
    expect(moves).toHaveLength(1);
    expect(moves[0].start).toBe(moves[0].end);
    expect(rangeSize(moves[0])).toBe(HASH_SPACE_SIZE);
    expect([moves[0].from, moves[0].to]).toEqual(['a', 'b']);
  });

  it('gives replica-set moves with whole preference lists', () => {
    const before = new HashRing(['a', 'b', 'c'], { vnodes: 2 });
    const after = before.withNode('d');
    const moves = diffRings(before, after, 2);
    expect(moves.length).toBeGreaterThan(0);
    for (const move of moves) {
      expect(move.from).toHaveLength(2);
      expect(move.to).toHaveLength(2);
      expect(move.to).toContain('d');
      expect(move.from).not.toContain('d');
    }
  });

  it.each<[string, () => unknown]>([
    ['empty before', () => diffRings(new HashRing([]), new HashRing(['a']))],
    ['empty after', () => diffRings(new HashRing(['a']), new HashRing([]))],
    ['not a ring', () => diffRings({} as HashRing, new HashRing(['a']))],
    ['n = 0', () => diffRings(new HashRing(['a']), new HashRing(['b']), 0)],
    ['n fractional', () => diffRings(new HashRing(['a']), new HashRing(['b']), 1.5)],
  ])('throws TypeError: %s', (_case, call) => {
    expect(call).toThrow(TypeError);
  });
});

describe('diffRings agrees with per-hash comparison', () => {
  const keys = naturalKeys(1000);
  const base = new HashRing(nodeIds(5), { vnodes: 32 });
  const changes: [string, HashRing][] = [
    ['adding a node', base.withNode('node6')],
    ['removing a node', base.withoutNode('node3')],
    ['replacing a node', base.withoutNode('node2').withNode('node9')],
    ['changing vnodes', new HashRing(nodeIds(5), { vnodes: 20 })],
    ['shrinking to one node', new HashRing(['node4'], { vnodes: 32 })],
  ];

  it.each(changes)('%s: primaries', (_name, after) => {
    const moves = diffRings(base, after);
    expect(moves.length).toBeGreaterThan(0);
    expect(checkShape(moves)).toEqual([]);
    expect(checkAgainstBruteForce(base, after, moves, primaryOf, probeHashes(base, after, keys))).toEqual([]);
  });

  it.each(changes)('%s: preference lists of 3', (_name, after) => {
    const moves = diffRings(base, after, 3);
    expect(checkShape(moves)).toEqual([]);
    expect(checkAgainstBruteForce(base, after, moves, listOf(3), probeHashes(base, after, keys))).toEqual([]);
  });

  it('adding a node moves primaries only to it, and about its share of the circle', () => {
    const after = base.withNode('node6');
    const moves = diffRings(base, after);
    expect(new Set(moves.map((m) => m.to))).toEqual(new Set(['node6']));
    const movedFraction = moves.reduce((sum, m) => sum + rangeSize(m), 0) / HASH_SPACE_SIZE;
    const movedKeys = keys.filter((key) => base.primary(key) !== after.primary(key)).length / keys.length;
    expect(Math.abs(movedFraction - movedKeys)).toBeLessThan(0.02);
  });

  it('removing a node moves primaries only from it', () => {
    const moves = diffRings(base, base.withoutNode('node3'));
    expect(new Set(moves.map((m) => m.from))).toEqual(new Set(['node3']));
  });
});
