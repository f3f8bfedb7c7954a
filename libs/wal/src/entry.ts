/**
 * What the store holds for a key: a value, or a tombstone (`value` null) left by a delete. Entries are immutable: a
 * write replaces the entry object, so holding on to one (or to an iterator's) is safe.
 */
export interface Entry {
  readonly key: string;
  /** The value, or null for a tombstone. */
  readonly value: string | null;
  readonly version: string;
  /** True for a tombstone (then `value` is null). */
  readonly tombstone: boolean;
  /**
   * When the value expires, in ms since the epoch, or undefined for a value that does not expire (and for every
   * tombstone). The store only keeps it: what expiry means is the caller's business (see `Store.expire`).
   */
  readonly expiresAt: number | undefined;
}

/** A live (not deleted) value and its version. */
export interface StoredValue {
  readonly value: string;
  readonly version: string;
  /** When the value expires (ms since the epoch), if it does. */
  readonly expiresAt?: number;
}

/**
 * Outcome of a set or delete. `applied` is false when the store already held a version greater than or equal to the
 * one written (tombstones included); nothing was logged then. `version` is the version the store now holds for the
 * key as a result of this call: the written one, or the newer one that caused the write to be ignored.
 */
export interface WriteResult {
  readonly applied: boolean;
  readonly version: string;
}

/**
 * One write of {@link Store.apply}. Without `version` the store assigns one (see `docs/formats/wal.md`). A set with
 * `expiresAt` (ms since the epoch) is logged as a `SET_EXPIRING` record.
 */
export type StoreOp =
  | { readonly op: 'set'; readonly key: string; readonly value: string; readonly version?: string; readonly expiresAt?: number }
  | { readonly op: 'delete'; readonly key: string; readonly version?: string };

/** Creates an entry; `value` null makes a tombstone (whose `expiresAt` is always undefined). */
export function makeEntry(key: string, value: string | null, version: string, expiresAt?: number): Entry {
  return { key, value, version, tombstone: value === null, expiresAt: value === null ? undefined : expiresAt };
}

/**
 * Whether a tombstone at `version` may replace `held` although the versions are equal: only as the conversion of an
 * expiring value into a tombstone at its own version (`Store.expire`, and the replay of its `DELETE` record).
 */
export function isExpiryOf(version: string, held: Entry | undefined): boolean {
  return held !== undefined && held.value !== null && held.expiresAt !== undefined && held.version === version;
}

/**
 * The apply rule of a versioned store: a write at `version` replaces what is held only when `version` is greater (as a
 * string) than the version held, tombstones included; nothing held accepts any version. Every store of kv applies
 * writes through this one function (the durable store here, and the in-memory replicas that tests use), so resending a
 * write, in any order, is always safe.
 */
export function supersedes(version: string, held: string | undefined): boolean {
  return held === undefined || version > held;
}
