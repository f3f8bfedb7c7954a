import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FileHandle, FileSystem } from './file-system';
import { checkFileHeader, encodeFileHeader } from './file-header';
import { parseSegmentFileName, segmentFileName } from './file-names';
import { FILE_HEADER_BYTES, OP_DELETE, OP_PURGE, OP_SET, OP_SET_EXPIRING, SEGMENT_MAGIC } from './format';
import { findValidFrame, scanFrames } from './frame-scanner';
import { decodePayload, encodeRecords, newDecodedPayload, type WalRecord, type WalRecordOp } from './record-codec';
import { WalError, WalErrorCode } from './wal-error';
import { resolveWalOptions, type ResolvedWalOptions, type WalOptions } from './wal-options';

/**
 * Receives the records of the log in order. `value` is null for `delete` and `purge`; `expiresAt` is the expiry of a
 * `set` logged as `SET_EXPIRING`, undefined otherwise. Positional arguments, not an object, so that replaying a large
 * log allocates nothing per record but its strings.
 */
export type RecordVisitor = (op: WalRecordOp, key: string, version: string, value: string | null, expiresAt: number | undefined) => void;

/** A torn tail cut off while opening: a write interrupted by a crash at the end of the last segment. */
export interface TornTail {
  /** Segment file name (relative to the directory). */
  readonly file: string;
  /** Offset the file was truncated to: the end of its last valid record. */
  readonly offset: number;
  /** Bytes removed. */
  readonly bytesDropped: number;
}

/** What {@link Wal.open} found. */
export interface WalRecovery {
  /** Segments read, in order. */
  readonly segments: number;
  /** Records replayed. */
  readonly records: number;
  /** Bytes of the segments read (after a torn tail was cut off). */
  readonly bytes: number;
  /** The torn tail cut off, if any. */
  readonly tornTail: TornTail | null;
  /** Time spent opening, in ms. */
  readonly durationMs: number;
}

/** A segment of the log. */
export interface SegmentInfo {
  readonly sequence: number;
  /** File name, relative to the directory. */
  readonly file: string;
  /** Size in bytes (for the active segment: what has been written so far). */
  readonly bytes: number;
}

/** Counters of a {@link Wal}. */
export interface WalStats {
  /** Segments from the first kept one to the active one. */
  readonly segments: number;
  /** Bytes of those segments. */
  readonly bytes: number;
  /** Sequence number of the segment being appended to. */
  readonly activeSequence: number;
  /** Records appended since open. */
  readonly records: number;
  /** Write system calls (group commits) since open. */
  readonly writes: number;
  /** fdatasyncs of the log since open. */
  readonly syncs: number;
  /** Bytes accepted but not yet written (and synced, under policy `always`). */
  readonly queuedBytes: number;
}

/** Options of {@link Wal.open} beyond {@link WalOptions}: which segments to read, and what to do with their records. */
export interface WalOpenOptions extends WalOptions {
  /**
   * The sequence number the log must start at (default: the lowest segment present, or 1). Segments below it are
   * ignored (not read, not removed); a missing segment from there on is `WAL_CORRUPT`.
   */
  firstSequence?: number;
  /** Called with every record found while opening, in log order. */
  onRecord?: RecordVisitor;
}

interface QueuedAppend {
  readonly frames: Uint8Array;
  readonly records: number;
  readonly onDurable: (() => void) | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Waiter<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

interface RotateRequest extends Waiter<number> {
  readonly onRotated: ((closedSequence: number) => void) | undefined;
}

interface ActiveSegment {
  readonly sequence: number;
  readonly file: string;
  readonly handle: FileHandle;
  size: number;
}

/** The operation of each op byte that may appear in a segment (a local table: it is looked up once per record). */
const SEGMENT_OPS: ReadonlyMap<number, WalRecordOp> = new Map<number, WalRecordOp>([
  [OP_SET, 'set'],
  [OP_SET_EXPIRING, 'set'],
  [OP_DELETE, 'delete'],
  [OP_PURGE, 'purge'],
]);

function ioError(dir: string, what: string, cause: unknown): WalError {
  return new WalError(WalErrorCode.Io, `${dir}: ${what} failed`, { cause });
}

/**
 * The write-ahead log: a directory of segment files (`docs/formats/wal.md`) with group commit.
 *
 * Ordering: records are written in the order of the {@link Wal.append} calls, each call's records contiguous.
 * Durability: an append resolves once its records are durable under the sync policy (see {@link SyncPolicy}); under
 * `always`, appends that arrive while a write and fdatasync are in flight go out together in the next single write and
 * single fdatasync, so no append waits for more than one sync after the one in flight.
 * Failure: a failed write or fdatasync is fatal: `onFatal` is called once, every waiting append rejects, later appends
 * reject with `WAL_FAILED`; nothing is retried. Rejections never mean the records are absent from disk, only that
 * they were never acknowledged.
 * Concurrency: all methods may be called at any time from one event loop; one process at a time may open a directory.
 */
export class Wal {
  private readonly queue: QueuedAppend[] = [];
  private queuedBytes = 0;
  private inFlight: QueuedAppend[] = [];
  private readonly rotateRequests: RotateRequest[] = [];
  private readonly syncRequests: Waiter<void>[] = [];
  private readonly sealed: SegmentInfo[] = [];
  private unsyncedRecords = 0;
  private unsyncedBytes = 0;
  private syncDue = false;
  private scheduled = false;
  private busy = false;
  private failure: WalError | undefined;
  private closing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private recordCount = 0;
  private writeCount = 0;
  private syncCount = 0;

  private constructor(
    /** The directory of the log. */
    readonly dir: string,
    private readonly options: ResolvedWalOptions,
    private active: ActiveSegment,
    sealed: SegmentInfo[],
    /** What opening found. */
    readonly recovery: WalRecovery,
  ) {
    this.sealed = sealed;
    if (options.sync === 'interval') {
      this.timer = setInterval(() => {
        if (this.unsyncedBytes > 0) {
          this.syncDue = true;
          this.kick();
        }
      }, options.syncIntervalMs);
      // The periodic sync must not keep a process alive that has nothing else to do.
      this.timer.unref();
    }
  }

  /**
   * Opens (creating it if needed) the log in `dir`: checks every segment from `firstSequence` on, hands their records
   * to `onRecord`, cuts off a torn tail of the last segment (reported in {@link Wal.recovery} and to the logger), and
   * gets ready to append.
   *
   * @throws TypeError on invalid options.
   * @throws WalError `WAL_CORRUPT` (with `file` and `offset`) on damage other than a torn tail, or a missing segment;
   * `WAL_UNSUPPORTED_FORMAT` for a file of another format version; `WAL_IO` if the directory or a file cannot be read;
   * `WAL_WRITE_FAILED` if the first segment cannot be created.
   */
  static async open(dir: string, options: WalOpenOptions = {}): Promise<Wal> {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty string');
    const resolved = resolveWalOptions(options);
    if (options.onRecord !== undefined && typeof options.onRecord !== 'function') throw new TypeError('onRecord must be a function');
    const started = performance.now();
    const fs = resolved.fs;
    try {
      await fs.mkdir(dir);
    } catch (error) {
      throw ioError(dir, 'creating the directory', error);
    }
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (error) {
      throw ioError(dir, 'listing the directory', error);
    }
    const present = names
      .map(parseSegmentFileName)
      .filter((sequence): sequence is number => sequence !== undefined)
      .sort((a, b) => a - b);
    const firstSequence = options.firstSequence ?? present[0] ?? 1;
    if (!Number.isSafeInteger(firstSequence) || firstSequence < 1) {
      throw new TypeError(`firstSequence must be a positive integer, got ${firstSequence}`);
    }
    const sequences = present.filter((sequence) => sequence >= firstSequence);
    let expected = firstSequence;
    for (const sequence of sequences) {
      if (sequence !== expected) {
        const missing = segmentFileName(expected);
        throw new WalError(WalErrorCode.Corrupt, `${path.join(dir, missing)} is missing (the log continues with ${segmentFileName(sequence)})`, {
          file: missing,
          offset: 0,
        });
      }
      expected++;
    }

    const visit = options.onRecord;
    const sealed: SegmentInfo[] = [];
    let records = 0;
    let bytes = 0;
    let tornTail: TornTail | null = null;
    let active: ActiveSegment | undefined;
    for (let i = 0; i < sequences.length; i++) {
      const last = i === sequences.length - 1;
      const opened = await readSegment(fs, dir, sequences[i], last, visit);
      records += opened.records;
      bytes += opened.size;
      if (opened.tornTail !== null) {
        tornTail = opened.tornTail;
        resolved.logger.warn('torn tail of the log cut off', { ...tornTail, dir });
      }
      if (last) active = { sequence: sequences[i], file: segmentFileName(sequences[i]), handle: opened.handle, size: opened.size };
      else sealed.push({ sequence: sequences[i], file: segmentFileName(sequences[i]), bytes: opened.size });
    }
    if (active === undefined) {
      active = await createSegment(fs, dir, firstSequence);
      bytes += active.size;
    }
    const recovery: WalRecovery = {
      segments: sequences.length,
      records,
      bytes,
      tornTail,
      durationMs: performance.now() - started,
    };
    return new Wal(dir, resolved, active, sealed, recovery);
  }

  /**
   * Appends records, in order and contiguously, and resolves when they are durable under the sync policy.
   *
   * @throws TypeError (as a rejection) if a record is invalid or over a size maximum.
   * @throws WalError (as a rejection) `WAL_CLOSED` after {@link Wal.close}; `WAL_OVERLOADED` when `queueBytesMax` bytes
   * are waiting already; the fatal error (`WAL_WRITE_FAILED`, `WAL_FSYNC_FAILED`) if the write or sync fails;
   * `WAL_FAILED` after an earlier fatal error.
   */
  async append(records: readonly WalRecord[]): Promise<void> {
    if (!Array.isArray(records)) throw new TypeError('records must be an array');
    if (records.length === 0) return;
    await this.enqueue(encodeRecords(records), records.length, undefined);
  }

  /**
   * Queues already-encoded frames; throws synchronously (before anything is queued) if they cannot be accepted, so a
   * caller can decide on its own state only once the append is certain to be attempted. `onDurable` runs synchronously
   * when the frames are durable, before the returned promise resolves and before any later append is written or the
   * log rotates.
   *
   * @internal the store's entry point; use {@link Wal.append}.
   * @throws WalError `WAL_CLOSED`, `WAL_FAILED`, `WAL_OVERLOADED`.
   */
  enqueue(frames: Uint8Array, records: number, onDurable: (() => void) | undefined): Promise<void> {
    this.checkOpen();
    if (this.queuedBytes > 0 && this.queuedBytes + frames.length > this.options.queueBytesMax) {
      throw new WalError(
        WalErrorCode.Overloaded,
        `${this.queuedBytes} bytes are waiting to be written, the maximum is ${this.options.queueBytesMax}`,
      );
    }
    const done = new Promise<void>((resolve, reject) => {
      this.queue.push({ frames, records, onDurable, resolve, reject });
    });
    this.queuedBytes += frames.length;
    this.kick();
    return done;
  }

  /**
   * Seals the active segment (fsynced) and moves appends to a new one. `onRotated` runs synchronously at the switch:
   * every record appended before it is durable and reported (`onDurable`), and no later record is.
   *
   * @returns the sequence number of the sealed segment.
   * @throws WalError `WAL_CLOSED`, `WAL_FAILED`; the fatal error if sealing or creating a segment fails.
   */
  rotate(onRotated?: (closedSequence: number) => void): Promise<number> {
    try {
      this.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    const done = new Promise<number>((resolve, reject) => this.rotateRequests.push({ resolve, reject, onRotated }));
    this.kick();
    return done;
  }

  /**
   * Makes every record appended so far durable now (one fdatasync), whatever the policy.
   * @throws WalError `WAL_CLOSED`, `WAL_FAILED`; the fatal error if the sync fails.
   */
  sync(): Promise<void> {
    try {
      this.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.requestSync();
  }

  /** Segments from the first kept one to the active one, oldest first. */
  segments(): SegmentInfo[] {
    return [...this.sealed, { sequence: this.active.sequence, file: this.active.file, bytes: this.active.size }];
  }

  /**
   * Removes the sealed segments with sequence <= `sequence` (and syncs the directory).
   *
   * @returns how many were removed.
   * @throws TypeError if `sequence` would include the active segment.
   * @throws WalError `WAL_IO` if a removal fails (segments already removed stay removed).
   */
  async deleteSegmentsThrough(sequence: number): Promise<number> {
    if (!Number.isSafeInteger(sequence) || sequence >= this.active.sequence) {
      throw new TypeError(`sequence must be an integer below the active segment ${this.active.sequence}, got ${sequence}`);
    }
    let removed = 0;
    while (this.sealed.length > 0 && this.sealed[0].sequence <= sequence) {
      const segment = this.sealed[0];
      try {
        await this.options.fs.unlink(path.join(this.dir, segment.file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(this.dir, `removing ${segment.file}`, error);
      }
      this.sealed.shift();
      removed++;
    }
    if (removed > 0) {
      try {
        await this.options.fs.syncDir(this.dir);
      } catch (error) {
        throw ioError(this.dir, 'syncing the directory', error);
      }
    }
    return removed;
  }

  /**
   * Reads the records of the segments from `fromSequence` (default: the first kept) to the end of what has been
   * written so far, in order, and hands them to `visit`. May run while appends continue (it stops at the size the
   * active segment had when reached); do not delete segments meanwhile.
   *
   * @returns the number of records visited.
   * @throws WalError `WAL_CORRUPT` on any bad record, `WAL_IO` if reading fails.
   */
  async replay(visit: RecordVisitor, fromSequence?: number): Promise<number> {
    if (typeof visit !== 'function') throw new TypeError('visit must be a function');
    let count = 0;
    for (const segment of this.segments()) {
      if (fromSequence !== undefined && segment.sequence < fromSequence) continue;
      let handle: FileHandle;
      try {
        handle = await this.options.fs.open(path.join(this.dir, segment.file), 'r');
      } catch (error) {
        throw ioError(this.dir, `opening ${segment.file}`, error);
      }
      try {
        const size = segment.sequence === this.active.sequence ? this.active.size : segment.bytes;
        count += await replaySegment(handle, this.dir, segment.file, FILE_HEADER_BYTES, size, false, visit);
      } finally {
        await handle.close().catch(() => undefined);
      }
    }
    return count;
  }

  /** Counters, for metrics. */
  stats(): WalStats {
    let bytes = this.active.size;
    for (const segment of this.sealed) bytes += segment.bytes;
    return {
      segments: this.sealed.length + 1,
      bytes,
      activeSequence: this.active.sequence,
      records: this.recordCount,
      writes: this.writeCount,
      syncs: this.syncCount,
      queuedBytes: this.queuedBytes,
    };
  }

  /**
   * Writes what is queued, fsyncs (whatever the policy) and releases the files. Idempotent: later calls return the
   * same promise. Appends made after the call reject with `WAL_CLOSED`.
   *
   * @throws WalError `WAL_FAILED` (as a rejection) if the log had failed or fails while flushing; files are released
   * anyway.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = (async () => {
        let failed: WalError | undefined;
        if (this.failure === undefined) {
          try {
            await this.requestSync();
          } catch (error) {
            failed = error instanceof WalError ? error : undefined;
          }
        }
        if (this.timer !== undefined) clearInterval(this.timer);
        await this.active.handle.close().catch(() => undefined);
        const failure = this.failure ?? failed;
        if (failure !== undefined) {
          throw new WalError(WalErrorCode.Failed, `the log had failed (${failure.code}); queued records were not written`, {
            cause: failure,
          });
        }
      })();
    }
    return this.closing;
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new WalError(WalErrorCode.Closed, `the log in ${this.dir} is closed`);
    if (this.failure !== undefined) {
      throw new WalError(WalErrorCode.Failed, `the log in ${this.dir} stopped after ${this.failure.code}`, { cause: this.failure });
    }
  }

  private requestSync(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.syncRequests.push({ resolve, reject }));
    this.kick();
    return done;
  }

  private hasWork(): boolean {
    return this.rotateRequests.length > 0 || this.queue.length > 0 || this.syncRequests.length > 0 || this.syncDue;
  }

  /**
   * Runs the next step on a later turn of the event loop: callers woken by the previous step get to queue their
   * appends first, so they join the next group commit instead of each starting one.
   */
  private kick(): void {
    if (this.scheduled || this.busy || this.failure !== undefined) return;
    this.scheduled = true;
    setImmediate(() => void this.step());
  }

  private async step(): Promise<void> {
    this.scheduled = false;
    this.busy = true;
    try {
      if (this.rotateRequests.length > 0) await this.rotateNow(this.rotateRequests.shift());
      else if (this.queue.length > 0) await this.flush();
      else if (this.syncRequests.length > 0 || this.syncDue) await this.syncNow();
    } catch (error) {
      this.fail(error);
    } finally {
      this.busy = false;
    }
    if (this.hasWork()) this.kick();
  }

  private takeBatch(): QueuedAppend[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || bytes + this.queue[count].frames.length <= this.options.groupCommitBytesMax)) {
      bytes += this.queue[count].frames.length;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async flush(): Promise<void> {
    if (this.active.size >= this.options.segmentBytesMax) await this.rotateNow(undefined);
    const batch = this.takeBatch();
    this.inFlight = batch;
    const buffers: Uint8Array[] = new Array<Uint8Array>(batch.length);
    let bytes = 0;
    let records = 0;
    for (let i = 0; i < batch.length; i++) {
      buffers[i] = batch[i].frames;
      bytes += batch[i].frames.length;
      records += batch[i].records;
    }
    const started = performance.now();
    try {
      await this.active.handle.writev(buffers, this.active.size);
    } catch (error) {
      throw new WalError(WalErrorCode.WriteFailed, `writing ${bytes} bytes to ${path.join(this.dir, this.active.file)} failed`, {
        cause: error,
        file: this.active.file,
        offset: this.active.size,
      });
    }
    this.writeCount++;
    this.active.size += bytes;
    if (this.options.sync === 'always') {
      await this.datasync(this.active);
    } else {
      this.unsyncedBytes += bytes;
      this.unsyncedRecords += records;
    }
    this.inFlight = [];
    this.queuedBytes -= bytes;
    this.recordCount += records;
    for (const item of batch) item.onDurable?.();
    for (const item of batch) item.resolve();
    if (this.options.sync === 'always') this.reportSync({ records, bytes, durationMs: performance.now() - started });
  }

  private async datasync(segment: ActiveSegment): Promise<void> {
    try {
      await segment.handle.datasync();
    } catch (error) {
      throw new WalError(WalErrorCode.FsyncFailed, `fdatasync of ${path.join(this.dir, segment.file)} failed`, {
        cause: error,
        file: segment.file,
      });
    }
    this.syncCount++;
  }

  private async syncNow(): Promise<void> {
    const waiters = this.syncRequests.splice(0);
    this.syncDue = false;
    if (this.unsyncedBytes > 0 || waiters.length > 0) {
      const records = this.unsyncedRecords;
      const bytes = this.unsyncedBytes;
      const started = performance.now();
      this.unsyncedRecords = 0;
      this.unsyncedBytes = 0;
      try {
        await this.datasync(this.active);
      } catch (error) {
        this.syncRequests.unshift(...waiters);
        throw error;
      }
      if (bytes > 0) this.reportSync({ records, bytes, durationMs: performance.now() - started });
    }
    for (const waiter of waiters) waiter.resolve();
  }

  private async rotateNow(request: RotateRequest | undefined): Promise<void> {
    const old = this.active;
    try {
      // Sealed segments are fully durable, so only the last segment can ever end in a torn write.
      if (this.options.sync !== 'always' && this.unsyncedBytes > 0) {
        const records = this.unsyncedRecords;
        const bytes = this.unsyncedBytes;
        const started = performance.now();
        this.unsyncedRecords = 0;
        this.unsyncedBytes = 0;
        await this.datasync(old);
        this.reportSync({ records, bytes, durationMs: performance.now() - started });
      }
      this.active = await createSegment(this.options.fs, this.dir, old.sequence + 1);
    } catch (error) {
      if (request !== undefined) this.rotateRequests.unshift(request);
      throw error;
    }
    this.sealed.push({ sequence: old.sequence, file: old.file, bytes: old.size });
    await old.handle.close().catch(() => undefined);
    request?.onRotated?.(old.sequence);
    request?.resolve(old.sequence);
  }

  private reportSync(info: { records: number; bytes: number; durationMs: number }): void {
    try {
      this.options.onSync(info);
    } catch (error) {
      this.options.logger.warn('onSync threw; ignored', { error: String(error) });
    }
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    const failure =
      error instanceof WalError ? error : new WalError(WalErrorCode.Failed, `the log in ${this.dir} failed`, { cause: error });
    this.failure = failure;
    if (this.timer !== undefined) clearInterval(this.timer);
    try {
      this.options.onFatal(failure);
    } catch {
      // Documented: a throwing fatal handler changes nothing; the log is stopped either way.
    }
    const waiting = [...this.inFlight, ...this.queue.splice(0)];
    this.inFlight = [];
    this.queuedBytes = 0;
    for (const item of waiting) item.reject(failure);
    for (const request of this.rotateRequests.splice(0)) request.reject(failure);
    for (const request of this.syncRequests.splice(0)) request.reject(failure);
  }
}

/** Creates segment `sequence`: header written and fsynced, directory fsynced, before any record may go in. */
async function createSegment(fs: FileSystem, dir: string, sequence: number): Promise<ActiveSegment> {
  const file = segmentFileName(sequence);
  try {
    const handle = await fs.open(path.join(dir, file), 'wx');
    try {
      await handle.write(encodeFileHeader(SEGMENT_MAGIC, sequence), 0);
      await handle.datasync();
      await fs.syncDir(dir);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return { sequence, file, handle, size: FILE_HEADER_BYTES };
  } catch (error) {
    throw new WalError(WalErrorCode.WriteFailed, `creating segment ${path.join(dir, file)} failed`, { cause: error, file });
  }
}

interface ReadSegmentResult {
  readonly handle: FileHandle;
  readonly size: number;
  readonly records: number;
  readonly tornTail: TornTail | null;
}

/**
 * Reads one segment while opening. The last one stays open for appending, with a torn tail (or torn header) cut off;
 * the others are closed.
 */
async function readSegment(
  fs: FileSystem,
  dir: string,
  sequence: number,
  last: boolean,
  visit: RecordVisitor | undefined,
): Promise<ReadSegmentResult> {
  const file = segmentFileName(sequence);
  const filePath = path.join(dir, file);
  let handle: FileHandle;
  try {
    handle = await fs.open(filePath, last ? 'r+' : 'r');
  } catch (error) {
    throw ioError(dir, `opening ${file}`, error);
  }
  try {
    let size: number;
    const header = Buffer.alloc(FILE_HEADER_BYTES);
    try {
      size = await handle.size();
      await handle.read(header, 0, Math.min(size, FILE_HEADER_BYTES), 0);
    } catch (error) {
      throw ioError(dir, `reading ${file}`, error);
    }
    const check = checkFileHeader(header.subarray(0, Math.min(size, FILE_HEADER_BYTES)), SEGMENT_MAGIC, sequence);
    if (check.status === 'unsupported') {
      throw new WalError(WalErrorCode.UnsupportedFormat, `${filePath}: ${check.reason}`, { file, offset: 0 });
    }
    if (check.status === 'mismatch') {
      throw new WalError(WalErrorCode.Corrupt, `${filePath} at byte 0: ${check.reason}`, { file, offset: 0 });
    }
    if (check.status === 'torn') {
      if (!last || (await findValidFrame(handle, file, 1, size)) !== undefined) {
        throw new WalError(WalErrorCode.Corrupt, `${filePath} at byte 0: ${check.reason}`, { file, offset: 0 });
      }
      await repairSegment(handle, dir, file, 0, async () => {
        await handle.write(encodeFileHeader(SEGMENT_MAGIC, sequence), 0);
      });
      return { handle, size: FILE_HEADER_BYTES, records: 0, tornTail: { file, offset: 0, bytesDropped: size } };
    }
    let records = 0;
    let tornTail: TornTail | null = null;
    let end = size;
    try {
      records = await replaySegment(handle, dir, file, FILE_HEADER_BYTES, size, last, visit);
    } catch (error) {
      if (!(error instanceof TornTailError)) throw error;
      records = error.records;
      end = error.offset;
      tornTail = { file, offset: error.offset, bytesDropped: size - error.offset };
      await repairSegment(handle, dir, file, error.offset, async () => undefined);
    }
    if (!last) await handle.close().catch(() => undefined);
    return { handle, size: end, records, tornTail };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** Truncates a segment to `offset`, lets `rewrite` put back what must be there, and makes it durable. */
async function repairSegment(handle: FileHandle, dir: string, file: string, offset: number, rewrite: () => Promise<void>): Promise<void> {
  try {
    await handle.truncate(offset);
    await rewrite();
    await handle.datasync();
  } catch (error) {
    throw new WalError(WalErrorCode.WriteFailed, `cutting the torn tail of ${path.join(dir, file)} at byte ${offset} failed`, {
      cause: error,
      file,
      offset,
    });
  }
}

/** Thrown by {@link replaySegment} for a torn tail that may be cut off. */
class TornTailError extends Error {
  constructor(
    readonly offset: number,
    readonly records: number,
  ) {
    super(`torn tail at ${offset}`);
  }
}

/**
 * Replays the records of `file[start, size)`. A bad frame is `WAL_CORRUPT`, except, when `tolerateTornTail`, one after
 * which no valid frame follows: then {@link TornTailError} tells where to cut.
 */
async function replaySegment(
  handle: FileHandle,
  dir: string,
  file: string,
  start: number,
  size: number,
  tolerateTornTail: boolean,
  visit: RecordVisitor | undefined,
): Promise<number> {
  const decoded = newDecodedPayload();
  const outcome = await scanFrames(handle, file, start, size, (buffer, payloadStart, payloadEnd) => {
    if (!decodePayload(buffer, payloadStart, payloadEnd, decoded)) return false;
    const op = SEGMENT_OPS.get(decoded.op);
    if (op === undefined) return false;
    visit?.(op, decoded.key, decoded.version, decoded.value, decoded.expiresAt);
    return true;
  });
  const bad = outcome.bad;
  if (bad === undefined) return outcome.frames;
  const where = `${path.join(dir, file)} at byte ${bad.offset}`;
  if (!tolerateTornTail || bad.kind === 'bad-payload') {
    throw new WalError(WalErrorCode.Corrupt, `${where}: ${bad.reason}`, { file, offset: bad.offset });
  }
  const next = await findValidFrame(handle, file, bad.offset + 1, size);
  if (next !== undefined) {
    throw new WalError(WalErrorCode.Corrupt, `${where}: ${bad.reason}, and a valid record follows at byte ${next}`, {
      file,
      offset: bad.offset,
    });
  }
  throw new TornTailError(bad.offset, outcome.frames);
}
