import { checkConvergence } from './check-convergence';
import { checkRegister } from './check-register';
import { checkSet } from './check-set';
import { formatReport } from './format-report';
import { history } from './testing/history-builder';

describe('formatReport', () => {
  it('prints one line for a valid register result', () => {
    const text = formatReport(checkRegister(history(['w', 'v1', 0, 1], ['r', 'v1', 2, 3])));
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toMatch(/^register: VALID — 1 key; 2 ops checked \(0 dropped\), \d+ steps, [\d.]+ ms$/);
  });

  it('details a register violation: explanation, end of the prefix, concurrent operations', () => {
    const result = checkRegister(
      history(['w', 'v1', 0, 1], ['w', 'v2', 2, 3], ['r', 'v9', 3.5, 30], ['r', 'v1', 4, 5]),
    );
    const lines = formatReport(result).split('\n');
    expect(lines[0]).toMatch(/^register: INVALID — 1 key, 1 not linearizable;/);
    expect(lines[1]).toMatch(/^ {2}key "k": #4 p4 read -> "v1" ok \[4\.0, 5\.0\] ms cannot be linearized\./);
    expect(lines).toContain('    end of the longest prefix (last 2 of 2):');
    expect(lines).toContain('      #2 p2 write "v2" ok [2.0, 3.0] ms');
    expect(lines).toContain('    not in the prefix, invoked before it completed (1 of 1):');
    expect(lines).toContain('      #3 p3 read -> "v9" ok [3.5, 30.0] ms');
  });

  it('names undecided keys and the bound that stopped them', () => {
    const ops = history(
      ...Array.from({ length: 12 }, (_, i) => [
        ['w', `v${i}`, 0, 1, 'unknown'] as const,
        ['r', `v${i}`, 1, 100] as const,
      ]).flat(),
      ['r', 'ghost', 200, 201],
    );
    const text = formatReport(checkRegister(ops, { stepsMax: 100 }));
    expect(text).toMatch(/^register: UNKNOWN — 1 key, 1 undecided;/);
    expect(text).toContain('  undecided (a search bound was reached): "k" (steps)');
  });

  it('caps the details at detailsMax and counts the rest', () => {
    const ops = history(
      ['r', 'x', 0, 1, 'ok', 'a'],
      ['r', 'x', 0, 1, 'ok', 'b'],
      ['r', 'x', 0, 1, 'ok', 'c'],
    );
    const lines = formatReport(checkRegister(ops), { detailsMax: 1 }).split('\n');
    expect(lines.filter((line) => line.startsWith('  key '))).toHaveLength(1);
    expect(lines).toContain('  … and 2 more violations');
  });

  it('summarizes a set result and lists lost and unexpected elements', () => {
    const result = checkSet(
      [
        { id: 1, value: 'a', outcome: 'ok', process: 2, invokedAt: 1, completedAt: 2 },
        { id: 2, value: 'b', outcome: 'unknown' },
        { id: 3, value: 'c', outcome: 'fail' },
      ],
      ['b', 'c', 'z'],
    );
    expect(formatReport(result).split('\n')).toEqual([
      'set: INVALID — 3 inserts (1 ok, 1 fail, 1 unknown), 3 present; lost 1, unexpected 2, duplicated 0, recovered 1 of 1 unknown',
      '  lost: #1 p2 "a" ok [1.0, 2.0] ms',
      '  unexpected: "c" (its insert failed: #3 "c" fail)',
      '  unexpected: "z" (never inserted)',
    ]);
  });

  it('summarizes a convergence result and shows each divergent key replica by replica', () => {
    const result = checkConvergence(
      new Map([
        ['k', new Map([['n1', { version: '0002', value: null }], ['n2', { version: '0001', value: 'a' }], ['n3', null]])],
        ['ok', new Map([['n1', null]])],
      ]),
    );
    expect(formatReport(result).split('\n')).toEqual([
      'convergence: INVALID — 2 keys, 1 with replicas that disagree',
      '  key "k" (version, missing): newest 0002:tombstone; n1=0002:tombstone, n2=0001:"a", n3=missing; behind: n2, n3',
    ]);
    expect(formatReport(checkConvergence(new Map()))).toBe('convergence: VALID — 0 keys, 0 with replicas that disagree');
  });

  it('rejects a negative detailsMax', () => {
    expect(() => formatReport(checkSet([], []), { detailsMax: -1 })).toThrow(TypeError);
  });
});
