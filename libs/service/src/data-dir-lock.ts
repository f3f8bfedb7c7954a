import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './config';

/** The lock file in a data directory. */
export const LOCK_FILE = 'LOCK';
/** How often a holder touches its lock file, so that another host sharing the volume can tell it is alive. */
export const LOCK_REFRESH_MS = 2000;
/** A lock file of another host not touched for this long is stale (its holder died without removing it). */
export const LOCK_STALE_MS = 10_000;

/** What a lock file holds. */
interface LockRecord {
  pid: number;
  host: string;
  program: string;
  startedAt: string;
}

/** A held lock: release it at shutdown (a crash leaves the file, which the next start recognizes as stale). */
export interface DataDirLock {
  readonly file: string;
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock of a data directory: one process at a time may use it (two would corrupt the log, or
 * issue equal versions). The lock is a file, `LOCK`, holding the holder's pid, host and program, created exclusively.
 * An existing lock is stale, and taken over, when its holder is gone: on the same host, when no process has its pid
 * (or it is this very process's pid, a container restarted in place); on another host sharing the volume, when the
 * file was not touched for {@link LOCK_STALE_MS} (holders touch it every {@link LOCK_REFRESH_MS}).
 * @throws ConfigError (the process exits with code 2) naming the directory and the holder when it is held.
 */
export async function lockDataDir(dir: string, program: string): Promise<DataDirLock> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const record: LockRecord = { pid: process.pid, host: os.hostname(), program, startedAt: new Date().toISOString() };
  for (let attempt = 1; ; attempt++) {
    try {
      const handle = await fs.open(file, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(record)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw error;
    }
    const holder = await readHolder(file);
    if (holder !== undefined && !(await isStale(file, holder))) {
      throw new ConfigError(
        `DATA_DIR ${dir} is in use by ${holder.program} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}): ` +
          'one process per data directory',
      );
    }
    // Stale: take it over. Renaming it aside first means only one of two processes racing here can win the create.
    await fs.rename(file, `${file}.stale-${process.pid}`).catch(() => undefined);
    await fs.rm(`${file}.stale-${process.pid}`, { force: true });
  }
  const timer = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now).catch(() => undefined);
  }, LOCK_REFRESH_MS);
  timer.unref();
  return {
    file,
    async release() {
      clearInterval(timer);
      const holder = await readHolder(file);
      if (holder !== undefined && holder.pid === record.pid && holder.host === record.host) await fs.rm(file, { force: true });
    },
  };
}

async function readHolder(file: string): Promise<LockRecord | undefined> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockRecord>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, program: String(parsed.program ?? 'a kv process'), startedAt: String(parsed.startedAt ?? '?') };
  } catch {
    // Unreadable or half written (a crash while creating it): stale.
    return undefined;
  }
}

async function isStale(file: string, holder: LockRecord): Promise<boolean> {
  if (holder.host === os.hostname()) {
    if (holder.pid === process.pid) return true;
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  try {
    const { mtimeMs } = await fs.stat(file);
    return Date.now() - mtimeMs > LOCK_STALE_MS;
  } catch {
    return true;
  }
}
