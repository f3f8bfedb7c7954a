import { ErrorCode } from './errors';
import { kvErrorOf } from './testing/kv-error-of';
import { parseQuorumParam } from './quorum-param';

describe('parseQuorumParam', () => {
  it.each([
    [undefined, undefined],
    ['1', 1],
    ['2', 2],
    ['3', 3],
  ])('%p with N=3 -> %p', (raw, quorum) => {
    expect(parseQuorumParam(raw, 3, 'w')).toBe(quorum);
  });

  it.each(['0', '4', '-1', '+1', '01', '1.5', '1e0', 'two', '', ' 1', '1 ', '0x1', '99999999999999999999', ['1', '2'], 2])(
    'rejects %p with KV_BAD_REQUEST naming the parameter',
    (raw) => {
      const err = kvErrorOf(() => parseQuorumParam(raw, 3, 'r'));
      expect(err.code).toBe(ErrorCode.BadRequest);
      expect(err.message).toMatch(/^r must be an integer from 1 to 3, got /);
    },
  );

  it('does not echo a long parameter whole', () => {
    expect(() => parseQuorumParam('x'.repeat(1000), 3, 'w')).toThrow(/got "x{32}\.\.\."$/);
  });

  it('rejects a bad replica count as a bug', () => {
    expect(() => parseQuorumParam('1', 0, 'w')).toThrow(TypeError);
  });
});
