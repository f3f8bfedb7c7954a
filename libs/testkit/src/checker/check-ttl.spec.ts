import { checkTtl, formatTtl, type TtlOperation } from './check-ttl';

/** A version whose ms is `ms` (the coordinator's format: 12 hex digits of ms, a counter, a clock id). */
const version = (ms: number, counter = 0): string => `${ms.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-p1`;

let nextId = 0;
function op(fields: Partial<TtlOperation> & Pick<TtlOperation, 'kind' | 'invokedAt' | 'completedAt'>): TtlOperation {
  return { id: nextId++, process: 0, key: 'k', value: null, outcome: 'ok', ...fields };
}
const set = (value: string, invokedAt: number, completedAt: number, ttlMs?: number, outcome: TtlOperation['outcome'] = 'ok'): TtlOperation =>
  op({
    kind: 'set',
    value,
    invokedAt,
    completedAt,
    outcome,
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(outcome === 'ok' ? { version: version(invokedAt + 1) } : {}),
    ...(outcome === 'ok' && ttlMs !== undefined ? { expiresAt: invokedAt + 1 + ttlMs } : {}),
  });
const read = (value: string | null, invokedAt: number, found?: { version: string; expiresAt?: number }): TtlOperation =>
  op({ kind: 'read', value, invokedAt, completedAt: invokedAt + 5, ...(found ?? {}) });

describe('checkTtl', () => {
  test('a clean history passes: values read before they expire, not found after, a later plain set read back', () => {
    const a = set('a', 1000, 1010, 2000); // version ms 1001, expires at 3001
    const b = set('b', 4000, 4010); // no ttl
    const history = [
      a,
      read('a', 1500, { version: a.version as string, expiresAt: 3001 }),
      read('a', 3001, { version: a.version as string, expiresAt: 3001 }), // began at the expiry itself: still allowed
      read(null, 3500),
      b,
      read('b', 4500, { version: b.version as string }),
      op({ kind: 'delete', invokedAt: 5000, completedAt: 5010 }),
      read(null, 5100),
    ];
    const result = checkTtl(history, { clockBoundMs: 0, tombstonesLeft: 0 });
    expect(result).toMatchObject({ valid: true, sets: 2, ttlSets: 1, deletes: 1, reads: 5, expiryProbes: 1, expiryProbesNotFound: 1, violations: [] });
    expect(formatTtl(result)).toBe(
      'ttl: VALID — 2 sets (1 acknowledged with a ttl), 1 deletes, 5 reads (1 past an expiry, 1 of them not found), 0 violations, 0 tombstones left',
    );
  });

  test('an expired value that comes back is reported, beyond the clock bound only', () => {
    const a = set('a', 1000, 1010, 1000); // expires at 2001
    const late = read('a', 2600, { version: a.version as string, expiresAt: 2001 });
    const strict = checkTtl([a, late], { clockBoundMs: 0 });
    expect(strict.valid).toBe(false);
    expect(strict.violations).toMatchObject([{ kind: 'expired', expiresAt: 2001, read: late, write: a }]);
    expect(strict.expiryProbes).toBe(1);
    expect(strict.expiryProbesNotFound).toBe(0);
    expect(formatTtl(strict)).toMatch(/^ttl: INVALID .* 1 violations\n {2}read of "k" by process 0 at 2600 returned "a", expired at 2001 \(599 ms before the read began\)$/);
    // A proxy whose clock may be up to 1 s behind could still serve it at 2600.
    expect(checkTtl([a, late], { clockBoundMs: 1000 }).valid).toBe(true);
  });

  test('a set of unknown outcome expires at its version ms plus the ttl, as the read reports the version', () => {
    const a = set('a', 1000, Infinity, 1000, 'unknown');
    const v = version(5000); // it took effect late, at 5000: expires at 6000
    expect(checkTtl([a, read('a', 5500, { version: v, expiresAt: 6000 })], { clockBoundMs: 0 }).valid).toBe(true);
    const result = checkTtl([a, read('a', 6500, { version: v, expiresAt: 6000 })], { clockBoundMs: 0 });
    expect(result.violations.map((v) => v.kind)).toEqual(['expired']);
  });

  test('a value that lost its expiry (or gained one) is reported, even before it expires', () => {
    const a = set('a', 1000, 1010, 3000);
    const b = { ...set('b', 1100, 1110), key: 'k2' };
    const result = checkTtl([a, b, read('a', 1200, { version: a.version as string }), { ...read('b', 1300, { version: b.version as string, expiresAt: 9999 }), key: 'k2' }], {
      clockBoundMs: 0,
    });
    expect(result.violations.map((v) => [v.kind, v.read.value])).toEqual([
      ['expiry-changed', 'a'],
      ['expiry-changed', 'b'],
    ]);
  });

  test('a value overwritten or deleted by a later acknowledged write does not come back', () => {
    const a = set('a', 1000, 1010);
    const b = set('b', 1020, 1030);
    const del = op({ kind: 'delete', invokedAt: 1040, completedAt: 1050 });
    const overwritten = checkTtl([a, b, read('a', 1035, { version: a.version as string })], { clockBoundMs: 0 });
    expect(overwritten.violations).toMatchObject([{ kind: 'superseded', supersededBy: b }]);
    const deleted = checkTtl([b, del, read('b', 1060, { version: b.version as string })], { clockBoundMs: 0 });
    expect(deleted.violations).toMatchObject([{ kind: 'superseded', supersededBy: del }]);
    expect(formatTtl(deleted)).toMatch(/returned "b", replaced by the delete of process 0 acknowledged at 1050$/);
  });

  test('concurrent writes, writes of unknown outcome and reads begun before the overwrite completed may go either way', () => {
    const a = set('a', 1000, 1100);
    const concurrent = set('b', 1050, 1060); // began before a completed: may be ordered before it
    const unknown = set('c', 900, Infinity, undefined, 'unknown');
    const later = set('d', 1200, 1300);
    const history = [
      a,
      concurrent,
      unknown,
      later,
      read('a', 1150, { version: a.version as string }),
      read('a', 1250, { version: a.version as string }), // d had not completed yet
      read('c', 2000, { version: version(1900) }), // c took effect late, after d
    ];
    expect(checkTtl(history, { clockBoundMs: 0 }).violations).toEqual([]);
  });

  test('values nobody wrote, and tombstones left when they must all be collected, are reported', () => {
    expect(checkTtl([read('zzz', 100, { version: version(50) })], { clockBoundMs: 0 }).violations.map((v) => v.kind)).toEqual(['unwritten']);
    const a = set('a', 1000, 1010);
    expect(checkTtl([a], { clockBoundMs: 0, tombstonesLeft: 2 }).valid).toBe(false);
    expect(checkTtl([a], { clockBoundMs: 0 }).valid).toBe(true);
  });
});
