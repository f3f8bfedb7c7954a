import { randomBytes } from 'node:crypto';
import { FileStableStore } from '@kv/quorum';

/** The file in a data node's `DATA_DIR` that holds the directory's incarnation. */
export const INCARNATION_FILE = 'incarnation';

/**
 * The incarnation of a data directory: a random id created with the directory and kept in it. A node restarted on an
 * empty directory (a lost disk) gets a new one, which tells the proxy that the node lost what it held and must be
 * refilled before it counts toward quorums again. Written atomically and durably (a stable-store record), so a crash
 * never leaves a partial id.
 */
export async function loadIncarnation(dataDir: string): Promise<string> {
  const records = new FileStableStore(dataDir);
  const existing = await records.read(INCARNATION_FILE);
  if (existing !== undefined) {
    const id = existing.trim();
    if (/^[0-9a-f]{16,64}$/.test(id)) return id;
    throw new Error(`${dataDir}/${INCARNATION_FILE} is malformed; remove it to make this node start as a new incarnation (it will be refilled)`);
  }
  const id = randomBytes(8).toString('hex');
  await records.write(INCARNATION_FILE, `${id}\n`);
  return id;
}
