import type { WalOptions } from './wal-options';
import { VERSION_SUFFIX_DEFAULT } from './version-clock';

/** Options of {@link openStore}: those of the log ({@link WalOptions}) plus compaction and versioning. */
export interface StoreOptions extends WalOptions {
  /**
   * Compact when the log (segments since the last snapshot) is more than this many times the live data (the size a
   * snapshot of the map would have, tombstones included). Default {@link COMPACTION_FACTOR_DEFAULT}; at least 1.
   */
  compactionFactor?: number;
  /** Never compact automatically while the log is smaller than this (default {@link COMPACTION_BYTES_MIN_DEFAULT}). */
  compactionBytesMin?: number;
  /** Suffix of store-assigned versions, fixed per store, e.g. a node id (default {@link VERSION_SUFFIX_DEFAULT}). */
  versionSuffix?: string;
  /** Wall clock in ms for store-assigned versions (default `Date.now`). */
  now?: () => number;
}

/** Default compaction factor: replay reads at most ~5x the live data; rewriting costs <= 1/4 of the bytes appended. */
export const COMPACTION_FACTOR_DEFAULT = 4;
/** Default minimum log size for compaction: a smaller log replays in ~0.1 s, so snapshots would cost more than they save. */
export const COMPACTION_BYTES_MIN_DEFAULT = 16 * 1024 * 1024;

/** The store-level options with defaults filled in. */
export interface ResolvedStoreOptions {
  readonly compactionFactor: number;
  readonly compactionBytesMin: number;
  readonly versionSuffix: string;
  readonly now: () => number;
}

/**
 * Fills in the store-level defaults and checks them (the log's own options are checked by the log).
 * @throws TypeError on an invalid value.
 */
export function resolveStoreOptions(options: StoreOptions): ResolvedStoreOptions {
  const compactionFactor = options.compactionFactor ?? COMPACTION_FACTOR_DEFAULT;
  if (typeof compactionFactor !== 'number' || !Number.isFinite(compactionFactor) || compactionFactor < 1) {
    throw new TypeError(`compactionFactor must be a finite number >= 1, got ${compactionFactor}`);
  }
  const compactionBytesMin = options.compactionBytesMin ?? COMPACTION_BYTES_MIN_DEFAULT;
  if (!Number.isSafeInteger(compactionBytesMin) || compactionBytesMin < 0) {
    throw new TypeError(`compactionBytesMin must be an integer >= 0, got ${compactionBytesMin}`);
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('now must be a function');
  return { compactionFactor, compactionBytesMin, versionSuffix: options.versionSuffix ?? VERSION_SUFFIX_DEFAULT, now };
}
