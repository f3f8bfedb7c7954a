import { readFileSync } from 'node:fs';
import type { FileHandle, FileSystem, OpenMode } from './file-system';

/** The errors a {@link FaultFileSystem} injects: a full disk, or a failing one. */
export type DiskFault = 'ENOSPC' | 'EIO';

const FAULT_TEXT: Record<DiskFault, string> = {
  ENOSPC: 'no space left on device',
  EIO: 'i/o error',
};

/** An error like the platform's for `fault` in `op` (with its `code`), marked as injected. */
export function diskFaultError(fault: DiskFault, op: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${fault}: ${FAULT_TEXT[fault]}, ${op} (injected fault)`);
  error.code = fault;
  error.syscall = op;
  return error;
}

/**
 * Wraps a {@link FileSystem} so that every operation that changes the disk (open for writing, write, writev, datasync,
 * sync, truncate, rename, unlink, mkdir, syncDir) fails with the platform's error of a full (`ENOSPC`) or failing
 * (`EIO`) disk while `fault()` returns one; reads pass. For tests of disk faults, in process or (through
 * {@link triggerFileFault}) from outside a running server.
 */
export class FaultFileSystem implements FileSystem {
  /**
   * @param options.drop instead of failing, writes and syncs (write, writev, datasync, sync) resolve as if done while
   *   doing nothing: the disk of a program that carries on after a failed write or fsync, whose acknowledged data is
   *   then not on disk. Only to prove that tests notice such a program; other operations still fail.
   */
  constructor(
    private readonly inner: FileSystem,
    private readonly fault: () => DiskFault | undefined,
    private readonly options: { readonly drop?: boolean } = {},
  ) {}

  mkdir(dir: string): Promise<void> {
    return this.guard('mkdir', () => this.inner.mkdir(dir));
  }
  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }
  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    const handle = await (mode === 'r' ? this.inner.open(path, mode) : this.guard('open', () => this.inner.open(path, mode)));
    return {
      read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
      write: (buffer, position) => this.guardData('write', () => handle.write(buffer, position)),
      writev: (buffers, position) => this.guardData('writev', () => handle.writev(buffers, position)),
      datasync: () => this.guardData('fdatasync', () => handle.datasync()),
      sync: () => this.guardData('fsync', () => handle.sync()),
      truncate: (length) => this.guard('ftruncate', () => handle.truncate(length)),
      size: () => handle.size(),
      close: () => handle.close(),
    };
  }
  rename(from: string, to: string): Promise<void> {
    return this.guard('rename', () => this.inner.rename(from, to));
  }
  unlink(path: string): Promise<void> {
    return this.guard('unlink', () => this.inner.unlink(path));
  }
  syncDir(dir: string): Promise<void> {
    return this.guard('fsync', () => this.inner.syncDir(dir));
  }

  /** A write or sync of a file's data: fails, or with `drop` does nothing, while the fault lasts. */
  private async guardData(op: string, run: () => Promise<void>): Promise<void> {
    if (this.options.drop === true && this.fault() !== undefined) return;
    return this.guard(op, run);
  }

  private async guard<T>(op: string, run: () => Promise<T>): Promise<T> {
    const fault = this.fault();
    if (fault !== undefined) throw diskFaultError(fault, op);
    return run();
  }
}

/**
 * A fault source for {@link FaultFileSystem} that reads `file` at each operation: while it exists, the disk fails with
 * the code it holds (`ENOSPC` or `EIO`; anything else counts as `EIO`); once it is removed, the disk works again.
 */
export function triggerFileFault(file: string): () => DiskFault | undefined {
  return () => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
    return text === 'ENOSPC' ? 'ENOSPC' : 'EIO';
  };
}
