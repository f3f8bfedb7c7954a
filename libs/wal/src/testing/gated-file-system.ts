import type { FileHandle, FileSystem, OpenMode } from '../file-system';

/**
 * Wraps a {@link FileSystem} so that every `datasync` (or, with `op` `sync`, every `sync`) waits until the test
 * releases it: a way to hold a group commit (or a snapshot) in flight and observe what happens meanwhile.
 */
export class GatedFileSystem implements FileSystem {
  /** Resolvers of the datasyncs waiting, oldest first. */
  readonly waiting: (() => void)[] = [];
  /** While false (the default, e.g. while opening), datasyncs pass through. */
  gating = false;

  constructor(
    private readonly inner: FileSystem,
    private readonly op: 'datasync' | 'sync' = 'datasync',
  ) {}

  /** Lets the oldest waiting datasync proceed. @throws Error if none waits. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) throw new Error('no datasync is waiting');
    next();
  }

  /** Resolves once `count` datasyncs are waiting. */
  async untilWaiting(count: number): Promise<void> {
    while (this.waiting.length < count) await new Promise((resolve) => setImmediate(resolve));
  }

  mkdir(dir: string): Promise<void> {
    return this.inner.mkdir(dir);
  }
  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }
  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    const handle = await this.inner.open(path, mode);
    const gate = this.waiting;
    const gating = (op: 'datasync' | 'sync'): boolean => this.gating && op === this.op;
    return {
      read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
      write: (buffer, position) => handle.write(buffer, position),
      writev: (buffers, position) => handle.writev(buffers, position),
      async datasync() {
        if (gating('datasync')) await new Promise<void>((resolve) => gate.push(resolve));
        return handle.datasync();
      },
      async sync() {
        if (gating('sync')) await new Promise<void>((resolve) => gate.push(resolve));
        return handle.sync();
      },
      truncate: (length) => handle.truncate(length),
      size: () => handle.size(),
      close: () => handle.close(),
    };
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  unlink(path: string): Promise<void> {
    return this.inner.unlink(path);
  }
  syncDir(dir: string): Promise<void> {
    return this.inner.syncDir(dir);
  }
}
