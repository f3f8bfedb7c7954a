import fc from 'fast-check';
import { LinearizedSet } from './linearized-set';
import { MemoTable } from './memo-table';

// fast-check prints the seed and counterexample path of a failing run; pass them back as { seed, path } to replay it.

describe('MemoTable with LinearizedSet (fast-check)', () => {
  it('remembers exactly the (set, state) pairs added, through toggles, growth and rehashing', () => {
    const size = fc.integer({ min: 1, max: 200 });
    const steps = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 2000 });
    fc.assert(
      fc.property(size, steps, (n, moves) => {
        const set = new LinearizedSet(n);
        const members = new Set<number>();
        const memo = new MemoTable();
        const reference = new Set<string>();
        for (const [pick, state] of moves) {
          const index = pick % n;
          if (members.has(index)) {
            members.delete(index);
            set.remove(index);
          } else {
            members.add(index);
            set.add(index);
          }
          expect(set.has(index)).toBe(members.has(index));
          const key = `${[...members].sort((a, b) => a - b).join(',')}|${state}`;
          expect(memo.addIfAbsent(set, state)).toBe(!reference.has(key));
          reference.add(key);
        }
        expect(memo.size).toBe(reference.size);
        for (let i = 0; i < n; i++) expect(set.has(i)).toBe(members.has(i));
      }),
      { numRuns: 50 },
    );
  });

  it('keeps the canonical bounds: all ones below fullBelow, all zeros from usedBelow', () => {
    const set = new LinearizedSet(100);
    for (let i = 0; i < 70; i++) set.add(i);
    expect(set.fullBelow).toBe(2);
    expect(set.usedBelow).toBe(3);
    set.remove(3);
    expect(set.fullBelow).toBe(0);
    set.add(3);
    expect(set.fullBelow).toBe(2);
    for (let i = 64; i < 70; i++) set.remove(i);
    expect(set.usedBelow).toBe(2);
    expect(set.fullBelow).toBe(2);
  });

  it('tells apart sets with equal hashes by their contents', () => {
    // Equal 64-bit hashes are astronomically rare with random keys; forge one by giving two sets equal hashes.
    const a = new LinearizedSet(64);
    const b = new LinearizedSet(64);
    a.add(1);
    b.add(2);
    b.hashLow = a.hashLow;
    b.hashHigh = a.hashHigh;
    const memo = new MemoTable();
    expect(memo.addIfAbsent(a, 0)).toBe(true);
    expect(memo.addIfAbsent(b, 0)).toBe(true);
    expect(memo.addIfAbsent(a, 0)).toBe(false);
    expect(memo.addIfAbsent(b, 0)).toBe(false);
  });
});
