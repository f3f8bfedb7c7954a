import { formatVersion, VersionClock } from './version-clock';
import { WalError } from './wal-error';

describe('VersionClock', () => {
  it('formats fixed-width versions whose string order is numeric order', () => {
    expect(formatVersion(0x199a1b2c3d4, 42, 's')).toBe('0199a1b2c3d4-00002a-s');
    expect(formatVersion(9, 0, 's') < formatVersion(10, 0, 's')).toBe(true);
    expect(formatVersion(10, 15, 's') < formatVersion(10, 16, 's')).toBe(true);
  });

  it('issues increasing versions, also within one millisecond', () => {
    const clock = new VersionClock(() => 1000);
    const issued = Array.from({ length: 100 }, () => clock.next());
    expect([...issued].sort()).toEqual(issued);
    expect(new Set(issued).size).toBe(100);
  });

  it('never goes backwards when the wall clock does', () => {
    let now = 5_000_000;
    const clock = new VersionClock(() => now);
    const before = clock.next();
    now = 1_000;
    const after = clock.next();
    expect(after > before).toBe(true);
    now = Number.NaN;
    expect(clock.next() > after).toBe(true);
  });

  it('follows every version observed, e.g. those found when a store is reopened', () => {
    const clock = new VersionClock(() => 1000);
    const future = formatVersion(9_000_000, 7, 'proxy');
    clock.observe(future);
    const next = clock.next();
    expect(next > future).toBe(true);
    expect(next).toBe(formatVersion(9_000_000, 8, 's'));
    clock.observe('0000');
    expect(clock.next() > next).toBe(true);
  });

  it('borrows the next millisecond when the counter is exhausted', () => {
    const clock = new VersionClock(() => 1000);
    clock.observe(formatVersion(1000, 0xffffff, 'z'));
    expect(clock.next()).toBe(formatVersion(1001, 0, 's'));
  });

  it('follows a same-width version of another layout by taking the next millisecond', () => {
    const clock = new VersionClock(() => 1000);
    clock.observe('0000000f0000~other');
    expect(clock.next()).toBe(formatVersion(0xf0001, 0, 's'));
  });

  it('throws WAL_VERSION_SPACE when it holds a version no version of its layout can follow', () => {
    const clock = new VersionClock(() => 1000);
    clock.observe('v1');
    expect(() => clock.next()).toThrow(WalError);
    expect(() => clock.next()).toThrow(expect.objectContaining({ code: 'WAL_VERSION_SPACE' }));
  });

  it('refuses suffixes that would break the fixed width or the format', () => {
    for (const bad of ['', 'a b', 'x'.repeat(33), 'é']) expect(() => new VersionClock(() => 0, bad)).toThrow(TypeError);
  });
});
