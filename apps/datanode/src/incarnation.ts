import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, writeFileDurably } from '@kv/service';

/** The file in a data node's `DATA_DIR` that holds the directory's incarnation. */
export const INCARNATION_FILE = 'incarnation';

/**
 * The incarnation of a data directory: a random id created with the directory and kept in it. A node restarted on an
 * empty directory (a lost disk) gets a new one, which tells the proxy that the node lost what it held and must be
 * refilled before it counts toward quorums again. Created atomically (temp file, fsync, rename, fsync of the
 * directory), so a crash never leaves a partial id.
 */
export async function loadIncarnation(dataDir: string): Promise<string> {
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, INCARNATION_FILE);
  const existing = await readFileIfExists(file);
  if (existing !== undefined) {
    const id = existing.trim();
    if (/^[0-9a-f]{16,64}$/.test(id)) return id;
    throw new Error(`${file} is malformed; remove it to make this node start as a new incarnation (it will be refilled)`);
  }
  const id = randomBytes(8).toString('hex');
  await writeFileDurably(file, `${id}\n`);
  return id;
}
