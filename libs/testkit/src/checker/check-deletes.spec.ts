import { checkDeletes, formatDeletes, type DeletedKey } from './check-deletes';

const keys: DeletedKey[] = [
  { key: 'a', value: 'va', write: 'ok', delete: 'ok' },
  { key: 'b', value: 'vb', write: 'ok', delete: 'unknown' },
  { key: 'c', value: 'vc', write: 'ok', delete: 'fail' },
];

describe('checkDeletes', () => {
  test('valid when acknowledged deletes stay deleted; deletes of unknown or failed outcome may read either way', () => {
    const result = checkDeletes(keys, [{ key: 'b', value: 'vb' }], new Map([['b', 'vb'], ['c', 'vc']]), 0);
    expect(result).toMatchObject({ valid: true, keys: 3, deleted: 1, resurrected: [], tombstonesLeft: 0 });
    expect(formatDeletes(result)).toBe('deletes: VALID — 3 keys, 1 deletes acknowledged, 0 came back, 0 tombstones left');
  });

  test('an acknowledged delete whose value reads back, during the run or at the end, is a violation', () => {
    const result = checkDeletes(keys, [{ key: 'a', value: 'va' }], new Map([['a', 'va']]));
    expect(result.valid).toBe(false);
    expect(result.resurrected.map((r) => r.seen)).toEqual(['during the run', 'final read']);
    expect(formatDeletes(result)).toMatch(/^deletes: INVALID .* 2 came back\n {2}key "a": deleted, then "va" read back \(during the run\)/);
  });

  test('tombstones left at the end make it invalid when they must all be collected', () => {
    expect(checkDeletes(keys, [], new Map(), 3).valid).toBe(false);
    expect(checkDeletes(keys, [], new Map()).valid).toBe(true);
  });
});
