import { existsSync, writeFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { FaultFileSystem, triggerFileFault, type DiskFault } from './fault-file-system';
import { NodeFileSystem } from './node-file-system';
import { openStore } from './store';
import { tempDirs } from './testing/temp-dirs';
import { WalErrorCode, type WalError } from './wal-error';

const dirs = tempDirs('kv-wal-fault-');
afterEach(() => dirs.removeAll());

describe('FaultFileSystem', () => {
  test('fails every change of the disk with the fault while it lasts; reads pass; works again after', async () => {
    const dir = await dirs.make();
    let fault: DiskFault | undefined;
    const fs = new FaultFileSystem(new NodeFileSystem(), () => fault);
    const file = path.join(dir, 'f');
    const handle = await fs.open(file, 'w');
    await handle.write(Buffer.from('ab'), 0);
    fault = 'ENOSPC';
    await expect(handle.write(Buffer.from('cd'), 2)).rejects.toMatchObject({ code: 'ENOSPC', message: expect.stringMatching(/no space left on device/) });
    await expect(handle.datasync()).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(fs.open(path.join(dir, 'g'), 'wx')).rejects.toMatchObject({ code: 'ENOSPC' });
    fault = 'EIO';
    await expect(fs.rename(file, path.join(dir, 'h'))).rejects.toMatchObject({ code: 'EIO' });
    const reader = await fs.open(file, 'r');
    const buffer = Buffer.alloc(2);
    expect(await reader.read(buffer, 0, 2, 0)).toBe(2);
    await reader.close();
    fault = undefined;
    await handle.write(Buffer.from('cd'), 2);
    await handle.datasync();
    await handle.close();
    expect(await fs.readdir(dir)).toEqual(['f']);
  });

  test('a store on it fails with the fault as the cause of its fatal error', async () => {
    const dir = await dirs.make();
    const disk: { fault: DiskFault | undefined } = { fault: undefined };
    const fatal: WalError[] = [];
    const store = await openStore(dir, { fs: new FaultFileSystem(new NodeFileSystem(), () => disk.fault), onFatal: (error) => fatal.push(error) });
    await store.set('a', '1');
    disk.fault = 'EIO';
    await expect(store.set('b', '2')).rejects.toMatchObject({ code: WalErrorCode.WriteFailed });
    expect(fatal).toHaveLength(1);
    expect((fatal[0].cause as NodeJS.ErrnoException).code).toBe('EIO');
    await store.close().catch(() => undefined);
  });

  test('drop: while the fault lasts, writes and syncs resolve but nothing reaches the file; other changes still fail', async () => {
    const dir = await dirs.make();
    let fault: DiskFault | undefined;
    const fs = new FaultFileSystem(new NodeFileSystem(), () => fault, { drop: true });
    const file = path.join(dir, 'f');
    const handle = await fs.open(file, 'w');
    await handle.write(Buffer.from('ab'), 0);
    fault = 'EIO';
    await handle.write(Buffer.from('cd'), 2);
    await handle.writev([Buffer.from('ef')], 4);
    await handle.datasync();
    await handle.sync();
    await expect(fs.open(path.join(dir, 'g'), 'wx')).rejects.toMatchObject({ code: 'EIO' });
    expect(await handle.size()).toBe(2);
    fault = undefined;
    await handle.close();
  });

  test('triggerFileFault: the fault named in the file while it exists (EIO for anything but ENOSPC), none once removed', async () => {
    const dir = await dirs.make();
    const trigger = path.join(dir, 'fault');
    const fault = triggerFileFault(trigger);
    expect(fault()).toBeUndefined();
    writeFileSync(trigger, 'ENOSPC\n');
    expect(fault()).toBe('ENOSPC');
    writeFileSync(trigger, '');
    expect(fault()).toBe('EIO');
    rmSync(trigger);
    expect(existsSync(trigger)).toBe(false);
    expect(fault()).toBeUndefined();
  });
});
