import { countsOf } from './status-page';
import { repairOf } from './ui-state';

describe('repairOf', () => {
  test('keeps the fields the page shows from a progress report', () => {
    expect(repairOf({ state: 'done', rangesDone: 8, rangesTotal: 8, rangesFailed: 0, differences: 2, repaired: 2, purged: 1, bytes: 10, startedAt: 1 })).toEqual({
      state: 'done',
      rangesDone: 8,
      rangesTotal: 8,
      rangesFailed: 0,
      differences: 2,
      repaired: 2,
      purged: 1,
    });
    expect(repairOf({ state: 'failed', rangesDone: 0, rangesTotal: 0, error: 'a membership change is in progress' })?.error).toBe('a membership change is in progress');
  });

  test.each([undefined, null, 3, {}, { state: 'running' }, { state: 'running', rangesDone: '1', rangesTotal: 2 }, { rangesDone: 1, rangesTotal: 2 }])(
    'nothing from %j',
    (value) => {
      expect(repairOf(value)).toBeUndefined();
    },
  );
});

describe('countsOf', () => {
  test('keys, and tombstones where a node reports them', () => {
    expect(countsOf({ keys: 3 })).toEqual({ keys: 3 });
    expect(countsOf({ keys: 3, tombstones: 1 })).toEqual({ keys: 3, tombstones: 1 });
    expect(countsOf({ keys: 'x' })).toEqual({});
  });
});
