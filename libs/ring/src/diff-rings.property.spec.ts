import fc from 'fast-check';
import { diffRings } from './diff-rings';
import { rangeContains } from './hash-range';
import { HashRing } from './hash-ring';
import { HASH_MAX } from './limits';
import { checkShape } from './testing/range-checks';

// fast-check prints the seed and counterexample path of a failing run; pass them back as { seed, path } to replay it.
const RUNS = 150;

const nodeId = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 6 });
const vnodes = fc.integer({ min: 1, max: 16 });
const hash = fc.nat({ max: HASH_MAX });

// Two memberships that overlap: some members stay, some leave, some join, and vnodes may change too.
const ringPair = fc
  .record({
    stay: fc.uniqueArray(nodeId, { maxLength: 5 }),
    leave: fc.uniqueArray(nodeId, { maxLength: 3 }),
    join: fc.uniqueArray(nodeId, { maxLength: 3 }),
    vnodesBefore: vnodes,
    vnodesAfter: fc.oneof(fc.constant(undefined), vnodes),
  })
  .filter(({ stay, leave, join }) => {
    const all = [...stay, ...leave, ...join];
    return new Set(all).size === all.length && stay.length + leave.length > 0 && stay.length + join.length > 0;
  })
  .map(({ stay, leave, join, vnodesBefore, vnodesAfter }) => ({
    before: new HashRing([...stay, ...leave], { vnodes: vnodesBefore }),
    after: new HashRing([...stay, ...join], { vnodes: vnodesAfter ?? vnodesBefore }),
  }));

// Probes: random hashes plus every token of both rings and its neighbours.
function probes(before: HashRing, after: HashRing, hashes: readonly number[]): number[] {
  const out = [...hashes, 0, HASH_MAX];
  for (const ring of [before, after]) {
    for (let p = 0; p < ring.tokenCount; p++) {
      const { token } = ring.tokenAt(p);
      out.push(token, token === 0 ? HASH_MAX : token - 1);
    }
  }
  return out;
}

describe('diffRings properties (fast-check)', () => {
  it('primary moves: a hash lies in exactly one range iff its primary changes, with that from/to', () => {
    fc.assert(
      fc.property(ringPair, fc.array(hash, { maxLength: 30 }), ({ before, after }, hashes) => {
        const moves = diffRings(before, after);
        const problems = checkShape(moves);
        for (const h of probes(before, after, hashes)) {
          const from = before.ownerOfHash(h).node;
          const to = after.ownerOfHash(h).node;
          const containing = moves.filter((m) => rangeContains(m, h));
          const expected = from === to ? '' : `${from}->${to}`;
          const actual = containing.map((m) => `${m.from}->${m.to}`).join(' and ');
          if (actual !== expected) {
            problems.push(`hash ${h}: expected [${expected}], ranges say [${actual}]`);
          }
        }
        expect(problems).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('replica-set moves: a hash lies in exactly one range iff its preference list changes', () => {
    fc.assert(
      fc.property(ringPair, fc.integer({ min: 1, max: 4 }), fc.array(hash, { maxLength: 30 }), ({ before, after }, n, hashes) => {
        const moves = diffRings(before, after, n);
        const problems = checkShape(moves);
        const show = (list: readonly string[]): string => JSON.stringify(list);
        for (const h of probes(before, after, hashes)) {
          const from = show(before.preferenceListOfHash(h, n));
          const to = show(after.preferenceListOfHash(h, n));
          const containing = moves.filter((m) => rangeContains(m, h));
          const expected = from === to ? '' : `${from}->${to}`;
          const actual = containing.map((m) => `${show(m.from)}->${show(m.to)}`).join(' and ');
          if (actual !== expected) {
            problems.push(`hash ${h}: expected [${expected}], ranges say [${actual}]`);
          }
        }
        expect(problems).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('diffing a ring with itself gives nothing; diffing back gives the mirror image', () => {
    fc.assert(
      fc.property(ringPair, ({ before, after }) => {
        expect(diffRings(before, before)).toEqual([]);
        const forward = diffRings(before, after);
        const backward = diffRings(after, before);
        expect(backward).toEqual(forward.map((m) => ({ ...m, from: m.to, to: m.from })));
      }),
      { numRuns: RUNS },
    );
  });
});
