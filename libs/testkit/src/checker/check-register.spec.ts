import { checkRegister } from './check-register';
import type { Operation } from './history';
import { history, type OpSpec } from './testing/history-builder';

interface Case {
  name: string;
  ops: OpSpec[];
}

// Each history is on key `k`, times in ms; ids are 1, 2, … in the order written.
const VALID: Case[] = [
  { name: 'empty history', ops: [] },
  { name: 'a read of nothing initially', ops: [['r', null, 0, 1], ['w', 'v1', 2, 3], ['r', 'v1', 4, 5]] },
  {
    name: 'sequential writes then reads',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 3], ['r', 'v2', 4, 5], ['r', 'v2', 6, 7]],
  },
  { name: 'a read concurrent with a write sees the old value', ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 10], ['r', 'v1', 3, 4]] },
  { name: 'a read concurrent with a write sees the new value', ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 10], ['r', 'v2', 3, 4]] },
  {
    name: 'overlapping reads see old then new',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 10], ['r', 'v1', 3, 6], ['r', 'v2', 4, 5]],
  },
  {
    name: 'concurrent writes in either order',
    ops: [['w', 'v1', 0, 10], ['w', 'v2', 1, 9], ['r', 'v1', 11, 12], ['r', 'v1', 13, 14]],
  },
  { name: 'a delete then a read of nothing', ops: [['w', 'v1', 0, 1], ['w', null, 2, 3], ['r', null, 4, 5]] },
  {
    name: 'a read concurrent with a delete sees the value, a later one nothing',
    ops: [['w', 'v1', 0, 1], ['w', null, 2, 10], ['r', 'v1', 3, 4], ['r', null, 5, 6], ['r', null, 11, 12]],
  },
  {
    name: 'writes, deletes and reads of nothing interleaved',
    ops: [['w', null, 0, 1], ['r', null, 2, 3], ['w', 'v1', 4, 5], ['w', null, 6, 7], ['r', null, 8, 9], ['w', 'v2', 10, 11], ['r', 'v2', 12, 13]],
  },
  {
    name: 'an unknown write that appears later',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 3, 'unknown'], ['r', 'v1', 4, 5], ['r', 'v2', 10, 11], ['r', 'v2', 12, 13]],
  },
  {
    name: 'an unknown write that never appears',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 3, 'unknown'], ['r', 'v1', 4, 5], ['r', 'v1', 10, 11]],
  },
  {
    name: 'an unknown write read while its client still waits',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 3, 'unknown'], ['r', 'v2', 2.5, 2.8], ['r', 'v2', 4, 5]],
  },
  {
    name: 'an unknown write that takes effect long after a later acknowledged write',
    ops: [['w', 'v1', 0, 1, 'unknown'], ['w', 'v2', 2, 3], ['r', 'v2', 4, 5], ['r', 'v1', 50, 51], ['r', 'v1', 60, 61]],
  },
  {
    name: 'an unknown delete that takes effect later',
    ops: [['w', 'v1', 0, 1], ['w', null, 2, 3, 'unknown'], ['r', 'v1', 4, 5], ['r', null, 10, 11]],
  },
  {
    name: 'an unknown delete that never takes effect',
    ops: [['w', 'v1', 0, 1], ['w', null, 2, 3, 'unknown'], ['r', 'v1', 4, 5], ['r', 'v1', 20, 21]],
  },
  {
    name: 'several unknown deletes, one of them used',
    ops: [
      ['w', 'v1', 0, 1], ['w', null, 2, 3, 'unknown'], ['w', null, 2, 3, 'unknown'], ['r', 'v1', 4, 5],
      ['r', null, 6, 7], ['w', 'v2', 8, 9], ['r', 'v2', 10, 11], ['r', null, 12, 13],
    ],
  },
  { name: 'an unknown read is dropped', ops: [['w', 'v1', 0, 1], ['r', 'ghost', 2, 3, 'unknown'], ['r', null, 4, 5, 'unknown']] },
  { name: 'a failed write that nobody read', ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 3, 'fail'], ['r', 'v1', 4, 5]] },
  { name: 'touching intervals are concurrent', ops: [['w', 'v1', 0, 5], ['r', null, 5, 6]] },
  {
    name: 'keys are checked separately',
    ops: [['w', 'v1', 0, 1, 'ok', 'a'], ['r', null, 2, 3, 'ok', 'b'], ['r', 'v1', 4, 5, 'ok', 'a'], ['w', 'v1', 6, 7, 'ok', 'b']],
  },
];

/** `culprit`: the id of the operation the explanation must name as the one that cannot be linearized. */
const INVALID: Array<Case & { culprit: number; mentions: string[] }> = [
  {
    name: 'a stale read after an acknowledged write',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 3], ['r', 'v1', 4, 5]],
    culprit: 3,
    mentions: ['overwritten by #2'],
  },
  {
    name: 'a read going back in time',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 20], ['r', 'v2', 3, 4], ['r', 'v1', 5, 6]],
    culprit: 4,
    mentions: ['#3 p3 read -> "v2"', 'had already returned'],
  },
  {
    name: 'a read of a value nobody wrote',
    ops: [['w', 'v1', 0, 1], ['r', 'ghost', 2, 3]],
    culprit: 2,
    mentions: ['No operation wrote "ghost"'],
  },
  {
    name: 'a read of nothing after an acknowledged write',
    ops: [['w', 'v1', 0, 1], ['r', null, 2, 3]],
    culprit: 2,
    mentions: ['holds "v1"'],
  },
  {
    name: 'a read from the future',
    ops: [['r', 'v1', 0, 1], ['w', 'v1', 2, 3]],
    culprit: 1,
    mentions: ['invoked after the read completed'],
  },
  {
    name: 'an unknown write that appears and then disappears',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 3, 'unknown'], ['r', 'v2', 4, 5], ['r', 'v1', 6, 7]],
    culprit: 4,
    mentions: ['holds "v2"'],
  },
  {
    name: 'a failed write whose value is read',
    ops: [['w', 'v1', 0, 1], ['w', 'v2', 2, 3, 'fail'], ['r', 'v2', 4, 5]],
    culprit: 3,
    mentions: ['written only by #2', 'which failed'],
  },
  {
    name: 'a deleted value that comes back',
    ops: [['w', 'v1', 0, 1], ['w', null, 2, 3], ['r', 'v1', 4, 5]],
    culprit: 3,
    mentions: ['overwritten by #2 p2 delete'],
  },
  {
    name: 'a value that comes back after a read of nothing',
    ops: [['w', 'v1', 0, 1], ['w', null, 2, 10], ['r', null, 3, 4], ['r', 'v1', 5, 6]],
    culprit: 4,
    mentions: ['holds none'],
  },
  {
    name: 'an unknown delete observed, then undone',
    ops: [['w', 'v1', 0, 1], ['w', null, 2, 3, 'unknown'], ['r', null, 4, 5], ['r', 'v1', 6, 7]],
    culprit: 4,
    mentions: ['holds none'],
  },
  {
    name: 'two sequential reads of two concurrent writes in opposite orders',
    ops: [['w', 'v1', 0, 10], ['w', 'v2', 0, 10], ['r', 'v1', 1, 2], ['r', 'v2', 3, 4], ['r', 'v1', 5, 6]],
    culprit: 5,
    mentions: ['#5 p5 read -> "v1"'],
  },
];

describe('checkRegister', () => {
  it.each(VALID)('valid: $name', ({ ops }) => {
    const result = checkRegister(history(...ops));
    expect(result.violations).toEqual([]);
    expect(result.valid).toBe(true);
    for (const key of Object.keys(result.keys)) expect(result.keys[key].valid).toBe(true);
  });

  it.each(INVALID)('invalid: $name', ({ ops, culprit, mentions }) => {
    const result = checkRegister(history(...ops));
    expect(result.valid).toBe(false);
    expect(result.keys['k'].valid).toBe(false);
    expect(result.violations).toHaveLength(1);
    const [violation] = result.violations;
    expect(violation.key).toBe('k');
    expect(violation.op.id).toBe(culprit);
    expect(violation.suspect?.id).toBe(culprit);
    expect(violation.explanation).toMatch(new RegExp(`^#${culprit} `));
    for (const text of mentions) expect(violation.explanation).toContain(text);
  });

  it('reports the longest prefix, the value after it and the concurrent operations', () => {
    // #4 cannot be linearized either, but #5 completes first: the search is stuck there.
    const result = checkRegister(
      history(['w', 'v1', 0, 1], ['w', 'v2', 2, 20], ['r', 'v2', 3, 4], ['r', 'v9', 4.5, 30], ['r', 'v1', 5, 6]),
    );
    const [violation] = result.violations;
    expect(violation.op.id).toBe(5);
    expect(violation.prefixTail.map((op) => op.id)).toEqual([1, 2, 3]);
    expect(violation.prefixLength).toBe(3);
    expect(violation.valueAfterPrefix).toBe('v2');
    expect(violation.concurrent.map((op) => op.id)).toEqual([4]);
    expect(violation.concurrentCount).toBe(1);
    expect(violation.writesOfValue.map((op) => op.id)).toEqual([1]);
  });

  it('flags only the keys that are wrong, in key order', () => {
    const result = checkRegister(
      history(
        ['w', 'v1', 0, 1, 'ok', 'b'],
        ['r', null, 2, 3, 'ok', 'b'],
        ['w', 'v1', 0, 1, 'ok', 'a'],
        ['r', 'v1', 2, 3, 'ok', 'a'],
        ['r', 'x', 0, 1, 'ok', 'c'],
      ),
    );
    expect(result.valid).toBe(false);
    expect(Object.keys(result.keys)).toEqual(['a', 'b', 'c']);
    expect(result.keys['a'].valid).toBe(true);
    expect(result.violations.map((violation) => violation.key)).toEqual(['b', 'c']);
  });

  it('counts what it drops', () => {
    const result = checkRegister(
      history(
        ['w', 'v1', 0, 1],
        ['w', 'v2', 2, 3, 'fail'],
        ['r', 'v1', 4, 5, 'fail'],
        ['r', 'v9', 4, 5, 'unknown'],
        ['w', 'v3', 6, 7, 'unknown'],
        ['w', null, 6, 7, 'unknown'],
        ['r', 'v1', 4, 5],
      ),
    );
    expect(result.keys['k']).toMatchObject({
      valid: true,
      ops: 2,
      dropped: { failed: 2, unknownReads: 1, unobservedUnknownWrites: 2 },
    });
  });

  it('is safe with any key, including __proto__', () => {
    const result = checkRegister(history(['w', 'v1', 0, 1, 'ok', '__proto__'], ['r', 'v1', 2, 3, 'ok', '__proto__']));
    expect(result.keys['__proto__'].valid).toBe(true);
    expect(Object.keys(result.keys)).toEqual(['__proto__']);
  });

  describe('bounds', () => {
    /**
     * Twenty unknown writes and their reads, all concurrent, then a read of a value nobody wrote: the search must rule
     * out every order of the pairs (2^20 sets of them) before it can say no.
     */
    function pathological(pairs: number): Operation[] {
      const specs: OpSpec[] = [];
      for (let i = 0; i < pairs; i++) specs.push(['w', `v${i}`, 0, 1, 'unknown'], ['r', `v${i}`, 1, 100]);
      specs.push(['r', 'ghost', 200, 201]);
      return history(...specs);
    }

    it('stops at stepsMax with an unknown verdict instead of running on', () => {
      const result = checkRegister(pathological(20), { stepsMax: 1000 });
      expect(result.valid).toBe('unknown');
      expect(result.keys['k']).toMatchObject({ valid: 'unknown', bound: 'steps', steps: 1000 });
      expect(result.violations).toEqual([]);
    });

    it('stops at timeMsMax, read from the injected clock', () => {
      let nowMs = 0;
      const result = checkRegister(pathological(20), { timeMsMax: 5, now: () => nowMs++ });
      expect(result.keys['k']).toMatchObject({ valid: 'unknown', bound: 'time' });
      expect(result.keys['k'].steps).toBeLessThan(10 * 1024);
    });

    it('an undecided key does not hide a violation on another', () => {
      const ops = [...pathological(20), ...history(['w', 'v1', 0, 1, 'ok', 'z'], ['r', null, 2, 3, 'ok', 'z'])];
      const result = checkRegister(ops.map((op, id) => ({ ...op, id })), { stepsMax: 1000 });
      expect(result.valid).toBe(false);
      expect(result.keys['k'].valid).toBe('unknown');
    });

    it('decides a small pathological history within the default bounds', () => {
      expect(checkRegister(pathological(6)).valid).toBe(false);
    });
  });

  describe('input validation', () => {
    it.each([
      ['stepsMax 0', { stepsMax: 0 }],
      ['fractional stepsMax', { stepsMax: 1.5 }],
      ['timeMsMax 0', { timeMsMax: 0 }],
      ['timeMsMax NaN', { timeMsMax: Number.NaN }],
    ])('rejects %s', (_name, options) => {
      expect(() => checkRegister([], options)).toThrow(TypeError);
    });

    it.each<[string, (op: Operation) => unknown]>([
      ['a non-integer id', (op) => ({ ...op, id: 1.5 })],
      ['an unknown kind', (op) => ({ ...op, kind: 'cas' })],
      ['an unknown outcome', (op) => ({ ...op, outcome: 'maybe' })],
      ['a numeric value', (op) => ({ ...op, value: 7 })],
      ['a completion before the invocation', (op) => ({ ...op, invokedAt: 5, completedAt: 4 })],
      ['an infinite invocation', (op) => ({ ...op, invokedAt: Infinity })],
    ])('rejects an operation with %s', (_name, mutate) => {
      const [op] = history(['w', 'v1', 0, 1]);
      expect(() => checkRegister([mutate(op) as Operation])).toThrow(TypeError);
    });

    it('rejects duplicate ids and a value written twice on one key', () => {
      const [a, b] = history(['w', 'v1', 0, 1], ['w', 'v2', 2, 3]);
      expect(() => checkRegister([a, { ...b, id: a.id }])).toThrow(/duplicate id/);
      expect(() => checkRegister([a, { ...b, value: 'v1' }])).toThrow(/written twice/);
    });

    it('accepts the same value on two keys, and deletes repeated', () => {
      const ops = history(['w', 'v1', 0, 1, 'ok', 'a'], ['w', 'v1', 0, 1, 'ok', 'b'], ['w', null, 2, 3], ['w', null, 4, 5]);
      expect(checkRegister(ops).valid).toBe(true);
    });
  });
});
