import { HashRing } from './hash-ring';
import { HASH_SPACE_SIZE } from './limits';
import { naturalKeys, nodeIds } from './testing/keys';

const KEY_COUNT = 100_000;

function primaryCounts(ring: HashRing, keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>(ring.nodes.map((id) => [id, 0]));
  for (const key of keys) {
    const node = ring.primary(key);
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return counts;
}

// Fraction of the hash circle each node owns as primary, from the tokens alone.
function arcShares(ring: HashRing): Map<string, number> {
  const shares = new Map<string, number>(ring.nodes.map((id) => [id, 0]));
  for (let p = 0; p < ring.tokenCount; p++) {
    const { token, node } = ring.tokenAt(p);
    const previous = p === 0 ? ring.tokenAt(ring.tokenCount - 1).token - HASH_SPACE_SIZE : ring.tokenAt(p - 1).token;
    shares.set(node, (shares.get(node) ?? 0) + (token - previous) / HASH_SPACE_SIZE);
  }
  return shares;
}

describe('HashRing: distribution of 100k keys over node1..node3 with the default vnodes', () => {
  const keys = naturalKeys(KEY_COUNT);
  const ring = new HashRing(nodeIds(3));
  const counts = primaryCounts(ring, keys);
  const mean = KEY_COUNT / 3;
  const maxOverMean = Math.max(...counts.values()) / mean;

  it('spreads keys as the token arcs predict (the key hash itself is even)', () => {
    const shares = arcShares(ring);
    for (const id of ring.nodes) {
      expect(Math.abs((counts.get(id) ?? 0) / KEY_COUNT - (shares.get(id) ?? 0))).toBeLessThan(0.01);
    }
  });

  it('keeps the most-loaded node within 1.15 x the mean', () => {
    // Measured: node1 30.25%, node2 32.97%, node3 36.79% of the keys, max/mean 1.104 (README, "Balance").
    expect(maxOverMean).toBeLessThanOrEqual(1.15);
    expect(Math.min(...counts.values()) / mean).toBeGreaterThan(0.85);
  });

  it('adding a 4th node moves at most 30% of primaries, all of them to the new node', () => {
    const grown = ring.withNode('node4');
    let moved = 0;
    const wrongTargets = new Set<string>();
    for (const key of keys) {
      const before = ring.primary(key);
      const after = grown.primary(key);
      if (before !== after) {
        moved++;
        if (after !== 'node4') {
          wrongTargets.add(`${key}: ${before} -> ${after}`);
        }
      }
    }
    expect(wrongTargets).toEqual(new Set());
    // Measured: 27.57% (node4's arcs); a perfectly even ring would move 25%.
    expect(moved / KEY_COUNT).toBeLessThanOrEqual(0.3);
    expect(moved / KEY_COUNT).toBeGreaterThan(0.1);
  });

  it('removing a node moves exactly its keys, to the remaining nodes', () => {
    for (const removed of ring.nodes) {
      const shrunk = ring.withoutNode(removed);
      let moved = 0;
      const unexpected: string[] = [];
      for (const key of keys) {
        const before = ring.primary(key);
        const after = shrunk.primary(key);
        if ((before !== after) !== (before === removed)) {
          unexpected.push(`${key}: ${before} -> ${after}`);
        }
        if (before !== after) {
          moved++;
        }
      }
      expect(unexpected).toEqual([]);
      expect(moved).toBe(counts.get(removed));
    }
  });

  it('replicas follow the same rule: adding a node only inserts it into preference lists', () => {
    const grown = ring.withNode('node4');
    const unexpected: string[] = [];
    for (const key of keys.slice(0, 20_000)) {
      const before = ring.preferenceList(key, 3);
      const after = grown.preferenceList(key, 3);
      const withoutNew = after.filter((id) => id !== 'node4');
      if (withoutNew.join() !== before.slice(0, withoutNew.length).join()) {
        unexpected.push(`${key}: ${before.join()} -> ${after.join()}`);
      }
    }
    expect(unexpected).toEqual([]);
  });
});
