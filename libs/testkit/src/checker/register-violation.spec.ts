import { prepareKeyHistory } from './key-history';
import { searchLinearization, type LongestPrefix } from './linearization-search';
import { explainViolation } from './register-violation';
import { history, type OpSpec } from './testing/history-builder';

/** The longest prefix of the pruned search, which blocks on writes: what a long history's explanation may fall back to. */
function prunedExplanation(...specs: OpSpec[]) {
  const prepared = prepareKeyHistory('k', history(...specs));
  const result = searchLinearization(prepared, { stepsMax: 1000, deadlineMs: Infinity, now: () => 0 });
  if (result.verdict !== 'not-linearizable') throw new Error(`expected a violation, got ${result.verdict}`);
  return explainViolation(prepared, result.longest as LongestPrefix);
}

describe('explainViolation on a write the pruned search could not linearize', () => {
  it('suspects the first read of its value when that read is invoked too late', () => {
    const violation = prunedExplanation(['w', 'v1', 0, 1], ['w', 'v2', 2, 3], ['r', 'v1', 4, 5]);
    expect(violation.op.id).toBe(1);
    expect(violation.suspect?.id).toBe(3);
    expect(violation.explanation).toContain('the first of them, #3 p3 read -> "v1" ok [4.0, 5.0] ms, is invoked too late');
    expect(violation.explanation).toContain('overwritten by #2');
    expect(violation.writesOfValue.map((op) => op.id)).toEqual([1]);
  });

  it('suspects a read of the value the register holds that is still to come', () => {
    const violation = prunedExplanation(['w', 'v1', 0, 1], ['r', 'v1', 2, 3], ['w', 'v2', 4, 5], ['r', 'v1', 6, 7]);
    expect(violation.op.id).toBe(3);
    expect(violation.suspect?.id).toBe(4);
    expect(violation.prefixTail.map((op) => op.id)).toEqual([1, 2]);
    expect(violation.explanation).toContain('The register holds "v1", which #4 p4 read -> "v1" ok [6.0, 7.0] ms has yet');
    expect(violation.explanation).toContain('overwritten by #3');
  });
});
