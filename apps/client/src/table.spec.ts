import { formatTable } from './table';

describe('formatTable', () => {
  it('aligns columns, numbers to the right, without trailing spaces', () => {
    expect(
      formatTable(
        [
          ['op', 'count', 'note'],
          ['set', '5', ''],
          ['total', '12345', 'x'],
        ],
        ['left', 'right'],
      ),
    ).toBe(['op     count  note', 'set        5', 'total  12345  x'].join('\n'));
  });
});
