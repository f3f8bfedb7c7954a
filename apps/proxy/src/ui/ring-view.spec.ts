import { HASH_SPACE_SIZE, HashRing } from '@kv/ring';
import { RingViewCache, ringView } from './ring-view';

const active = (...ids: string[]) => ids.map((id) => ({ id, state: 'active' as const }));
const total = (arcs: readonly { start: number; end: number }[]): number => arcs.reduce((sum, arc) => sum + (arc.end - arc.start), 0);

describe('ringView', () => {
  test('arcs cover the circle once, in order, and give each node its share of the ring', () => {
    const view = ringView({ members: active('a', 'b', 'c'), vnodes: 16 });
    expect(total(view.arcs)).toBeCloseTo(1, 5);
    for (let i = 1; i < view.arcs.length; i++) {
      expect(view.arcs[i].start).toBe(view.arcs[i - 1].end);
      expect(view.arcs[i].node === view.arcs[i - 1].node).toBe(false);
    }
    expect(view.shares.a + view.shares.b + view.shares.c).toBeCloseTo(1, 3);
    expect(view.sharesAfter).toEqual(view.shares);
    expect(view.moving).toEqual([]);
    // The owner of a hash inside an arc is the arc's node.
    const ring = new HashRing(['a', 'b', 'c'], { vnodes: 16 });
    for (const arc of view.arcs) {
      const middle = Math.floor(((arc.start + arc.end) / 2) * HASH_SPACE_SIZE);
      expect(ring.ownerOfHash(middle).node).toBe(arc.node);
    }
  });

  test('during a change, the ranges that move go to the joining node, which owns nothing before and its share after', () => {
    const view = ringView({ members: [...active('a', 'b', 'c'), { id: 'd', state: 'joining' }], vnodes: 16 });
    expect(view.shares.d).toBe(0);
    expect(view.sharesAfter.d).toBeGreaterThan(0.1);
    expect(view.moving.length).toBeGreaterThan(0);
    expect(view.moving.every((arc) => arc.to === 'd' && arc.from !== 'd' && arc.end > arc.start)).toBe(true);
    expect(total(view.moving)).toBeCloseTo(view.sharesAfter.d, 3);
  });

  test('a leaving node hands its ranges to the others', () => {
    const view = ringView({ members: [...active('a', 'b'), { id: 'c', state: 'leaving' }], vnodes: 8 });
    expect(view.sharesAfter.c).toBe(0);
    expect(view.moving.every((arc) => arc.from === 'c')).toBe(true);
    expect(total(view.moving)).toBeCloseTo(view.shares.c, 3);
  });

  test('the cache computes again only when the members or their states change', () => {
    const cache = new RingViewCache();
    const first = cache.view({ members: active('a', 'b'), vnodes: 4 });
    expect(cache.view({ members: active('a', 'b'), vnodes: 4 })).toBe(first);
    expect(cache.view({ members: [...active('a'), { id: 'b', state: 'leaving' }], vnodes: 4 })).not.toBe(first);
  });
});
