import fc from 'fast-check';
import { ErrorCode } from './errors';
import { kvErrorOf } from './testing/kv-error-of';
import {
  compareVersions,
  decodeVersion,
  encodeVersion,
  isClockId,
  isNewerVersion,
  isVersion,
  validateVersion,
  VERSION_COUNTER_MAX,
  VERSION_LENGTH_MAX,
  VERSION_MS_MAX,
  VersionParts,
} from './version';

/** Arbitrary valid version parts. */
const versionParts = fc.record({
  ms: fc.oneof(fc.integer({ min: 0, max: VERSION_MS_MAX }), fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 })),
  counter: fc.oneof(fc.integer({ min: 0, max: VERSION_COUNTER_MAX }), fc.constantFrom(0, 1, VERSION_COUNTER_MAX)),
  clockId: fc.stringMatching(/^[a-z0-9_-]{1,16}$/),
});

function compareTuples(a: VersionParts, b: VersionParts): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return a.clockId < b.clockId ? -1 : a.clockId > b.clockId ? 1 : 0;
}

describe('version encoding', () => {
  it('has the documented fixed-width format', () => {
    expect(encodeVersion({ ms: 0x192f1a2b3c4, counter: 0, clockId: 'proxy' })).toBe('0192f1a2b3c4-0000-proxy');
    expect(encodeVersion({ ms: 0, counter: 0xabc, clockId: 'p-1_x' })).toBe('000000000000-0abc-p-1_x');
    expect(encodeVersion({ ms: VERSION_MS_MAX, counter: VERSION_COUNTER_MAX, clockId: 'z'.repeat(16) })).toHaveLength(
      VERSION_LENGTH_MAX,
    );
  });

  it('round-trips through decodeVersion (property)', () => {
    fc.assert(
      fc.property(versionParts, (parts) => {
        const version = encodeVersion(parts);
        expect(isVersion(version)).toBe(true);
        expect(decodeVersion(version)).toEqual(parts);
      }),
    );
  });

  it('orders strings as it orders tuples (property)', () => {
    fc.assert(
      fc.property(versionParts, versionParts, (a, b) => {
        expect(Math.sign(compareVersions(encodeVersion(a), encodeVersion(b)))).toBe(Math.sign(compareTuples(a, b)));
      }),
    );
  });

  it('orders clock ids that are prefixes of each other', () => {
    const a = encodeVersion({ ms: 5, counter: 1, clockId: 'p' });
    const b = encodeVersion({ ms: 5, counter: 1, clockId: 'p-2' });
    const c = encodeVersion({ ms: 5, counter: 2, clockId: 'a' });
    expect([c, b, a].sort()).toEqual([a, b, c]);
  });

  it.each([
    ['a negative ms', { ms: -1, counter: 0, clockId: 'p' }],
    ['a fractional ms', { ms: 1.5, counter: 0, clockId: 'p' }],
    ['an ms over 48 bits', { ms: VERSION_MS_MAX + 1, counter: 0, clockId: 'p' }],
    ['a counter over 16 bits', { ms: 1, counter: VERSION_COUNTER_MAX + 1, clockId: 'p' }],
    ['an empty clock id', { ms: 1, counter: 0, clockId: '' }],
    ['an upper-case clock id', { ms: 1, counter: 0, clockId: 'Proxy' }],
    ['a long clock id', { ms: 1, counter: 0, clockId: 'p'.repeat(17) }],
  ])('refuses to encode %s (a bug: TypeError)', (_name, parts) => {
    expect(() => encodeVersion(parts)).toThrow(TypeError);
  });

  it.each([
    '',
    'yesterday',
    '0192f1a2b3c4-0000-',
    '0192f1a2b3c4-0000-Proxy',
    '0192F1A2B3C4-0000-proxy',
    '192f1a2b3c4-0000-proxy',
    '0192f1a2b3c4-000-proxy',
    '0192f1a2b3c4_0000_proxy',
    '0192f1a2b3c4-0000-proxy\n',
    `0192f1a2b3c4-0000-${'p'.repeat(17)}`,
  ])('rejects %j from the wire with KV_BAD_REQUEST', (s) => {
    expect(isVersion(s)).toBe(false);
    expect(kvErrorOf(() => decodeVersion(s)).code).toBe(ErrorCode.BadRequest);
    expect(kvErrorOf(() => validateVersion(s)).code).toBe(ErrorCode.BadRequest);
  });

  it('validates versions of any type', () => {
    expect(kvErrorOf(() => validateVersion(undefined, 'version')).message).toMatch(/^version must be a version/);
    expect(kvErrorOf(() => validateVersion(['a', 'b'])).code).toBe(ErrorCode.BadRequest);
    expect(validateVersion('0192f1a2b3c4-0000-proxy')).toBe('0192f1a2b3c4-0000-proxy');
  });

  it('applies only newer versions', () => {
    const older = '0192f1a2b3c4-0000-proxy';
    const newer = '0192f1a2b3c4-0001-proxy';
    expect(isNewerVersion(newer, older)).toBe(true);
    expect(isNewerVersion(older, newer)).toBe(false);
    expect(isNewerVersion(older, older)).toBe(false);
    expect(isNewerVersion(older, undefined)).toBe(true);
  });

  it('validates clock ids', () => {
    expect(isClockId('proxy')).toBe(true);
    expect(isClockId('p1_-')).toBe(true);
    expect(isClockId('')).toBe(false);
    expect(isClockId('pröxy')).toBe(false);
    expect(isClockId(1)).toBe(false);
  });
});
