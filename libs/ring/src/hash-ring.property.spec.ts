import CRC32 from 'crc-32';
import fc from 'fast-check';
import { hashKey, vnodeToken } from './hash';
import { HashRing } from './hash-ring';
import { HASH_MAX, VNODES_MAX } from './limits';
import { referencePosition, referencePreferenceList, referenceTokens } from './testing/reference-ring';
import { crc32Reference, tokenReference } from './testing/tokens';

// fast-check prints the seed and counterexample path of a failing run; pass them back as { seed, path } to replay it.
const RUNS = 150;

const nodeId = fc.string({ unit: 'binary', minLength: 1, maxLength: 10 });
const membership = fc.uniqueArray(nodeId, { minLength: 1, maxLength: 9 });
const vnodes = fc.integer({ min: 1, max: 24 });
const replicas = fc.integer({ min: 1, max: 12 });
const hash = fc.nat({ max: HASH_MAX });
const key = fc.string({ unit: 'binary', maxLength: 40 });

describe('HashRing properties (fast-check)', () => {
  it('tokens are fmix32(CRC32("<id>#<i>")) and keys hash to plain CRC32', () => {
    fc.assert(
      fc.property(nodeId, fc.integer({ min: 0, max: VNODES_MAX - 1 }), key, (id, i, k) => {
        expect(vnodeToken(id, i)).toBe(tokenReference(id, i));
        expect(hashKey(k)).toBe(crc32Reference(k));
      }),
      { numRuns: 1000 },
    );
  });

  it('a preference list has min(N, members) distinct members, primary first, and matches the naive walk', () => {
    fc.assert(
      fc.property(membership, vnodes, fc.array(key, { minLength: 1, maxLength: 20 }), replicas, (ids, v, keys, n) => {
        const ring = new HashRing(ids, { vnodes: v });
        const tokens = referenceTokens(ids, v);
        for (const k of keys) {
          const list = ring.preferenceList(k, n);
          expect(list).toHaveLength(Math.min(n, ids.length));
          expect(new Set(list).size).toBe(list.length);
          expect(list.every((id) => ids.includes(id))).toBe(true);
          expect(list[0]).toBe(ring.primary(k));
          expect(list).toEqual(referencePreferenceList(tokens, CRC32.str(k) >>> 0, n));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a hash belongs to the first token strictly greater than it, wrapping to the lowest', () => {
    fc.assert(
      fc.property(membership, vnodes, fc.array(hash, { minLength: 1, maxLength: 20 }), (ids, v, hashes) => {
        const ring = new HashRing(ids, { vnodes: v });
        const tokens = referenceTokens(ids, v);
        // Token values and their neighbours are where an off-by-one would show.
        const probes = [...hashes, ...tokens.flatMap((t) => [t.token, Math.max(0, t.token - 1)])];
        const problems: string[] = [];
        for (const h of probes) {
          const owner = ring.ownerOfHash(h);
          const position = referencePosition(tokens, h);
          const expected = tokens[position];
          if (owner.position !== position || owner.token !== expected.token || owner.node !== expected.node) {
            problems.push(`hash ${h}: got ${JSON.stringify(owner)}, expected position ${position} ${JSON.stringify(expected)}`);
          }
        }
        expect(problems).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('the ring does not depend on the order of its members', () => {
    fc.assert(
      fc.property(
        membership.chain((ids) => fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length }))),
        vnodes,
        fc.array(key, { minLength: 1, maxLength: 20 }),
        ([ids, shuffled], v, keys) => {
          const a = new HashRing(ids, { vnodes: v });
          const b = new HashRing(shuffled, { vnodes: v });
          expect(a.equals(b)).toBe(true);
          for (const k of keys) {
            expect(b.preferenceList(k, 3)).toEqual(a.preferenceList(k, 3));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('adding a node changes a primary only to the new node; removing it restores the ring', () => {
    fc.assert(
      fc.property(membership, nodeId, vnodes, fc.array(key, { minLength: 1, maxLength: 30 }), (ids, extra, v, keys) => {
        fc.pre(!ids.includes(extra));
        const ring = new HashRing(ids, { vnodes: v });
        const grown = ring.withNode(extra);
        for (const k of keys) {
          const after = grown.primary(k);
          expect(after === ring.primary(k) || after === extra).toBe(true);
        }
        expect(grown.withoutNode(extra).equals(ring)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
