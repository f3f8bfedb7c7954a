import * as path from 'node:path';
import type { FileSystem } from '../file-system';

/**
 * The behaviour every {@link FileSystem} must have (apart from crash rules), as one suite run against each
 * implementation. `setup` gives a fresh file system and an existing empty directory in it.
 */
export function describeFileSystemCompliance(
  name: string,
  setup: () => Promise<{ fs: FileSystem; dir: string }>,
  teardown: () => Promise<void> = async () => undefined,
): void {
  describe(`${name} (FileSystem compliance)`, () => {
    let fs: FileSystem;
    let dir: string;
    beforeEach(async () => ({ fs, dir } = await setup()));
    afterEach(teardown);

    const read = async (file: string): Promise<Buffer> => {
      const handle = await fs.open(file, 'r');
      try {
        const size = await handle.size();
        const buffer = Buffer.alloc(size);
        expect(await handle.read(buffer, 0, size, 0)).toBe(size);
        return buffer;
      } finally {
        await handle.close();
      }
    };

    it('creates, writes at positions, reads, truncates and sizes files', async () => {
      const file = path.join(dir, 'a');
      let handle = await fs.open(file, 'wx');
      await handle.write(Buffer.from('hello'), 0);
      await handle.writev([Buffer.from(' '), Buffer.from('world')], 5);
      await handle.datasync();
      expect(await handle.size()).toBe(11);
      await expect(handle.read(Buffer.alloc(1), 0, 1, 0)).rejects.toMatchObject({ code: 'EBADF' });
      await handle.close();
      handle = await fs.open(file, 'r+');
      await handle.truncate(5);
      await handle.sync();
      expect(await handle.size()).toBe(5);
      const buffer = Buffer.alloc(12);
      expect(await handle.read(buffer, 2, 10, 1)).toBe(4);
      expect(buffer.toString('latin1', 2, 6)).toBe('ello');
      expect(await handle.read(buffer, 0, 10, 5)).toBe(0);
      await handle.close();
      expect((await read(file)).toString()).toBe('hello');
    });

    it('follows the open modes', async () => {
      const file = path.join(dir, 'b');
      await expect(fs.open(file, 'r')).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(fs.open(file, 'r+')).rejects.toMatchObject({ code: 'ENOENT' });
      const created = await fs.open(file, 'w');
      await created.write(Buffer.from('abc'), 0);
      await created.close();
      await expect(fs.open(file, 'wx')).rejects.toMatchObject({ code: 'EEXIST' });
      const updated = await fs.open(file, 'r+');
      await updated.write(Buffer.from('X'), 1);
      await updated.close();
      expect((await read(file)).toString()).toBe('aXc');
      const truncated = await fs.open(file, 'w');
      expect(await truncated.size()).toBe(0);
      await truncated.close();
      const readOnly = await fs.open(file, 'r');
      await expect(readOnly.write(Buffer.from('x'), 0)).rejects.toBeDefined();
      await readOnly.close();
    });

    it('lists, renames (replacing the target) and unlinks entries, and syncs directories', async () => {
      await fs.mkdir(path.join(dir, 'sub', 'deeper'));
      await fs.mkdir(path.join(dir, 'sub'));
      for (const name of ['x', 'y']) {
        const handle = await fs.open(path.join(dir, 'sub', name), 'wx');
        await handle.write(Buffer.from(name), 0);
        await handle.close();
      }
      expect((await fs.readdir(path.join(dir, 'sub'))).sort()).toEqual(['deeper', 'x', 'y']);
      await fs.rename(path.join(dir, 'sub', 'x'), path.join(dir, 'sub', 'y'));
      expect((await read(path.join(dir, 'sub', 'y'))).toString()).toBe('x');
      await fs.unlink(path.join(dir, 'sub', 'y'));
      await fs.syncDir(path.join(dir, 'sub'));
      expect(await fs.readdir(path.join(dir, 'sub'))).toEqual(['deeper']);
      await expect(fs.unlink(path.join(dir, 'sub', 'y'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(fs.rename(path.join(dir, 'nope'), path.join(dir, 'z'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(fs.readdir(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('keeps writing to a file through its handle after a rename', async () => {
      const handle = await fs.open(path.join(dir, 'old'), 'wx');
      await handle.write(Buffer.from('ab'), 0);
      await fs.rename(path.join(dir, 'old'), path.join(dir, 'new'));
      await handle.write(Buffer.from('cd'), 2);
      await handle.close();
      expect((await read(path.join(dir, 'new'))).toString()).toBe('abcd');
    });
  });
}
