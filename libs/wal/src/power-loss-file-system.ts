import * as path from 'node:path';
import type { FileHandle, FileSystem, OpenMode } from './file-system';
import { seededRandom } from './seeded-random';

/** Operations of a {@link PowerLossFileSystem}, as counted and as targets of injected failures. */
export type FileSystemOp =
  | 'mkdir'
  | 'readdir'
  | 'open'
  | 'rename'
  | 'unlink'
  | 'syncDir'
  | 'read'
  | 'write'
  | 'datasync'
  | 'sync'
  | 'truncate'
  | 'size'
  | 'close';

/**
 * What happens to bytes written but not yet synced when the power goes:
 * `random` keeps a random prefix of the unsynced writes and truncations of each file, the last kept write possibly
 * torn (a random prefix of its bytes), and only directory entries made durable by `syncDir`;
 * `drop` keeps nothing unsynced (and only durable directory entries);
 * `keep` keeps every write and every directory entry: what a process crash (not a power loss) leaves.
 */
export type UnsyncedPolicy = 'random' | 'drop' | 'keep';

/** Options of {@link PowerLossFileSystem}. */
export interface PowerLossFileSystemOptions {
  /** Seed of the random choices of {@link PowerLossFileSystem.powerCut} (default 1), so a run replays exactly. */
  seed?: number;
}

interface PendingWrite {
  readonly kind: 'write';
  readonly position: number;
  readonly bytes: Buffer;
}
interface PendingTruncate {
  readonly kind: 'truncate';
  readonly length: number;
}
type PendingChange = PendingWrite | PendingTruncate;

/** A growable byte array (capacity doubles, so appends cost amortized O(bytes)). */
class Bytes {
  buffer: Buffer;
  length: number;

  constructor(initial?: Buffer) {
    this.buffer = initial === undefined ? Buffer.alloc(0) : Buffer.from(initial);
    this.length = this.buffer.length;
  }

  write(position: number, bytes: Uint8Array): void {
    const end = position + bytes.byteLength;
    this.reserve(end);
    if (position > this.length) this.buffer.fill(0, this.length, position);
    this.buffer.set(bytes, position);
    this.length = Math.max(this.length, end);
  }

  truncate(length: number): void {
    if (length > this.length) {
      this.reserve(length);
      this.buffer.fill(0, this.length, length);
    }
    this.length = length;
  }

  apply(change: PendingChange): void {
    if (change.kind === 'write') this.write(change.position, change.bytes);
    else this.truncate(change.length);
  }

  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(capacity: number): void {
    if (capacity <= this.buffer.length) return;
    const grown = Buffer.alloc(Math.max(capacity, this.buffer.length * 2, 4096));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** A file's contents: what the running system sees, what is durable, and the changes in between. */
class Inode {
  readonly current: Bytes;
  readonly durable: Bytes;
  pending: PendingChange[] = [];

  constructor(contents?: Buffer) {
    this.current = new Bytes(contents);
    this.durable = new Bytes(contents);
  }

  change(change: PendingChange): void {
    this.current.apply(change);
    this.pending.push(change);
  }

  sync(): void {
    for (const change of this.pending) this.durable.apply(change);
    this.pending = [];
  }

  /** The contents after a power loss, per `policy`. */
  survivor(policy: UnsyncedPolicy, random: () => number): Buffer {
    if (policy === 'keep') return Buffer.from(this.current.view());
    const result = new Bytes(this.durable.view());
    if (policy === 'drop' || this.pending.length === 0) return Buffer.from(result.view());
    const kept = Math.floor(random() * (this.pending.length + 1));
    for (let i = 0; i < kept; i++) result.apply(this.pending[i]);
    const torn = this.pending[kept];
    if (torn !== undefined && torn.kind === 'write') {
      const prefix = Math.floor(random() * (torn.bytes.length + 1));
      if (prefix > 0) result.write(torn.position, torn.bytes.subarray(0, prefix));
    }
    return Buffer.from(result.view());
  }
}

function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * An in-memory {@link FileSystem} that models what survives a power loss, for tests of crash safety, and that can
 * inject I/O failures.
 *
 * It records every write, truncation, sync and directory sync. {@link PowerLossFileSystem.powerCut} stops it (every
 * later call, and every call not yet answered, never settles, as if the machine had died) and returns a new file
 * system holding what the disk would hold after the reboot: each file's contents as of its last `datasync`/`sync`,
 * plus (policy `random`) a random prefix of the later changes, the last write possibly torn; and only the directory
 * entries made durable by `syncDir` of their directory (a file created or renamed since then is gone or reverts,
 * a file removed since then comes back).
 *
 * Simplifications: directories themselves are durable as soon as created; calls complete in submission order, each
 * on a later turn of the event loop (`setImmediate`), with their effect applied when called.
 *
 * Not for production use: everything is held in memory.
 */
export class PowerLossFileSystem implements FileSystem {
  /** Number of calls per operation since creation (failed ones included). */
  readonly counts: Record<FileSystemOp, number> = {
    mkdir: 0,
    readdir: 0,
    open: 0,
    rename: 0,
    unlink: 0,
    syncDir: 0,
    read: 0,
    write: 0,
    datasync: 0,
    sync: 0,
    truncate: 0,
    size: 0,
    close: 0,
  };

  private readonly files = new Map<string, Inode>();
  private readonly durableFiles = new Map<string, Inode>();
  private readonly dirs = new Set<string>();
  private readonly faults = new Map<FileSystemOp, Error[]>();
  private readonly random: () => number;
  private stopped = false;
  private cutCountdown = -1;
  private cutPolicy: UnsyncedPolicy = 'random';
  private cutWaiter: ((image: PowerLossFileSystem) => void) | undefined;

  constructor(options: PowerLossFileSystemOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
  }

  /** True once a power cut happened: the file system answers nothing any more. */
  get halted(): boolean {
    return this.stopped;
  }

  /**
   * Makes the next call of `op` fail with `error` (default: an `EIO` error) without any effect. Several calls queue
   * several failures. `write` covers `write` and `writev`.
   */
  failNext(op: FileSystemOp, error: Error = fsError('EIO', `i/o error (injected, ${op})`)): void {
    const queue = this.faults.get(op) ?? [];
    queue.push(error);
    this.faults.set(op, queue);
  }

  /**
   * Cuts the power right before the `count`-th next changing call (create/open for writing, write, truncate,
   * datasync, sync, rename, unlink, syncDir): that call and all later ones never settle.
   *
   * @returns the file system after the reboot (see {@link PowerLossFileSystem.powerCut}).
   * @throws TypeError unless `count` is a positive integer.
   */
  cutAfter(count: number, policy: UnsyncedPolicy = 'random'): Promise<PowerLossFileSystem> {
    if (!Number.isInteger(count) || count < 1) throw new TypeError(`count must be a positive integer, got ${count}`);
    this.cutCountdown = count;
    this.cutPolicy = policy;
    return new Promise((resolve) => {
      this.cutWaiter = resolve;
    });
  }

  /** Cancels a cut scheduled by {@link PowerLossFileSystem.cutAfter} that has not happened (its promise never settles). */
  cancelCut(): void {
    this.cutCountdown = -1;
    this.cutWaiter = undefined;
  }

  /**
   * Cuts the power now: this file system stops answering, and the returned one holds what survives, per `policy`
   * (default `random`, drawn from this file system's seeded generator). The returned file system is fully durable
   * (as a disk is after a reboot) and has its own generator, seeded from this one.
   */
  powerCut(policy: UnsyncedPolicy = 'random'): PowerLossFileSystem {
    this.stopped = true;
    const image = new PowerLossFileSystem({ seed: Math.floor(this.random() * 2 ** 31) });
    for (const dir of this.dirs) image.dirs.add(dir);
    const entries = policy === 'keep' ? this.files : this.durableFiles;
    const survivors = new Map<Inode, Buffer>();
    for (const [file, inode] of entries) {
      let contents = survivors.get(inode);
      if (contents === undefined) {
        contents = inode.survivor(policy, this.random);
        survivors.set(inode, contents);
      }
      const copy = new Inode(contents);
      image.files.set(file, copy);
      image.durableFiles.set(file, copy);
    }
    return image;
  }

  /** Current contents of a file (what a reader sees now, synced or not). @throws Error `ENOENT` if absent. */
  readFile(file: string): Buffer {
    const inode = this.files.get(path.resolve(file));
    if (inode === undefined) throw fsError('ENOENT', `no such file, ${file}`);
    return Buffer.from(inode.current.view());
  }

  /**
   * Creates or replaces a file with `contents`, durably (data and directory entry), creating its directory: a test's
   * way to set up or damage files without going through handles.
   */
  writeFile(file: string, contents: Uint8Array): void {
    const resolved = path.resolve(file);
    this.addDir(path.dirname(resolved));
    const inode = new Inode(Buffer.from(contents));
    this.files.set(resolved, inode);
    this.durableFiles.set(resolved, inode);
  }

  /** Names of the files in `dir`, sorted. */
  list(dir: string): string[] {
    const resolved = path.resolve(dir);
    const names: string[] = [];
    for (const file of this.files.keys()) if (path.dirname(file) === resolved) names.push(path.basename(file));
    return names.sort();
  }

  mkdir(dir: string): Promise<void> {
    return this.run('mkdir', false, () => this.addDir(path.resolve(dir)));
  }

  readdir(dir: string): Promise<string[]> {
    return this.run('readdir', false, () => {
      const resolved = path.resolve(dir);
      if (!this.dirs.has(resolved)) throw fsError('ENOENT', `no such directory, scandir '${dir}'`);
      const subdirs = [...this.dirs].filter((d) => d !== resolved && path.dirname(d) === resolved).map((d) => path.basename(d));
      return [...this.list(resolved), ...subdirs];
    });
  }

  open(file: string, mode: OpenMode): Promise<FileHandle> {
    return this.run('open', mode !== 'r' && mode !== 'r+', () => {
      const resolved = path.resolve(file);
      if (!this.dirs.has(path.dirname(resolved))) throw fsError('ENOENT', `no such file or directory, open '${file}'`);
      let inode = this.files.get(resolved);
      if (mode === 'wx' && inode !== undefined) throw fsError('EEXIST', `file already exists, open '${file}'`);
      if ((mode === 'r' || mode === 'r+') && inode === undefined) {
        throw fsError('ENOENT', `no such file or directory, open '${file}'`);
      }
      if (inode === undefined) {
        inode = new Inode();
        this.files.set(resolved, inode);
      } else if (mode === 'w') {
        inode.change({ kind: 'truncate', length: 0 });
      }
      return new PowerLossFileHandle((o, c, e) => this.run(o, c, e), inode, mode === 'r' || mode === 'r+', mode !== 'r');
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run('rename', true, () => {
      const source = path.resolve(from);
      const inode = this.files.get(source);
      if (inode === undefined) throw fsError('ENOENT', `no such file or directory, rename '${from}'`);
      const target = path.resolve(to);
      if (!this.dirs.has(path.dirname(target))) throw fsError('ENOENT', `no such directory, rename '${to}'`);
      this.files.delete(source);
      this.files.set(target, inode);
    });
  }

  unlink(file: string): Promise<void> {
    return this.run('unlink', true, () => {
      const resolved = path.resolve(file);
      if (!this.files.delete(resolved)) throw fsError('ENOENT', `no such file or directory, unlink '${file}'`);
    });
  }

  syncDir(dir: string): Promise<void> {
    return this.run('syncDir', true, () => {
      const resolved = path.resolve(dir);
      if (!this.dirs.has(resolved)) throw fsError('ENOENT', `no such directory, open '${dir}'`);
      for (const file of [...this.durableFiles.keys()]) {
        if (path.dirname(file) === resolved) this.durableFiles.delete(file);
      }
      for (const [file, inode] of this.files) if (path.dirname(file) === resolved) this.durableFiles.set(file, inode);
    });
  }

  /**
   * Runs one call: counts it, applies an injected failure or the power cut, applies the effect now and answers on a
   * later turn of the event loop (never, once halted).
   */
  private run<T>(op: FileSystemOp, changing: boolean, effect: () => T): Promise<T> {
    if (this.stopped) return new Promise<T>(() => undefined);
    this.counts[op]++;
    if (changing && this.cutCountdown > 0 && --this.cutCountdown === 0) {
      const image = this.powerCut(this.cutPolicy);
      this.cutWaiter?.(image);
      return new Promise<T>(() => undefined);
    }
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    const fault = this.faults.get(op)?.shift();
    if (fault !== undefined) {
      outcome = { ok: false, error: fault };
    } else {
      try {
        outcome = { ok: true, value: effect() };
      } catch (error) {
        outcome = { ok: false, error };
      }
    }
    return new Promise<T>((resolve, reject) => {
      setImmediate(() => {
        if (this.stopped) return;
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      });
    });
  }

  private addDir(dir: string): void {
    for (let at = dir; !this.dirs.has(at); at = path.dirname(at)) {
      this.dirs.add(at);
      if (path.dirname(at) === at) break;
    }
  }
}

/** Runs one call of a handle through its file system (counting, failures, power cut). */
type Runner = <T>(op: FileSystemOp, changing: boolean, effect: () => T) => Promise<T>;

class PowerLossFileHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly run: Runner,
    private readonly inode: Inode,
    private readonly readable: boolean,
    private readonly writable: boolean,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.run('read', false, () => {
      this.check(false);
      if (!this.readable) throw fsError('EBADF', 'bad file descriptor (write-only)');
      const data = this.inode.current.view();
      const count = Math.max(0, Math.min(length, data.length - position));
      if (count > 0) buffer.set(data.subarray(position, position + count), offset);
      return count;
    });
  }

  write(buffer: Uint8Array, position: number): Promise<void> {
    return this.writev([buffer], position);
  }

  writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    return this.run('write', true, () => {
      this.check(true);
      this.inode.change({ kind: 'write', position, bytes: Buffer.concat(buffers) });
    });
  }

  datasync(): Promise<void> {
    return this.run('datasync', true, () => {
      this.check(false);
      this.inode.sync();
    });
  }

  sync(): Promise<void> {
    return this.run('sync', true, () => {
      this.check(false);
      this.inode.sync();
    });
  }

  truncate(length: number): Promise<void> {
    return this.run('truncate', true, () => {
      this.check(true);
      this.inode.change({ kind: 'truncate', length });
    });
  }

  size(): Promise<number> {
    return this.run('size', false, () => {
      this.check(false);
      return this.inode.current.length;
    });
  }

  close(): Promise<void> {
    return this.run('close', false, () => {
      this.closed = true;
    });
  }

  private check(writing: boolean): void {
    if (this.closed) throw fsError('EBADF', 'bad file descriptor (closed)');
    if (writing && !this.writable) throw fsError('EBADF', 'bad file descriptor (read-only)');
  }
}
