import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Replaces `file` with `content` so that a crash leaves either the old or the new content, never a mix, and the new
 * content survives a power loss once this resolves: temp file, fsync, rename, fsync of the directory.
 */
export async function writeFileDurably(file: string, content: string): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
  const dir = await fs.open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The content of `file`, or `undefined` when it does not exist. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
