import { randomBytes } from 'node:crypto';
import { FileStableStore } from '@kv/quorum';

/** The file in a data node's `DATA_DIR` that holds the directory's incarnation. */
export const INCARNATION_FILE = 'incarnation';
/** The file in a data node's `DATA_DIR` that records which incarnation a coordinator refilled. */
export const FILLED_FILE = 'filled';

/** The content of the refill record while no refill was recorded. */
const NOT_FILLED = '-';

/** The identity of a data directory and whether its data may be counted. */
export interface ReplicaIdentity {
  incarnation: string;
  /** False for a new incarnation that no coordinator has refilled yet. */
  filled: boolean;
  /** Records durably that `incarnation` was refilled. */
  recordFilled(incarnation: string): Promise<void>;
}

/**
 * The incarnation of a data directory: a random id created with the directory and kept in it. A node restarted on an
 * empty directory (a lost disk) gets a new one, and reports itself not filled until a coordinator has copied its
 * peers' data to it: it may lack acknowledged writes, so no coordinator counts it until then. A directory that
 * already had an incarnation but no record of a refill (written by an older kv) counts as filled. Records are written
 * atomically and durably, so a crash never leaves a partial id.
 */
export async function loadIncarnation(dataDir: string): Promise<ReplicaIdentity> {
  const records = new FileStableStore(dataDir);
  const recordFilled = (incarnation: string): Promise<void> => records.write(FILLED_FILE, `${incarnation}\n`);
  const existing = await records.read(INCARNATION_FILE);
  if (existing !== undefined) {
    const incarnation = existing.trim();
    if (!/^[0-9a-f]{16,64}$/.test(incarnation)) {
      throw new Error(`${dataDir}/${INCARNATION_FILE} is malformed; remove it to make this node start as a new incarnation (it will be refilled)`);
    }
    const filledRecord = await records.read(FILLED_FILE);
    if (filledRecord === undefined) {
      await recordFilled(incarnation);
      return { incarnation, filled: true, recordFilled };
    }
    return { incarnation, filled: filledRecord.trim() === incarnation, recordFilled };
  }
  const incarnation = randomBytes(8).toString('hex');
  // The record of refills first, saying "none": a crash before the incarnation is written leaves no incarnation (a new
  // one is made at the next start), and an incarnation never exists without it (which would read as an older kv's).
  await records.write(FILLED_FILE, `${NOT_FILLED}\n`);
  await records.write(INCARNATION_FILE, `${incarnation}\n`);
  return { incarnation, filled: false, recordFilled };
}
