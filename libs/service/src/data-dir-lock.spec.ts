import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './config';
import { LOCK_FILE, lockDataDir } from './data-dir-lock';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kv-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Another process holding the directory's lock, as a second server would. */
function holder(): Promise<ChildProcess> {
  // The holder writes a lock record of its own pid, as lockDataDir does, and stays alive.
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  return new Promise((resolve) => {
    child.once('spawn', () => {
      writeFileSync(
        path.join(dir, LOCK_FILE),
        JSON.stringify({ pid: child.pid, host: os.hostname(), program: 'datanode', startedAt: '2026-12-03T00:00:00.000Z' }),
      );
      resolve(child);
    });
  });
}

describe('lockDataDir', () => {
  test('takes the lock, and releases it', async () => {
    const lock = await lockDataDir(dir, 'proxy');
    expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, program: 'proxy' });
    await lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  test('a second process on the same directory is refused with one line naming the directory and the holder', async () => {
    const child = await holder();
    try {
      const error = await lockDataDir(dir, 'proxy').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        `DATA_DIR ${dir} is in use by datanode (pid ${child.pid} on ${os.hostname()}, since 2026-12-03T00:00:00.000Z): one process per data directory`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a lock left by a process that died (kill -9) is taken over', async () => {
    const child = await holder();
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const lock = await lockDataDir(dir, 'proxy');
    expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  test('a half-written lock (a crash while creating it) is stale', async () => {
    writeFileSync(path.join(dir, LOCK_FILE), '{"pid": 12');
    const lock = await lockDataDir(dir, 'proxy');
    await lock.release();
  });

  test('a lock of another host is stale only once it has not been touched for a while', async () => {
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', program: 'datanode', startedAt: 'x' }));
    await expect(lockDataDir(dir, 'proxy')).rejects.toThrow(/in use by datanode \(pid 1 on elsewhere/);
    const old = new Date(Date.now() - 60_000);
    const { utimesSync } = await import('node:fs');
    utimesSync(path.join(dir, LOCK_FILE), old, old);
    const lock = await lockDataDir(dir, 'proxy');
    await lock.release();
  });
});
