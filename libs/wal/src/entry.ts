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
}

/** A live (not deleted) value and its version. */
export interface StoredValue {
  readonly value: string;
  readonly version: string;
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

/** One write of {@link Store.apply}. Without `version` the store assigns one (see `docs/formats/wal.md`). */
export type StoreOp =
  | { readonly op: 'set'; readonly key: string; readonly value: string; readonly version?: string }
  | { readonly op: 'delete'; readonly key: string; readonly version?: string };

/** Creates an entry; `value` null makes a tombstone. */
export function makeEntry(key: string, value: string | null, version: string): Entry {
  return { key, value, version, tombstone: value === null };
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
