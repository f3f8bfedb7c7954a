import { isExpiryOf, makeEntry, supersedes, type Entry } from './entry';
import { EXPIRES_AT_BYTES, FRAME_HEADER_BYTES, PAYLOAD_PREFIX_BYTES, VALUE_LENGTH_BYTES } from './format';

const FIXED_BYTES = FRAME_HEADER_BYTES + PAYLOAD_PREFIX_BYTES;
const VALUE_FIXED_BYTES = VALUE_LENGTH_BYTES;

/**
 * About the bytes an entry takes in a snapshot, from string lengths: exact for ASCII, an underestimate for other
 * text. Cheap enough to keep per write; compaction only needs the order of magnitude of the live data.
 */
export function entryFrameBytes(entry: Entry): number {
  return (
    FIXED_BYTES +
    entry.key.length +
    entry.version.length +
    (entry.value === null ? 0 : VALUE_FIXED_BYTES + entry.value.length) +
    (entry.expiresAt === undefined ? 0 : EXPIRES_AT_BYTES)
  );
}

/**
 * The in-memory map of versioned entries with the store's rules: a write replaces an entry only with a greater
 * version; a purge removes an entry whose version is <= its own. Iteration order is the order in which keys first
 * got an entry (JavaScript `Map` order), which replaying the log or a snapshot reproduces exactly.
 *
 * Not concurrency-aware: the store decides what to apply; this only applies it.
 */
export class EntryTable {
  /** Key to entry, tombstones included. */
  readonly map = new Map<string, Entry>();
  /** Entries that are not tombstones. */
  liveCount = 0;
  /** Sum of {@link entryFrameBytes} of all entries: about the size of a snapshot. */
  bytes = 0;

  /**
   * Adds an entry for a key that has none (loading a snapshot). Returns false if the key had one already: the table
   * is then wrong and must be discarded (one hash lookup instead of two, for the common case).
   */
  add(entry: Entry): boolean {
    const size = this.map.size;
    this.map.set(entry.key, entry);
    if (this.map.size === size) return false;
    if (entry.value !== null) this.liveCount++;
    this.bytes += entryFrameBytes(entry);
    return true;
  }

  /** Puts `entry` if its version is greater than the one held (or none is). Returns whether it did. */
  put(entry: Entry): boolean {
    const old = this.map.get(entry.key);
    if (old !== undefined) {
      if (!supersedes(entry.version, old.version)) return false;
      if (old.value !== null) this.liveCount--;
      this.bytes -= entryFrameBytes(old);
    }
    this.map.set(entry.key, entry);
    if (entry.value !== null) this.liveCount++;
    this.bytes += entryFrameBytes(entry);
    return true;
  }

  /**
   * Replaces the expiring value of `key` at exactly `version` with a tombstone at that version (see `Store.expire`).
   * Returns whether it did.
   */
  expire(key: string, version: string): boolean {
    const old = this.map.get(key);
    if (!isExpiryOf(version, old)) return false;
    const entry = makeEntry(key, null, version);
    this.liveCount--;
    this.bytes += entryFrameBytes(entry) - entryFrameBytes(old as Entry);
    this.map.set(key, entry);
    return true;
  }

  /** Removes the entry of `key` if its version is <= `version`. Returns whether it did. */
  purge(key: string, version: string): boolean {
    const old = this.map.get(key);
    if (old === undefined || old.version > version) return false;
    this.map.delete(key);
    if (old.value !== null) this.liveCount--;
    this.bytes -= entryFrameBytes(old);
    return true;
  }
}
