import fc from 'fast-check';
import { HybridClock } from './hybrid-clock';
import { decodeVersion, encodeVersion, VERSION_COUNTER_MAX } from './version';

const T0 = 1_730_000_000_000;

/** A wall clock the test sets. */
class FakeClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

type Action =
  | { kind: 'next'; now: number }
  | { kind: 'observe'; now: number; offset: number; counter: number; clockId: string }
  | { kind: 'floor'; now: number; floorOffset: number };

// Wall-clock readings around T0 that jump forward and back by up to a minute, sometimes fractional.
const now = fc.oneof(fc.integer({ min: T0 - 60_000, max: T0 + 60_000 }), fc.double({ min: T0 - 1000, max: T0 + 1000, noNaN: true }));
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('next' as const), now }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('observe' as const),
      now,
      offset: fc.integer({ min: -120_000, max: 120_000 }),
      counter: fc.integer({ min: 0, max: VERSION_COUNTER_MAX }),
      clockId: fc.stringMatching(/^[a-z0-9_-]{1,16}$/),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('floor' as const), now, floorOffset: fc.integer({ min: -10_000, max: 70_000 }) }),
  },
);

describe('HybridClock', () => {
  it('issues strictly increasing versions, after all it observed, never below the floor nor the wall clock (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: T0 - 5000, max: T0 + 5000 }), fc.array(action, { maxLength: 200 }), (floorMs, actions) => {
        const wall = new FakeClock(T0);
        const clock = new HybridClock({ clock: wall, clockId: 'proxy', floorMs });
        let floor = floorMs;
        let newest = '';
        for (const a of actions) {
          wall.ms = a.now;
          if (a.kind === 'next') {
            const version = clock.next();
            expect(version > newest).toBe(true);
            const { ms } = decodeVersion(version);
            expect(ms).toBeGreaterThanOrEqual(floor);
            expect(ms).toBeGreaterThanOrEqual(Math.floor(a.now));
            newest = version;
          } else if (a.kind === 'observe') {
            const ms = Math.max(0, Math.floor(a.now) + a.offset);
            const seen = encodeVersion({ ms, counter: a.counter, clockId: a.clockId });
            const followed = clock.observe(seen);
            expect(followed).toBe(ms <= Math.floor(a.now) + 60_000);
            if (followed && seen > newest) newest = seen;
          } else {
            floor = Math.max(floor, Math.floor(a.now) + a.floorOffset);
            clock.raiseFloor(Math.floor(a.now) + a.floorOffset);
            expect(clock.floorMs).toBe(floor);
          }
        }
        expect(clock.next() > newest).toBe(true);
      }),
    );
  });

  it('keeps increasing when the wall clock steps back', () => {
    const wall = new FakeClock(T0);
    const clock = new HybridClock({ clock: wall, clockId: 'p' });
    const a = clock.next();
    wall.ms = T0 - 10_000;
    const b = clock.next();
    const c = clock.next();
    expect(a < b && b < c).toBe(true);
    expect(decodeVersion(c)).toEqual({ ms: T0, counter: 2, clockId: 'p' });
    wall.ms = T0 + 1;
    expect(decodeVersion(clock.next())).toEqual({ ms: T0 + 1, counter: 0, clockId: 'p' });
  });

  it('moves to the next millisecond logically when the counter is exhausted', () => {
    const clock = new HybridClock({ clock: new FakeClock(T0), clockId: 'p' });
    let previous = '';
    let increasing = true;
    for (let i = 0; i <= VERSION_COUNTER_MAX; i++) {
      const version = clock.next();
      increasing &&= version > previous;
      previous = version;
    }
    expect(increasing).toBe(true);
    expect(decodeVersion(previous)).toEqual({ ms: T0, counter: VERSION_COUNTER_MAX, clockId: 'p' });
    const next = clock.next();
    expect(decodeVersion(next)).toEqual({ ms: T0 + 1, counter: 0, clockId: 'p' });
    expect(next > previous).toBe(true);
  });

  it('starts at the floor after a restart with a clock behind it', () => {
    const clock = new HybridClock({ clock: new FakeClock(T0), clockId: 'p', floorMs: T0 + 10_000 });
    expect(decodeVersion(clock.next()).ms).toBe(T0 + 10_000);
    expect(clock.lastMs).toBe(T0 + 10_000);
  });

  it('sorts after an observed version of another clock in the same millisecond', () => {
    const clock = new HybridClock({ clock: new FakeClock(T0), clockId: 'a' });
    const other = encodeVersion({ ms: T0, counter: 5, clockId: 'zzz' });
    expect(clock.observe(other)).toBe(true);
    const mine = clock.next();
    expect(mine > other).toBe(true);
    expect(decodeVersion(mine)).toEqual({ ms: T0, counter: 6, clockId: 'a' });
  });

  it('ignores a version too far ahead of the wall clock', () => {
    const clock = new HybridClock({ clock: new FakeClock(T0), clockId: 'a', driftMsMax: 1000 });
    const runaway = encodeVersion({ ms: T0 + 1001, counter: 0, clockId: 'b' });
    expect(clock.observe(runaway)).toBe(false);
    expect(clock.next() < runaway).toBe(true);
    expect(clock.observe(encodeVersion({ ms: T0 + 1000, counter: 0, clockId: 'b' }))).toBe(true);
  });

  it('follows any version with driftMsMax Infinity', () => {
    const clock = new HybridClock({ clock: new FakeClock(T0), clockId: 'a', driftMsMax: Infinity });
    const far = encodeVersion({ ms: T0 + 10_000_000, counter: 0, clockId: 'b' });
    expect(clock.observe(far)).toBe(true);
    expect(clock.next() > far).toBe(true);
  });

  it('rejects bad options and a broken wall clock as bugs', () => {
    const wall = new FakeClock(T0);
    expect(() => new HybridClock({ clock: wall, clockId: 'Proxy' })).toThrow(TypeError);
    expect(() => new HybridClock({ clock: wall, clockId: 'p', floorMs: -1 })).toThrow(TypeError);
    expect(() => new HybridClock({ clock: wall, clockId: 'p', driftMsMax: -1 })).toThrow(TypeError);
    expect(() => new HybridClock({ clock: { now: () => NaN }, clockId: 'p' }).next()).toThrow(TypeError);
    expect(() => new HybridClock({ clock: wall, clockId: 'p' }).raiseFloor(1.5)).toThrow(TypeError);
  });

  it('reports its last version', () => {
    const clock = new HybridClock({ clock: new FakeClock(T0), clockId: 'p' });
    expect(clock.last).toBeUndefined();
    expect(clock.lastMs).toBe(-1);
    clock.next();
    expect(clock.last).toEqual({ ms: T0, counter: 0, clockId: 'p' });
  });
});
