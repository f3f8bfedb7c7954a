import { createHash } from 'node:crypto';
import { countsOf, pagePolicy } from './status-page';
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

describe('pagePolicy', () => {
  test('allows exactly the inline script and styles of the page, by their hashes, and requests to this proxy only', () => {
    const sha = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
    const policy = pagePolicy('<html><style>body{}</style><script>go()</script></html>');
    expect(policy).toContain(`script-src ${sha('go()')};`);
    expect(policy).toContain(`style-src ${sha('body{}')};`);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(pagePolicy('<title>x</title>')).toContain("script-src 'none'");
  });
});
