import * as path from 'node:path';
import { NodeFileSystem, type FileSystem } from '@kv/wal';
import { checkRecordName, type StableStore } from './stable-store';

/** Suffix of the temporary file a record is written to before it replaces the record. */
const TEMP_SUFFIX = '.tmp';

/**
 * A {@link StableStore} of files in one directory, one file per record (named as the record), written so that a crash
 * or power loss leaves either the old or the new content: temporary file, fsync, rename over the record, fsync of the
 * directory. Takes `@kv/wal`'s file-system interface, so that tests can cut the power under it.
 */
export class FileStableStore implements StableStore {
  private ready: Promise<void> | undefined;

  /** @param dir a directory that nothing else writes records to (created on first use). */
  constructor(
    readonly dir: string,
    private readonly fs: FileSystem = new NodeFileSystem(),
  ) {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty string');
  }

  async read(name: string): Promise<string | undefined> {
    const file = path.join(this.dir, checkRecordName(name));
    let handle;
    try {
      handle = await this.fs.open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const size = await handle.size();
      const buffer = Buffer.alloc(size);
      let at = 0;
      while (at < size) {
        const read = await handle.read(buffer, at, size - at, at);
        if (read === 0) break;
        at += read;
      }
      return buffer.subarray(0, at).toString('utf8');
    } finally {
      await handle.close();
    }
  }

  async write(name: string, content: string): Promise<void> {
    const file = path.join(this.dir, checkRecordName(name));
    if (typeof content !== 'string') throw new TypeError('content must be a string');
    // The directory's own entry is made durable too: a power cut must not take away a directory whose records were synced.
    this.ready ??= this.fs
      .mkdir(this.dir)
      .then(() => this.fs.syncDir(path.dirname(this.dir)))
      .catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
    await this.ready;
    const temp = file + TEMP_SUFFIX;
    const handle = await this.fs.open(temp, 'w');
    try {
      await handle.write(Buffer.from(content, 'utf8'), 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.fs.rename(temp, file);
    await this.fs.syncDir(this.dir);
  }
}
