import { VERSION_BYTES_MAX } from './format';
import { WalError, WalErrorCode } from './wal-error';

/** Hex digits of the milliseconds of a store-assigned version: 12 reach the year 10889. */
const MS_DIGITS = 12;
/** Hex digits of the counter of a store-assigned version: 16.7 million versions per millisecond before borrowing. */
const COUNTER_DIGITS = 6;
const MS_MAX = 16 ** MS_DIGITS - 1;
const COUNTER_MAX = 16 ** COUNTER_DIGITS - 1;
const PREFIX = /^([0-9a-f]{12})(?:-([0-9a-f]{6})(?![0-9a-f]))?/;

/** Default suffix of store-assigned versions. */
export const VERSION_SUFFIX_DEFAULT = 's';
/** Characters allowed in a version suffix (fixed per store, so a short id such as a node name). */
export const VERSION_SUFFIX_PATTERN = /^[0-9A-Za-z_.]{1,32}$/;

/** Formats a store-assigned version: `<12 hex ms>-<6 hex counter>-<suffix>`. */
export function formatVersion(ms: number, counter: number, suffix: string): string {
  return `${ms.toString(16).padStart(MS_DIGITS, '0')}-${counter.toString(16).padStart(COUNTER_DIGITS, '0')}-${suffix}`;
}

/**
 * Issues the versions of writes that come without one: a hybrid logical clock whose (milliseconds, counter) never
 * decreases, and whose every version is greater (as a string) than every version observed or issued before, whatever
 * the wall clock does. Observing the versions found when a store is opened keeps it increasing across reopen.
 */
export class VersionClock {
  private greatest = '';
  private lastMs = 0;
  private counter = -1;
  // The formatted milliseconds of `lastMs`: most versions share it, and formatting is most of the cost of `next`.
  private msText = '';
  private msTextOf = -1;

  /**
   * @param now the wall clock in milliseconds (injected so that tests can step it back).
   * @param suffix appended to every version issued.
   * @throws TypeError if `suffix` does not match {@link VERSION_SUFFIX_PATTERN}.
   */
  constructor(
    private readonly now: () => number,
    private readonly suffix: string = VERSION_SUFFIX_DEFAULT,
  ) {
    if (typeof suffix !== 'string' || !VERSION_SUFFIX_PATTERN.test(suffix)) {
      throw new TypeError(`versionSuffix must match ${VERSION_SUFFIX_PATTERN}, got ${JSON.stringify(suffix)}`);
    }
  }

  /** The greatest version observed or issued ('' if none). */
  get floor(): string {
    return this.greatest;
  }

  /** Takes note of a version held or written by the store. */
  observe(version: string): void {
    if (version > this.greatest) this.greatest = version;
  }

  /**
   * The next version: greater than every version observed or issued.
   * @throws WalError `WAL_VERSION_SPACE` if the floor is a version that no version of this layout can follow.
   */
  next(): string {
    const wall = this.now();
    let ms = Number.isFinite(wall) ? Math.max(Math.floor(wall), this.lastMs) : this.lastMs;
    let counter = ms === this.lastMs ? this.counter + 1 : 0;
    if (counter > COUNTER_MAX) {
      ms++;
      counter = 0;
    }
    let version = this.format(Math.min(ms, MS_MAX), counter);
    if (version <= this.greatest) {
      const match = PREFIX.exec(this.greatest);
      if (match === null) throw this.noSpace();
      ms = parseInt(match[1], 16);
      if (match[2] === undefined) {
        ms++;
        counter = 0;
      } else {
        counter = parseInt(match[2], 16) + 1;
        if (counter > COUNTER_MAX) {
          ms++;
          counter = 0;
        }
      }
      version = this.format(ms, counter);
    }
    if (ms > MS_MAX || version <= this.greatest || Buffer.byteLength(version) > VERSION_BYTES_MAX) throw this.noSpace();
    this.lastMs = ms;
    this.counter = counter;
    this.greatest = version;
    return version;
  }

  private format(ms: number, counter: number): string {
    if (ms !== this.msTextOf) {
      this.msText = ms.toString(16).padStart(MS_DIGITS, '0');
      this.msTextOf = ms;
    }
    return `${this.msText}-${counter.toString(16).padStart(COUNTER_DIGITS, '0')}-${this.suffix}`;
  }

  private noSpace(): WalError {
    return new WalError(
      WalErrorCode.VersionSpace,
      `the store holds version ${JSON.stringify(this.greatest)}, which no store-assigned version can follow; write with explicit versions`,
    );
  }
}
