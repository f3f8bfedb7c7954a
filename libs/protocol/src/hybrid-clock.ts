import {
  CLOCK_ID_LENGTH_MAX,
  decodeVersion,
  encodeVersion,
  isClockId,
  VERSION_COUNTER_MAX,
  VERSION_MS_MAX,
  VersionParts,
} from './version';

/** A source of wall-clock time in milliseconds since the Unix epoch (`Date` in production, a fake in tests). */
export interface WallClock {
  now(): number;
}

/**
 * How far ahead of the wall clock an observed version may be and still be followed: one minute is far beyond the skew of
 * NTP-disciplined clocks, and small enough that one corrupt or runaway version cannot pin every later version far ahead.
 */
export const HLC_DRIFT_MS_MAX_DEFAULT = 60_000;

/** Options of {@link HybridClock}. */
export interface HybridClockOptions {
  /** The wall clock; read once per {@link HybridClock.next} and {@link HybridClock.observe}. */
  clock: WallClock;
  /** This clock's id, the last field of its versions: 1 to 16 characters of `[a-z0-9_-]`, unique per coordinator. */
  clockId: string;
  /** No version is issued with a smaller ms (the floor persisted by the previous run); default 0. */
  floorMs?: number;
  /** Observed versions further ahead of the wall clock are ignored; default {@link HLC_DRIFT_MS_MAX_DEFAULT}. */
  driftMsMax?: number;
}

/**
 * The hybrid logical clock of a coordinator: issues versions (see `version.ts`) that are strictly increasing, close to
 * wall-clock time, and after every version it has observed.
 *
 * Guarantees:
 * - every {@link next} is strictly greater (as a string) than every version this instance issued or accepted in
 *   {@link observe}, even when the wall clock steps back (the counter advances; past {@link VERSION_COUNTER_MAX} the ms
 *   advances logically);
 * - no version has an ms below the floor ({@link floorMs}, {@link raiseFloor}). To survive restarts, persist a floor
 *   greater than {@link lastMs} before relying on versions above the previously persisted one, and start the next run
 *   with it.
 *
 * One instance per process: it needs no locking within an event loop, and two live instances with the same clock id could
 * issue equal versions for different writes.
 */
export class HybridClock {
  /** This clock's id. */
  readonly clockId: string;
  private readonly clock: WallClock;
  private readonly driftMsMax: number;
  private floor: number;
  private ms = -1;
  private counter = 0;

  /**
   * @throws TypeError when `clockId` is not a valid clock id, or `floorMs` / `driftMsMax` are not non-negative integers
   * (`driftMsMax` may be `Infinity`).
   */
  constructor(options: HybridClockOptions) {
    if (!isClockId(options.clockId)) {
      throw new TypeError(
        `clock id must be 1 to ${CLOCK_ID_LENGTH_MAX} characters of [a-z0-9_-], got ${JSON.stringify(options.clockId)}`,
      );
    }
    const driftMsMax = options.driftMsMax ?? HLC_DRIFT_MS_MAX_DEFAULT;
    if (!(driftMsMax === Infinity || (Number.isSafeInteger(driftMsMax) && driftMsMax >= 0))) {
      throw new TypeError(`driftMsMax must be a non-negative integer or Infinity, got ${driftMsMax}`);
    }
    this.clockId = options.clockId;
    this.clock = options.clock;
    this.driftMsMax = driftMsMax;
    this.floor = checkMs(options.floorMs ?? 0, 'floorMs');
  }

  /**
   * Issues the next version.
   * @throws TypeError when the wall clock returns something that is not a finite number; RangeError when the ms would pass
   * {@link VERSION_MS_MAX} (the year 10889).
   */
  next(): string {
    const physical = Math.max(this.wallMs(), this.floor);
    if (physical > this.ms) {
      this.ms = physical;
      this.counter = 0;
    } else if (this.counter < VERSION_COUNTER_MAX) {
      this.counter++;
    } else {
      // The counter is exhausted for this millisecond: move to the next one logically, ahead of the wall clock.
      this.advanceMs(this.ms + 1);
      this.counter = 0;
    }
    return encodeVersion({ ms: this.ms, counter: this.counter, clockId: this.clockId });
  }

  /**
   * Takes a version seen elsewhere (a replica's answer) into account, so that every later {@link next} sorts after it
   * (the HLC receive rule). A version more than `driftMsMax` ahead of the wall clock is not followed.
   * @returns true when the version is now behind the clock, false when it was ignored for being too far ahead.
   * @throws KvError `KV_BAD_REQUEST` when `version` is malformed.
   */
  observe(version: string): boolean {
    const parts = decodeVersion(version);
    if (parts.ms > this.wallMs() + this.driftMsMax) return false;
    if (parts.ms > this.ms) {
      this.ms = parts.ms;
      this.counter = parts.counter;
    } else if (parts.ms === this.ms && parts.counter > this.counter) {
      this.counter = parts.counter;
    }
    return true;
  }

  /**
   * Raises the floor: no later version has an ms below `floorMs`. A lower value than the current floor is ignored.
   * @throws TypeError when `floorMs` is not an integer from 0 to {@link VERSION_MS_MAX}.
   */
  raiseFloor(floorMs: number): void {
    this.floor = Math.max(this.floor, checkMs(floorMs, 'floorMs'));
  }

  /** The current floor in ms. */
  get floorMs(): number {
    return this.floor;
  }

  /**
   * The ms of the newest version issued or observed (-1 before any): the value a persisted floor must stay above so that
   * a restart cannot issue an older version.
   */
  get lastMs(): number {
    return this.ms;
  }

  /** The parts of the newest version issued or observed, or undefined before any. */
  get last(): VersionParts | undefined {
    return this.ms < 0 ? undefined : { ms: this.ms, counter: this.counter, clockId: this.clockId };
  }

  private wallMs(): number {
    const now = this.clock.now();
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new TypeError(`the wall clock must return a finite number of ms, got ${now}`);
    }
    // A wall clock before the epoch reads as 0; the floor and the counter keep versions increasing regardless.
    return now <= 0 ? 0 : Math.min(Math.floor(now), VERSION_MS_MAX);
  }

  private advanceMs(ms: number): void {
    if (ms > VERSION_MS_MAX) throw new RangeError(`hybrid clock passed the largest version ms ${VERSION_MS_MAX}`);
    this.ms = ms;
  }
}

function checkMs(ms: number, name: string): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > VERSION_MS_MAX) {
    throw new TypeError(`${name} must be an integer from 0 to ${VERSION_MS_MAX}, got ${ms}`);
  }
  return ms;
}
