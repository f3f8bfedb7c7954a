import { ErrorCode, KvError } from '@kv/protocol';
import type { StableStore } from './stable-store';

/** The record of the {@link StableStore} that holds the clock floor. */
export const CLOCK_FLOOR_RECORD = 'clock-floor';
/**
 * How far ahead of the clock the floor is written: versions issued until then are covered by the floor on disk, so a
 * restart (even with the wall clock stepped back) issues versions above every one issued before.
 */
export const CLOCK_FLOOR_LEAD_MS = 10_000;
/** The floor is pushed ahead again when the clock comes this close to it. */
export const CLOCK_FLOOR_MARGIN_MS = 5_000;

/**
 * The durable lower bound of a coordinator's version clock: written ahead of time (now + lead) to a {@link StableStore}
 * (atomically and durably), and read at start-up; the clock never issues a version below it.
 *
 * Concurrency: one write at a time; callers of {@link ClockFloor.ensureAbove} during a write share it.
 */
export class ClockFloor {
  private persistedMs: number;
  private writing: Promise<void> | undefined;

  private constructor(
    private readonly store: StableStore,
    floorMs: number,
    /** Whether the floor record existed when the floor was opened. */
    readonly found: boolean,
  ) {
    this.persistedMs = floorMs;
  }

  /**
   * Reads the floor (0 when there is none yet: a new coordinator, or one whose record was lost; {@link ClockFloor.found}
   * tells which).
   * @throws Error on a malformed floor record: never guess a clock. Rejects on an I/O failure.
   */
  static async open(store: StableStore): Promise<ClockFloor> {
    const content = await store.read(CLOCK_FLOOR_RECORD);
    if (content === undefined) return new ClockFloor(store, 0, false);
    const text = content.trim();
    if (!/^\d{1,16}$/.test(text)) {
      throw new Error(`the clock floor record is malformed: expected milliseconds, got ${JSON.stringify(text.slice(0, 40))}`);
    }
    return new ClockFloor(store, Number(text), true);
  }

  /** The floor on disk, in ms. */
  get floorMs(): number {
    return this.persistedMs;
  }

  /**
   * Makes sure the floor on disk is at least `issuedMs + margin`; call it with the clock's latest time before issuing
   * versions up to it. Resolves at once when the floor is already far enough ahead.
   * @throws KvError `KV_NOT_READY` (its `cause` the store's error) when the floor cannot be written: versions beyond
   * the floor on disk are never issued, so writes are refused until the disk takes the floor again.
   */
  async ensureAbove(issuedMs: number): Promise<void> {
    while (issuedMs + CLOCK_FLOOR_MARGIN_MS > this.persistedMs) {
      if (this.writing === undefined) {
        const target = issuedMs + CLOCK_FLOOR_LEAD_MS;
        this.writing = this.write(target).finally(() => {
          this.writing = undefined;
        });
      }
      await this.writing;
    }
  }

  /** Whether versions up to `issuedMs` are covered by the floor on disk. */
  covers(issuedMs: number): boolean {
    return issuedMs < this.persistedMs;
  }

  private async write(floorMs: number): Promise<void> {
    try {
      await this.store.write(CLOCK_FLOOR_RECORD, `${floorMs}\n`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      throw new KvError(
        ErrorCode.NotReady,
        `this proxy cannot persist its clock floor in DATA_DIR${code === undefined ? '' : ` (${code})`}: writes are refused until it can ` +
          '(free space on or repair the disk of DATA_DIR); reads are served',
        { cause: error },
      );
    }
    this.persistedMs = Math.max(this.persistedMs, floorMs);
  }
}
