import { openStore, type Store, type StoreOptions } from '@kv/wal';
import { HINTS_MAX_BYTES_DEFAULT, HINTS_MAX_DEFAULT, HintIndex, hintId, type Hint, type HintStore } from './hint-store';
import { systemClock } from './system-clock';
import type { Timers } from './time';

/** Default pause before a hint log that failed is opened again. */
export const HINT_DISK_RETRY_MS_DEFAULT = 5_000;

/** What a {@link DurableHintStore} reports about its disk. Exceptions thrown by them are ignored. */
export interface DurableHintStoreEvents {
  /**
   * The hint log failed (a write or fsync failed: disk full, I/O error) or could not be opened: hints are not recorded
   * until it is open again. Called once per failure, not once per hint.
   */
  diskFailed?(error: unknown): void;
  /** The hint log is open again after a failure, in step with the hints kept in memory; hints are recorded again. */
  diskRecovered?(): void;
}

/** Options of {@link DurableHintStore.open}. */
export interface DurableHintStoreOptions {
  /** Bound on pending hints (default {@link HINTS_MAX_DEFAULT}). */
  hintsMax?: number;
  /** Bound on the bytes of pending hints (default {@link HINTS_MAX_BYTES_DEFAULT}). */
  hintsMaxBytes?: number;
  /**
   * Options of the underlying store (sync policy, file system, ...); the default syncs every hint (group-committed).
   * Its `onFatal` is the hint store's own: a failing log degrades the store, it never ends the process.
   */
  store?: Omit<StoreOptions, 'onFatal'>;
  /** Pause before a failed log is opened again, in ms (default {@link HINT_DISK_RETRY_MS_DEFAULT}). */
  retryMs?: number;
  /** Timers of the retries (default the system's, {@link systemClock}). */
  timers?: Timers;
  events?: DurableHintStoreEvents;
}

// A hint's value in the log: a one-character tag, then the value of a set.
const TAG_SET = 's';
const TAG_TOMBSTONE = 'd';

/**
 * A {@link HintStore} on a `@kv/wal` store of its own, so that hints survive a restart of the coordinator.
 *
 * Each (node, key) is one entry of the store, versioned by the hinted write's version, so the store itself keeps only
 * the newest hint of a key; a delivered or dropped hint is purged from the log. The order of hints ("oldest first")
 * is rebuilt from the store's iteration order when it is opened.
 *
 * Disk failures degrade, never end the process: when a write or fsync of the log fails (disk full, I/O error), or the
 * log cannot be opened, the store reports it once ({@link DurableHintStoreEvents.diskFailed}), stops recording hints
 * (each one not recorded is counted in {@link DurableHintStore.diskDropped}; a hint whose write failed is taken out
 * of memory too, so that a hint is pending only if it reached the disk), keeps delivering the hints it holds, and
 * opens the log again every `retryMs`. Once open, the log is brought in step with memory (hints delivered meanwhile
 * are purged) and hints are recorded again.
 */
export class DurableHintStore implements HintStore {
  /** The open log; undefined while it failed (or before it could be opened). */
  private store: Store | undefined;
  /** Whether the log was ever opened (its hints loaded into memory). */
  private loaded = false;
  /** Whether a failure was reported and its recovery was not yet. */
  private failureReported = false;
  private diskDroppedCount = 0;
  private retryTimer: unknown;
  private reopening: Promise<void> | undefined;
  /** The close of a log that failed: its files are released before the log is opened again. */
  private releasing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Writes and purges of the log not settled yet; {@link DurableHintStore.close} waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly retryMs: number;
  private readonly timers: Timers;
  private readonly events: DurableHintStoreEvents;

  private constructor(
    private readonly dir: string,
    private readonly index: HintIndex,
    private readonly options: DurableHintStoreOptions,
  ) {
    this.retryMs = options.retryMs ?? HINT_DISK_RETRY_MS_DEFAULT;
    if (!Number.isSafeInteger(this.retryMs) || this.retryMs < 1) throw new TypeError(`retryMs must be a positive integer, got ${this.retryMs}`);
    this.timers = options.timers ?? systemClock;
    this.events = options.events ?? {};
  }

  /**
   * Opens (or creates) the hint store in `dir`, a directory nothing else writes to. Resolves also when the log cannot
   * be opened: the store then starts degraded (see the class) and tries again every `retryMs`.
   * @throws TypeError on an invalid bound.
   */
  static async open(dir: string, options: DurableHintStoreOptions = {}): Promise<DurableHintStore> {
    const index = new HintIndex(options.hintsMax ?? HINTS_MAX_DEFAULT, options.hintsMaxBytes ?? HINTS_MAX_BYTES_DEFAULT);
    const hints = new DurableHintStore(dir, index, options);
    await hints.reopen();
    return hints;
  }

  get count(): number {
    return this.index.count;
  }

  get bytes(): number {
    return this.index.bytes;
  }

  get dropped(): number {
    return this.index.dropped;
  }

  get diskDropped(): number {
    return this.diskDroppedCount;
  }

  /** Whether the log failed and hints are not recorded (until it is opened again). */
  get failing(): boolean {
    return this.store === undefined;
  }

  async add(hint: Hint): Promise<void> {
    const store = this.store;
    if (store === undefined) {
      this.diskDroppedCount += 1;
      return;
    }
    const evicted: Hint[] = [];
    if (!this.index.put(hint, evicted)) return;
    const value = hint.value === null ? TAG_TOMBSTONE : TAG_SET + hint.value;
    const written = this.track(store.set(hintId(hint), value, hint.version, hint.value === null ? undefined : hint.expiresAt));
    for (const old of evicted) void this.track(store.purge(hintId(old), old.version)).catch(() => undefined);
    try {
      await written;
    } catch (error) {
      // Not on disk: not pending either (unless a newer hint of the key replaced it meanwhile).
      this.index.delete(hint);
      if (this.store !== store) {
        // The log failed (reported once, by the failure): this hint is one of those not recorded.
        this.diskDroppedCount += 1;
        return;
      }
      throw error;
    }
  }

  pending(nodeId: string, limit: number): Hint[] {
    return this.index.pending(nodeId, limit);
  }

  async remove(hint: Hint): Promise<void> {
    if (!this.index.delete(hint)) return;
    const store = this.store;
    // While the log is failed, the purge is left to the reconciliation when it is opened again.
    if (store === undefined) return;
    try {
      await this.track(store.purge(hintId(hint), hint.version));
    } catch (error) {
      if (this.store === store) throw error;
    }
  }

  nodes(): string[] {
    return this.index.nodes();
  }

  /** Stops the retries, waits for the writes of hints in flight, and closes the log. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.reopening;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const store = this.store;
    this.store = undefined;
    await store?.close();
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    const settled = operation.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return operation;
  }

  /** The log failed under `store` (its fatal handler), or could not be opened (`store` undefined). */
  private failed(store: Store | undefined, error: unknown): void {
    if (store !== undefined) {
      if (this.store !== store) return;
      this.store = undefined;
      // A failed log rejects its close with WAL_FAILED; its files are released anyway.
      this.releasing = store.close().catch(() => undefined);
    }
    if (!this.failureReported) {
      this.failureReported = true;
      try {
        this.events.diskFailed?.(error);
      } catch {
        // Documented: exceptions of event handlers are ignored.
      }
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      void this.reopen();
    }, this.retryMs);
  }

  /** Opens the log and brings it in step with memory; on failure, schedules the next try. */
  private reopen(): Promise<void> {
    this.reopening ??= this.openAndReconcile().finally(() => {
      this.reopening = undefined;
    });
    return this.reopening;
  }

  private async openAndReconcile(): Promise<void> {
    let store: Store | undefined;
    let fatal: unknown;
    await this.releasing;
    try {
      store = await openStore(this.dir, {
        ...this.options.store,
        onFatal: (error) => {
          fatal ??= error;
          if (this.store === store && store !== undefined) this.failed(store, error);
        },
      });
      if (!this.loaded) {
        const evicted: Hint[] = [];
        for (const [id, entry] of store.entries()) {
          const hint = decodeHint(id, entry.value, entry.version, entry.expiresAt);
          if (hint !== undefined) this.index.put(hint, evicted);
        }
        await Promise.all(evicted.map((hint) => store?.purge(hintId(hint), hint.version)));
      } else {
        // Hints delivered (or dropped) while the log was failed are purged; hints kept in memory are written again.
        const writes: Promise<unknown>[] = [];
        for (const [id, entry] of store.entries()) {
          if (this.index.get(id)?.version !== entry.version) writes.push(store.purge(id, entry.version));
        }
        for (const hint of this.index.hints()) {
          if (store.get(hintId(hint))?.version !== hint.version) {
            writes.push(store.set(hintId(hint), hint.value === null ? TAG_TOMBSTONE : TAG_SET + hint.value, hint.version, hint.value === null ? undefined : hint.expiresAt));
          }
        }
        await Promise.all(writes);
      }
      if (fatal !== undefined) throw fatal;
    } catch (error) {
      await store?.close().catch(() => undefined);
      this.failed(undefined, error);
      return;
    }
    if (this.closed) {
      await store.close();
      return;
    }
    this.loaded = true;
    this.store = store;
    if (this.failureReported) {
      this.failureReported = false;
      try {
        this.events.diskRecovered?.();
      } catch {
        // Documented: exceptions of event handlers are ignored.
      }
    }
  }
}

/** A hint from its record in the hint log; the expiry of an expiring value is the record's (a `SET_EXPIRING`). */
function decodeHint(id: string, value: string, version: string, expiresAt: number | undefined): Hint | undefined {
  const separator = id.indexOf('\u0000');
  if (separator <= 0) return undefined;
  const nodeId = id.slice(0, separator);
  const key = id.slice(separator + 1);
  if (value.startsWith(TAG_SET)) return expiresAt === undefined ? { nodeId, key, value: value.slice(1), version } : { nodeId, key, value: value.slice(1), version, expiresAt };
  if (value === TAG_TOMBSTONE) return { nodeId, key, value: null, version };
  return undefined;
}
