import { PowerLossFileSystem } from './power-loss-file-system';

const DIR = '/disk';

async function fresh(seed = 1): Promise<PowerLossFileSystem> {
  const fs = new PowerLossFileSystem({ seed });
  await fs.mkdir(DIR);
  return fs;
}

async function createFile(fs: PowerLossFileSystem, name: string, contents: string, sync: { data: boolean; dir: boolean }): Promise<void> {
  const handle = await fs.open(`${DIR}/${name}`, 'wx');
  await handle.write(Buffer.from(contents), 0);
  if (sync.data) await handle.datasync();
  await handle.close();
  if (sync.dir) await fs.syncDir(DIR);
}

describe('PowerLossFileSystem', () => {
  it('keeps synced data and entries through a power cut', async () => {
    const fs = await fresh();
    await createFile(fs, 'a', 'durable', { data: true, dir: true });
    const after = fs.powerCut('drop');
    expect(after.list(DIR)).toEqual(['a']);
    expect(after.readFile(`${DIR}/a`).toString()).toBe('durable');
  });

  it('loses a file whose directory entry was never synced, even with its data synced', async () => {
    const fs = await fresh();
    await createFile(fs, 'a', 'data', { data: true, dir: false });
    expect(fs.powerCut('random').list(DIR)).toEqual([]);
  });

  it('drops unsynced bytes (drop), keeps them (keep), or keeps a prefix (random, with torn writes)', async () => {
    const fs = await fresh();
    await createFile(fs, 'a', 'synced|', { data: true, dir: true });
    const handle = await fs.open(`${DIR}/a`, 'r+');
    await handle.write(Buffer.from('one|'), 7);
    await handle.write(Buffer.from('two|'), 11);
    expect(fs.powerCut('drop').readFile(`${DIR}/a`).toString()).toBe('synced|');
    const seen = new Set<string>();
    for (let seed = 1; seed <= 200; seed++) {
      const again = await fresh(seed);
      await createFile(again, 'a', 'synced|', { data: true, dir: true });
      const h = await again.open(`${DIR}/a`, 'r+');
      await h.write(Buffer.from('one|'), 7);
      await h.write(Buffer.from('two|'), 11);
      const contents = again.powerCut('random').readFile(`${DIR}/a`).toString();
      expect('synced|one|two|'.startsWith(contents)).toBe(true);
      expect(contents.startsWith('synced|')).toBe(true);
      seen.add(contents);
    }
    // Every prefix shows up: nothing, whole writes, and torn ones.
    expect(seen.size).toBe(9);
    const keep = await fresh();
    await createFile(keep, 'b', 'unsynced', { data: false, dir: false });
    expect(keep.powerCut('keep').readFile(`${DIR}/b`).toString()).toBe('unsynced');
  });

  it('reverts an unsynced rename and brings back an unsynced unlink', async () => {
    const fs = await fresh();
    await createFile(fs, 'old', 'x', { data: true, dir: true });
    await createFile(fs, 'gone', 'y', { data: true, dir: true });
    await fs.rename(`${DIR}/old`, `${DIR}/new`);
    await fs.unlink(`${DIR}/gone`);
    expect(fs.list(DIR)).toEqual(['new']);
    expect(fs.powerCut('random').list(DIR)).toEqual(['gone', 'old']);
  });

  it('makes a rename durable with a directory sync', async () => {
    const fs = await fresh();
    await createFile(fs, 'tmp', 'x', { data: true, dir: true });
    await fs.rename(`${DIR}/tmp`, `${DIR}/final`);
    await fs.syncDir(DIR);
    expect(fs.powerCut('drop').list(DIR)).toEqual(['final']);
  });

  it('stops answering after a cut: calls never settle', async () => {
    const fs = await fresh();
    const handle = await fs.open(`${DIR}/a`, 'wx');
    fs.powerCut();
    expect(fs.halted).toBe(true);
    let settled = false;
    void handle.write(Buffer.from('x'), 0).finally(() => (settled = true));
    void fs.readdir(DIR).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
  });

  it('cuts the power before the n-th changing call', async () => {
    const fs = await fresh();
    const cut = fs.cutAfter(3, 'keep');
    const handle = await fs.open(`${DIR}/a`, 'wx'); // 1
    await handle.write(Buffer.from('a'), 0); // 2
    void handle.write(Buffer.from('b'), 1); // 3: never happens
    const after = await cut;
    expect(after.readFile(`${DIR}/a`).toString()).toBe('a');
    expect(fs.halted).toBe(true);
  });

  it('injects failures into the next call of an operation, once', async () => {
    const fs = await fresh();
    const handle = await fs.open(`${DIR}/a`, 'wx');
    fs.failNext('datasync');
    fs.failNext('write', Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' }));
    await expect(handle.write(Buffer.from('x'), 0)).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(handle.datasync()).rejects.toMatchObject({ code: 'EIO' });
    await handle.write(Buffer.from('y'), 0);
    await handle.datasync();
    expect(fs.readFile(`${DIR}/a`).toString()).toBe('y');
    expect(fs.counts.write).toBe(2);
    expect(fs.counts.datasync).toBe(2);
  });
});
