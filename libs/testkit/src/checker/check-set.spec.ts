import { checkSet, type SetInsert } from './check-set';
import type { Operation } from './history';

function insert(id: number, value: string, outcome: SetInsert['outcome'] = 'ok'): SetInsert {
  return { id, value, outcome };
}

describe('checkSet', () => {
  it('is valid when every acknowledged insert is present and nothing else is', () => {
    const result = checkSet([insert(1, 'a'), insert(2, 'b'), insert(3, 'c', 'fail')], ['b', 'a']);
    expect(result).toEqual({
      checker: 'set',
      valid: true,
      inserts: { ok: 2, fail: 1, unknown: 0 },
      present: 2,
      lost: [],
      unexpected: [],
      recovered: [],
      unrecovered: 0,
      duplicated: [],
    });
  });

  it('reports acknowledged inserts missing from the final read as lost', () => {
    const result = checkSet([insert(1, 'a'), insert(2, 'b'), insert(3, 'c')], new Set(['a']));
    expect(result.valid).toBe(false);
    expect(result.lost.map((lost) => lost.id)).toEqual([2, 3]);
  });

  it('counts unknown-outcome inserts as recovered when present, and accepts them absent', () => {
    const result = checkSet([insert(1, 'a', 'unknown'), insert(2, 'b', 'unknown'), insert(3, 'c')], ['a', 'c']);
    expect(result.valid).toBe(true);
    expect(result.recovered.map((recovered) => recovered.id)).toEqual([1]);
    expect(result.unrecovered).toBe(1);
  });

  it('reports elements nobody inserted and elements whose insert failed as unexpected', () => {
    const failed = insert(2, 'b', 'fail');
    const result = checkSet([insert(1, 'a'), failed], ['a', 'b', 'z']);
    expect(result.valid).toBe(false);
    expect(result.unexpected).toEqual([
      { value: 'b', reason: 'insert-failed', insert: failed },
      { value: 'z', reason: 'never-inserted' },
    ]);
  });

  it('reports an element listed twice', () => {
    const result = checkSet([insert(1, 'a')], ['a', 'a']);
    expect(result.valid).toBe(false);
    expect(result.duplicated).toEqual(['a']);
    expect(result.present).toBe(1);
  });

  it('takes write operations as they are', () => {
    const write: Operation = { id: 1, process: 0, key: 's', kind: 'write', value: 'a', outcome: 'ok', invokedAt: 0, completedAt: 1 };
    expect(checkSet([write], ['a']).valid).toBe(true);
  });

  it('rejects malformed input', () => {
    expect(() => checkSet([insert(1, 'a'), insert(2, 'a')], [])).toThrow(/inserted twice/);
    expect(() => checkSet([{ id: 1, value: null, outcome: 'ok' }], [])).toThrow(TypeError);
    expect(() => checkSet([{ id: 1, value: 'a', outcome: 'maybe' as 'ok' }], [])).toThrow(TypeError);
    expect(() => checkSet([], [7 as unknown as string])).toThrow(TypeError);
  });
});
