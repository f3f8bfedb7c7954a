import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isExpiryOf, makeEntry, supersedes, type Entry, type StoreOp, type StoredValue, type WriteResult } from './entry';
import { EntryTable } from './entry-table';
import type { FileSystem } from './file-system';
import { isSnapshotTempFileName, parseSegmentFileName, parseSnapshotFileName, snapshotFileName } from './file-names';
import { OP_DELETE, OP_PURGE, OP_SET } from './format';
import { checkExpiresAt, frameBytes, keyBytes, valueBytes, versionBytes, writeFrame } from './record-codec';
import type { RecoveryReport } from './recovery-report';
import { readSnapshot, SnapshotStopped, writeSnapshot } from './snapshot';
import { resolveStoreOptions, type ResolvedStoreOptions, type StoreOptions } from './store-options';
import { checkText, checkVersion } from './validate';
import { VersionClock } from './version-clock';
import { Wal } from './wal';
import { WalError, WalErrorCode } from './wal-error';
import { resolveWalOptions, type WalLogger } from './wal-options';

/** Counters of a {@link Store}, for metrics. */
export interface StoreStats {
  /** Live keys (not tombstones). */
  readonly keys: number;
  /** Tombstones held. */
  readonly tombstones: number;
  /** Bytes of the log's segments (what a reopen replays after the snapshot). */
  readonly logBytes: number;
  /** About the bytes a snapshot of the map would take (from string lengths: exact for ASCII): the live data compaction compares the log with. */
  readonly liveBytes: number;
  /** Segments on disk. */
  readonly segments: number;
  /** Sequence number of the current snapshot (0 if none). */
  readonly snapshotSequence: number;
  /** Bytes of the current snapshot (0 if none). */
  readonly snapshotBytes: number;
  /** Keys with a write accepted but not yet durable. */
  readonly pendingKeys: number;
  /** Bytes accepted but not yet written. */
  readonly queuedBytes: number;
  /** Records appended since open. */
  readonly records: number;
  /** Group commits (write system calls) since open. */
  readonly writes: number;
  /** fdatasyncs of the log since open. */
  readonly syncs: number;
  /** Snapshots written since open. */
  readonly compactions: number;
  /** True while a snapshot is being written. */
  readonly compacting: boolean;
}

type OpKind = 'set' | 'delete' | 'purge' | 'expire';

interface InternalOp {
  readonly kind: OpKind;
  readonly key: string;
  readonly value: string | null;
  readonly version: string | undefined;
  readonly expiresAt: number | undefined;
}

/**
 * A write accepted for the log and not yet durable; `entry` null for a purge. `expire` for the conversion of an
 * expiring value into a tombstone at its own version (applied although the version is equal).
 */
interface PendingWrite {
  readonly key: string;
  readonly entry: Entry | null;
  readonly version: string;
  readonly expire: boolean;
  done: Promise<void>;
}

interface Submitted {
  readonly results: WriteResult[];
  readonly done: Promise<unknown> | undefined;
}

const RESOLVED = Promise.resolve();

/**
 * A durable map from string keys to versioned values, on a {@link Wal}: every accepted write is logged and fsynced
 * (per the sync policy) before it is acknowledged and before any read can see it.
 *
 * Versions: a write is applied only if its version is greater (as a string) than the one held for the key,
 * tombstones included; otherwise it is ignored, reported with `applied: false`, and not logged. Writes without a
 * version get one from the store, greater than every version it holds or has issued (`docs/formats/wal.md`).
 *
 * Ordering and concurrency: each call is decided synchronously, when it is made, against the durable map plus every
 * write accepted earlier and still on its way to disk; so calls take effect in call order, and two writes of one key
 * in the same group commit are ordered by version. Accepted writes reach the log in call order.
 *
 * Visibility: reads (`get`, `getEntry`, iteration, `size`) see only durable data. A write becomes visible when its
 * group commit is durable, just before its promise resolves; a value that a crash could still lose is never read.
 *
 * Failure: a failed write or fsync of the log is fatal (see `onFatal`); the writes it covered never resolve as
 * successful. Methods throw `TypeError` for invalid arguments (as a rejection for the async ones).
 *
 * One process at a time may open a directory.
 */
export class Store {
  private readonly pending = new Map<string, PendingWrite>();
  private closed = false;
  private closing: Promise<void> | undefined;
  private compaction: Promise<void> | undefined;
  private compactionCount = 0;
  /** After a failed compaction, the log size below which no automatic one is tried again. */
  private compactionRetryBytes = 0;

  private constructor(
    /** The store's directory. */
    readonly dir: string,
    private readonly wal: Wal,
    private readonly table: EntryTable,
    private readonly clock: VersionClock,
    private readonly fs: FileSystem,
    private readonly logger: WalLogger,
    private readonly options: ResolvedStoreOptions,
    private snapshot: { sequence: number; bytes: number } | null,
    private snapshotSequences: number[],
    /** What opening found and did. */
    readonly recovery: RecoveryReport,
  ) {}

  /** @internal use {@link openStore}. */
  static async open(dir: string, options: StoreOptions = {}): Promise<Store> {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty string');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const storeOptions = resolveStoreOptions(options);
    const { fs, logger } = resolveWalOptions(options);
    const clock = new VersionClock(storeOptions.now, storeOptions.versionSuffix);
    const started = performance.now();
    let names: string[];
    try {
      await fs.mkdir(dir);
      names = await fs.readdir(dir);
    } catch (error) {
      throw new WalError(WalErrorCode.Io, `${dir}: opening the directory failed`, { cause: error });
    }

    const removed: string[] = [];
    const remove = async (name: string): Promise<void> => {
      try {
        await fs.unlink(path.join(dir, name));
        removed.push(name);
      } catch (error) {
        logger.warn('could not remove a left-over file; will try again on next open', { dir, file: name, error: String(error) });
      }
    };
    for (const name of names) if (isSnapshotTempFileName(name)) await remove(name);

    const snapshotSequences = names
      .map(parseSnapshotFileName)
      .filter((sequence): sequence is number => sequence !== undefined)
      .sort((a, b) => b - a);
    let table = new EntryTable();
    let snapshot: RecoveryReport['snapshot'] = null;
    const ignoredSnapshots: { file: string; reason: string }[] = [];
    for (const sequence of snapshotSequences) {
      const candidate = new EntryTable();
      let duplicate = false;
      let greatest = '';
      const read = await readSnapshot(fs, dir, sequence, (entry) => {
        if (!candidate.add(entry)) duplicate = true;
        if (entry.version > greatest) greatest = entry.version;
      });
      const file = snapshotFileName(sequence);
      if (read.valid && !duplicate) {
        table = candidate;
        clock.observe(read.versionFloor);
        clock.observe(greatest);
        snapshot = { file, sequence, entries: read.entries, bytes: read.bytes };
        break;
      }
      const reason = read.valid ? 'a key appears twice' : read.reason;
      ignoredSnapshots.push({ file, reason });
      logger.warn('ignoring a snapshot that is not valid', { dir, file, reason });
    }

    const firstSequence = snapshot === null ? 1 : snapshot.sequence + 1;
    const wal = await Wal.open(dir, {
      ...options,
      fs,
      logger,
      firstSequence,
      onRecord: (op, key, version, value, expiresAt) => {
        clock.observe(version);
        if (op === 'purge') table.purge(key, version);
        // A DELETE at the version of the expiring value held is that value's expiry (see Store.expire).
        else if (!table.put(makeEntry(key, value, version, expiresAt)) && op === 'delete') table.expire(key, version);
      },
    });

    // Left-overs of a compaction interrupted after its snapshot became durable.
    const covered = snapshot === null ? 0 : snapshot.sequence;
    for (const name of names) {
      const segment = parseSegmentFileName(name);
      const older = parseSnapshotFileName(name);
      if ((segment !== undefined && segment <= covered) || (older !== undefined && older < covered)) await remove(name);
    }
    if (removed.length > 0) {
      await fs.syncDir(dir).catch((error: unknown) => logger.warn('directory sync failed after clean-up', { dir, error: String(error) }));
    }

    const recovery: RecoveryReport = {
      snapshot,
      ignoredSnapshots,
      segmentsReplayed: wal.recovery.segments,
      records: wal.recovery.records,
      bytes: wal.recovery.bytes + (snapshot?.bytes ?? 0),
      tornTail: wal.recovery.tornTail,
      removedFiles: removed,
      durationMs: performance.now() - started,
    };
    const kept = snapshotSequences.filter((sequence) => sequence >= covered && sequence > 0);
    const store = new Store(
      dir,
      wal,
      table,
      clock,
      fs,
      logger,
      storeOptions,
      snapshot === null ? null : { sequence: snapshot.sequence, bytes: snapshot.bytes },
      kept,
      recovery,
    );
    store.maybeCompact();
    return store;
  }

  /** Live keys (tombstones excluded). */
  get size(): number {
    return this.table.liveCount;
  }

  /**
   * Writes `value` under `key`, at `version` or a store-assigned one, expiring at `expiresAt` (ms since the epoch) if
   * given: the store keeps the expiry with the value and logs it, and never acts on it by itself (see
   * {@link Store.expire}). Resolves once durable (per the sync policy); ignored (`applied: false`, not logged) if the
   * store holds a version >= `version`. An ignored write resolves once the write that beat it is durable.
   *
   * @throws TypeError for a non-string or over-long key, value or version, an empty version, a lone surrogate, or an
   *   `expiresAt` that is not an integer from 0 to 2^53 - 1.
   * @throws WalError `WAL_CLOSED`, `WAL_OVERLOADED`, `WAL_VERSION_SPACE`, a fatal error, or `WAL_FAILED` after one.
   */
  async set(key: string, value: string, version?: string, expiresAt?: number): Promise<WriteResult> {
    if (typeof value !== 'string') throw new TypeError(`value must be a string, got ${typeof value}`);
    const { results, done } = this.submit([{ kind: 'set', key, value, version, expiresAt }]);
    if (done !== undefined) await done;
    return results[0];
  }

  /**
   * Writes a tombstone for `key` (even if the key is unknown, so that an older write arriving later stays ignored).
   * Same rules and errors as {@link Store.set}.
   */
  async delete(key: string, version?: string): Promise<WriteResult> {
    const { results, done } = this.submit([{ kind: 'delete', key, value: null, version, expiresAt: undefined }]);
    if (done !== undefined) await done;
    return results[0];
  }

  /**
   * Turns the expiring value of `key` at exactly `version` into a tombstone at that same version, logged durably as a
   * `DELETE` at that version. The one way an entry is replaced at an equal version: the apply rule of writes ignores
   * equal versions, and a replay applies a `DELETE` at the version of an expiring value held in the same way. The
   * caller decides when a value has expired; the store only checks that the entry is the expiring value meant.
   *
   * @returns true if converted; false (nothing logged) when the key holds something else: no entry, a tombstone,
   *   another version, or a value without expiry.
   * @throws TypeError for an invalid key or version. Same errors as {@link Store.set} otherwise.
   */
  async expire(key: string, version: string): Promise<boolean> {
    checkVersion(version);
    const { results, done } = this.submit([{ kind: 'expire', key, value: null, version, expiresAt: undefined }]);
    if (done !== undefined) await done;
    return results[0].applied;
  }

  /**
   * Many writes in one group-committed append (one write, one fsync), each decided in order as if made one by one;
   * results come in the same order. All operations are checked before any is accepted.
   *
   * @throws TypeError if any operation is invalid (then none is applied). Same errors as {@link Store.set} otherwise.
   */
  async apply(ops: readonly StoreOp[]): Promise<WriteResult[]> {
    if (!Array.isArray(ops)) throw new TypeError('ops must be an array');
    const internal: InternalOp[] = new Array<InternalOp>(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op: unknown = ops[i];
      if (typeof op !== 'object' || op === null) throw new TypeError(`ops[${i}] must be an object`);
      const { op: kind, key, value, version, expiresAt } = op as { op?: unknown; key?: unknown; value?: unknown; version?: unknown; expiresAt?: unknown };
      if (kind === 'set') {
        if (typeof value !== 'string') throw new TypeError(`ops[${i}].value must be a string`);
        internal[i] = { kind, key: key as string, value, version: version as string | undefined, expiresAt: expiresAt as number | undefined };
      } else if (kind === 'delete') {
        internal[i] = { kind, key: key as string, value: null, version: version as string | undefined, expiresAt: undefined };
      } else {
        throw new TypeError(`ops[${i}].op must be 'set' or 'delete'`);
      }
    }
    const { results, done } = this.submit(internal);
    if (done !== undefined) await done;
    return results;
  }

  /**
   * Forgets `key` entirely, leaving no tombstone, if the version held is <= `version`; logged durably. For garbage
   * collection of tombstones that every replica has, and for queues (e.g. delivered hints). After a purge, any write
   * of the key is accepted again, whatever its version: purge only what cannot come back.
   *
   * @returns true if the entry was purged; false if there was none or it is newer (nothing logged).
   * @throws TypeError for an invalid key or version. Same errors as {@link Store.set} otherwise.
   */
  async purge(key: string, version: string): Promise<boolean> {
    checkVersion(version);
    const { results, done } = this.submit([{ kind: 'purge', key, value: null, version, expiresAt: undefined }]);
    if (done !== undefined) await done;
    return results[0].applied;
  }

  /**
   * The live value of `key`, its version and expiry (a new `{ value, version, expiresAt }` object), or undefined if
   * absent or deleted. Expired values are returned as any other: expiry is the caller's decision.
   * Synchronous, from memory; sees durable writes only.
   *
   * @throws TypeError if `key` is not a string. @throws WalError `WAL_CLOSED` after close.
   */
  get(key: string): StoredValue | undefined {
    const entry = this.getEntry(key);
    return entry === undefined || entry.value === null ? undefined : { value: entry.value, version: entry.version, expiresAt: entry.expiresAt };
  }

  /**
   * The entry of `key`, tombstones included, or undefined if the store has none (never written, or purged).
   * Synchronous, from memory; sees durable writes only. Entries are immutable and shared: do not modify them.
   *
   * @throws TypeError if `key` is not a string. @throws WalError `WAL_CLOSED` after close.
   */
  getEntry(key: string): Entry | undefined {
    if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeof key}`);
    this.checkReadable();
    return this.table.map.get(key);
  }

  /**
   * Live entries as `[key, { value, version }]`, in the order keys first got an entry (kept across reopen and
   * compaction; a purged key that is written again counts as new). Durable data only. Writes that become durable
   * during the iteration may or may not be seen; each yielded pair reflects one moment.
   *
   * @throws WalError `WAL_CLOSED` after close.
   */
  *entries(): IterableIterator<[string, StoredValue]> {
    this.checkReadable();
    for (const [key, entry] of this.table.map) {
      if (entry.value !== null) yield [key, { value: entry.value, version: entry.version, expiresAt: entry.expiresAt }];
    }
  }

  /**
   * Every entry, tombstones included (for anti-entropy and rebalancing), in the order of {@link Store.entries}.
   * @throws WalError `WAL_CLOSED` after close.
   */
  allEntries(): IterableIterator<Entry> {
    this.checkReadable();
    return this.table.map.values();
  }

  /**
   * Writes a snapshot now and removes the segments it covers. Writes continue meanwhile (they go to a new segment).
   * If a compaction is running, waits for it and then runs another, so the snapshot covers every write acknowledged
   * before the call.
   *
   * @throws WalError `WAL_COMPACTION_FAILED` if the snapshot cannot be written (the log is intact), `WAL_CLOSED`
   * if the store is closed before or during the compaction, or the log's fatal error.
   */
  async compact(): Promise<void> {
    this.checkWritable();
    while (this.compaction !== undefined) await this.compaction.catch(() => undefined);
    this.checkWritable();
    await this.startCompaction();
  }

  /** Counters, for metrics. @throws nothing. */
  stats(): StoreStats {
    const wal = this.wal.stats();
    return {
      keys: this.table.liveCount,
      tombstones: this.table.map.size - this.table.liveCount,
      logBytes: wal.bytes,
      liveBytes: this.table.bytes,
      segments: wal.segments,
      snapshotSequence: this.snapshot?.sequence ?? 0,
      snapshotBytes: this.snapshot?.bytes ?? 0,
      pendingKeys: this.pending.size,
      queuedBytes: wal.queuedBytes,
      records: wal.records,
      writes: wal.writes,
      syncs: wal.syncs,
      compactions: this.compactionCount,
      compacting: this.compaction !== undefined,
    };
  }

  /**
   * Stops accepting calls, lets a running compaction stop, writes and fsyncs every accepted write, and releases the
   * files. Idempotent: later calls return the same promise. Every other method throws or rejects with `WAL_CLOSED`
   * once it was called.
   *
   * @throws WalError `WAL_FAILED` (as a rejection) if the log had failed; files are released anyway.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = (async () => {
        const running = this.compaction;
        if (running !== undefined) await running.catch(() => undefined);
        await this.wal.close();
      })();
    }
    return this.closing;
  }

  private checkReadable(): void {
    if (this.closed) throw new WalError(WalErrorCode.Closed, `the store in ${this.dir} is closed`);
  }

  private checkWritable(): void {
    this.checkReadable();
  }

  /**
   * Decides every operation against the durable map plus the writes still pending, then queues the accepted ones as one
   * append. Synchronous: nothing changes if it throws.
   */
  private submit(ops: readonly InternalOp[]): Submitted {
    this.checkWritable();
    // UTF-8 sizes of each operation's key and value (-1: none), measured once for the checks and the encoding.
    const sizes = new Array<number>(ops.length * 2);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      checkText('key', op.key);
      sizes[i * 2] = keyBytes(op.key);
      if (op.value !== null) {
        checkText('value', op.value);
        sizes[i * 2 + 1] = valueBytes(op.value);
      } else {
        sizes[i * 2 + 1] = -1;
      }
      if (op.version !== undefined) {
        checkVersion(op.version);
        versionBytes(op.version);
      }
      if (op.expiresAt !== undefined) checkExpiresAt(op.expiresAt);
    }
    const results: WriteResult[] = new Array<WriteResult>(ops.length);
    const accepted: PendingWrite[] = [];
    const acceptedOps: number[] = [];
    // Later operations of the same call see earlier ones through `local`; `this.pending` changes only on success.
    const local = ops.length > 1 ? new Map<string, PendingWrite>() : undefined;
    let waits: Promise<void>[] | undefined;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const mine = local?.get(op.key);
      const other = mine === undefined ? this.pending.get(op.key) : undefined;
      const state = mine ?? other;
      const current = state !== undefined ? state.entry : this.table.map.get(op.key);
      let write: PendingWrite | undefined;
      if (op.kind === 'purge') {
        const version = op.version as string;
        if (current != null && current.version <= version) write = { key: op.key, entry: null, version, expire: false, done: RESOLVED };
        else results[i] = { applied: false, version: current?.version ?? '' };
      } else if (op.kind === 'expire') {
        const version = op.version as string;
        if (isExpiryOf(version, current ?? undefined)) write = { key: op.key, entry: makeEntry(op.key, null, version), version, expire: true, done: RESOLVED };
        else results[i] = { applied: false, version: current?.version ?? '' };
      } else {
        const version = op.version ?? this.clock.next();
        if (supersedes(version, current?.version ?? undefined)) {
          write = { key: op.key, entry: makeEntry(op.key, op.value, version, op.expiresAt), version, expire: false, done: RESOLVED };
          this.clock.observe(version);
        } else {
          results[i] = { applied: false, version: (current as Entry).version };
        }
      }
      if (write !== undefined) {
        accepted.push(write);
        acceptedOps.push(i);
        local?.set(op.key, write);
        results[i] = { applied: true, version: write.version };
      } else if (other !== undefined) {
        // Ignored because of a write still on its way to disk: answer once that write is durable.
        (waits ??= []).push(other.done);
      }
    }
    if (accepted.length > 0) {
      const frames = encodePending(accepted, acceptedOps, sizes);
      const done = this.wal.enqueue(frames, accepted.length, () => this.applyDurable(accepted));
      for (const write of accepted) {
        write.done = done;
        this.pending.set(write.key, write);
      }
      (waits ??= []).push(done);
    }
    if (waits === undefined) return { results, done: undefined };
    return { results, done: waits.length === 1 ? waits[0] : Promise.all(waits) };
  }

  /** Called by the log, synchronously, when a group commit holding `writes` is durable. */
  private applyDurable(writes: readonly PendingWrite[]): void {
    for (const write of writes) {
      if (write.entry === null) this.table.purge(write.key, write.version);
      else if (write.expire) this.table.expire(write.key, write.version);
      else this.table.put(write.entry);
      if (this.pending.get(write.key) === write) this.pending.delete(write.key);
    }
    this.maybeCompact();
  }

  private maybeCompact(): void {
    if (this.compaction !== undefined || this.closed) return;
    const logBytes = this.wal.stats().bytes;
    if (logBytes < this.options.compactionBytesMin || logBytes < this.compactionRetryBytes) return;
    if (logBytes <= this.options.compactionFactor * this.table.bytes) return;
    this.startCompaction().catch((error: unknown) => {
      if (error instanceof WalError && error.code === WalErrorCode.Closed) return;
      this.logger.warn('compaction failed; the log is intact, will retry once it has grown', {
        dir: this.dir,
        error: String(error),
        cause: error instanceof Error && error.cause !== undefined ? String(error.cause) : undefined,
      });
    });
  }

  private startCompaction(): Promise<void> {
    const run = this.compactNow();
    this.compaction = run;
    const clear = (): void => {
      if (this.compaction === run) this.compaction = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  private async compactNow(): Promise<void> {
    let entries: Entry[] = [];
    let versionFloor = '';
    // Captured at the switch of segments: exactly the writes of the segments the snapshot covers.
    const sequence = await this.wal.rotate(() => {
      entries = Array.from(this.table.map.values());
      versionFloor = this.clock.floor;
    });
    let written;
    try {
      written = await writeSnapshot(this.fs, this.dir, sequence, entries, versionFloor, () => this.closed);
    } catch (error) {
      if (error instanceof SnapshotStopped) {
        throw new WalError(WalErrorCode.Closed, `the store in ${this.dir} was closed during compaction`);
      }
      this.compactionRetryBytes = this.wal.stats().bytes + this.options.compactionBytesMin;
      throw new WalError(WalErrorCode.CompactionFailed, `writing snapshot ${snapshotFileName(sequence)} in ${this.dir} failed`, {
        cause: error,
        file: snapshotFileName(sequence),
      });
    }
    entries = [];
    this.snapshot = { sequence: written.sequence, bytes: written.bytes };
    this.compactionCount++;
    const older = this.snapshotSequences.filter((s) => s < sequence);
    this.snapshotSequences = [sequence];
    try {
      await this.wal.deleteSegmentsThrough(sequence);
      for (const s of older) {
        await this.fs.unlink(path.join(this.dir, snapshotFileName(s))).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
      if (older.length > 0) await this.fs.syncDir(this.dir);
    } catch (error) {
      // The new snapshot is durable; the files it made useless are removed on the next open.
      this.logger.warn('removing files covered by a snapshot failed', { dir: this.dir, error: String(error) });
    }
  }
}

/**
 * Encodes accepted writes as one buffer of frames. `opIndexes[i]` is the operation of `writes[i]`, whose key and value
 * sizes are at `sizes[2 * index]` and `sizes[2 * index + 1]`.
 */
function encodePending(writes: readonly PendingWrite[], opIndexes: readonly number[], sizes: readonly number[]): Buffer {
  const versionSizes = new Array<number>(writes.length);
  let total = 0;
  for (let i = 0; i < writes.length; i++) {
    const write = writes[i];
    const op = opIndexes[i];
    versionSizes[i] = versionBytes(write.version);
    const value = write.entry === null ? null : write.entry.value;
    const expiring = value !== null && (write.entry as Entry).expiresAt !== undefined;
    total += frameBytes(sizes[op * 2], versionSizes[i], value === null ? -1 : sizes[op * 2 + 1], expiring);
  }
  const target = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < writes.length; i++) {
    const write = writes[i];
    const op = opIndexes[i];
    const value = write.entry === null ? null : write.entry.value;
    const code = write.entry === null ? OP_PURGE : value === null ? OP_DELETE : OP_SET;
    const expiresAt = write.entry === null ? undefined : write.entry.expiresAt;
    at = writeFrame(target, at, code, write.key, sizes[op * 2], write.version, versionSizes[i], value, value === null ? -1 : sizes[op * 2 + 1], expiresAt);
  }
  return target;
}

/**
 * Opens (creating it if needed) the store in `dir`: loads the newest valid snapshot, replays the log after it, cuts off
 * a torn tail (reported in {@link Store.recovery} and to the logger), removes left-overs of an interrupted compaction.
 *
 * @throws TypeError on invalid arguments or options.
 * @throws WalError `WAL_CORRUPT` (with `file` and `offset`, also in the message) for damage a crash cannot explain;
 * `WAL_UNSUPPORTED_FORMAT` for files of another format version; `WAL_IO` if files cannot be read;
 * `WAL_WRITE_FAILED` if the torn tail cannot be cut or a segment created.
 */
export function openStore(dir: string, options: StoreOptions = {}): Promise<Store> {
  return Store.open(dir, options);
}
