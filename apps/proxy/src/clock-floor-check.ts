import { existsSync } from 'node:fs';
import { CLOCK_FLOOR_RECORD, type StableStore } from '@kv/quorum';

/**
 * Whether a proxy's clock floor was lost: it ran in this `DATA_DIR` before (its hint log, `hintDir`, exists: it is
 * created at the first start, just before the floor is first written) but the floor record is missing (deleted, or
 * a restore without it). A new `DATA_DIR` has neither, and is not a loss. Call it before the hint log is opened.
 * @throws the store's error when the record cannot be read.
 */
export async function clockFloorLost(stable: StableStore, hintDir: string): Promise<boolean> {
  if (!existsSync(hintDir)) return false;
  return (await stable.read(CLOCK_FLOOR_RECORD)) === undefined;
}
