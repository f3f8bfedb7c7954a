import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, writeFileDurably } from '@kv/service';

/** The file in the proxy's `DATA_DIR` that holds the clock floor. */
export const CLOCK_FLOOR_FILE = 'clock-floor';
/**
 * How far ahead of the wall clock the floor is written: versions issued until then are covered by the floor on disk,
 * so a restart (even with the wall clock stepped back) issues versions above every one issued before.
 */
export const CLOCK_FLOOR_LEAD_MS = 10_000;
/** The floor is pushed ahead again when the wall clock comes this close to it. */
export const CLOCK_FLOOR_MARGIN_MS = 5_000;

/**
 * The durable lower bound of the proxy's version clock. Written ahead of time (now + lead), atomically (temp file,
 * fsync, rename, fsync of the directory), and read at start-up: the clock never issues a version below it.
 */
export class ClockFloor {
  private persistedMs: number;
  private writing: Promise<void> | undefined;

  private constructor(
    private readonly file: string,
    floorMs: number,
  ) {
    this.persistedMs = floorMs;
  }

  /** Reads the floor in `dir` (0 when there is none yet). @throws on a malformed floor file: never guess a clock. */
  static async open(dir: string): Promise<ClockFloor> {
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, CLOCK_FLOOR_FILE);
    let floorMs = 0;
    const content = await readFileIfExists(file);
    if (content !== undefined) {
      const text = content.trim();
      if (!/^\d{1,16}$/.test(text)) throw new Error(`${file} is malformed: expected milliseconds, got ${JSON.stringify(text.slice(0, 40))}`);
      floorMs = Number(text);
    }
    return new ClockFloor(file, floorMs);
  }

  /** The floor on disk, in ms. */
  get floorMs(): number {
    return this.persistedMs;
  }

  /**
   * Makes sure the floor on disk is at least `issuedMs + margin`; call it with the clock's latest time before issuing
   * versions up to it. Resolves at once when the floor is already far enough ahead.
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
    await writeFileDurably(this.file, `${floorMs}\n`);
    this.persistedMs = Math.max(this.persistedMs, floorMs);
  }
}
