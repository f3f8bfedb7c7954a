/**
 * Where the coordinator keeps the little durable state it has (the clock floor, what it knows of each data node):
 * named records, each replaced as a whole.
 *
 * Contract:
 * - {@link StableStore.write} is atomic and durable: once it resolves, a crash or power loss leaves the new content;
 *   if it rejects or the process dies while it runs, the record holds either the old or the new content, never a mix.
 * - Writes of one record are not ordered among themselves when concurrent: callers serialize their own writes.
 * - Either method rejects on an I/O failure (a full or failing disk); the record is then unchanged or replaced, as above.
 */
export interface StableStore {
  /** The content of record `name`, or `undefined` when it was never written. */
  read(name: string): Promise<string | undefined>;
  /** Replaces record `name` with `content`, atomically and durably. */
  write(name: string, content: string): Promise<void>;
}

/** Record names: short, safe as file names on every platform. */
const RECORD_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** @throws TypeError unless `name` is 1..64 of `[a-z0-9._-]`, starting with a letter or digit. */
export function checkRecordName(name: string): string {
  if (typeof name !== 'string' || !RECORD_NAME_PATTERN.test(name)) {
    throw new TypeError(`a record name must be 1..64 of [a-z0-9._-], got ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * A {@link StableStore} in memory, the twin of the file store for tests: records survive as long as the object, and
 * writes can be made to fail (a full disk) to test that callers degrade instead of losing safety.
 */
export class MemoryStableStore implements StableStore {
  private readonly records = new Map<string, string>();
  /** When true (or when it returns true for a record), writes reject with an `ENOSPC`-like error and change nothing. */
  failWrites: boolean | ((name: string) => boolean) = false;
  /** Writes that completed, for tests that count them. */
  writes = 0;

  async read(name: string): Promise<string | undefined> {
    return this.records.get(checkRecordName(name));
  }

  async write(name: string, content: string): Promise<void> {
    checkRecordName(name);
    if (typeof content !== 'string') throw new TypeError('content must be a string');
    const fail = typeof this.failWrites === 'function' ? this.failWrites(name) : this.failWrites;
    if (fail) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${name}'`), { code: 'ENOSPC' });
    this.records.set(name, content);
    this.writes += 1;
  }

  /** Removes a record, as losing the file would. */
  forget(name: string): void {
    this.records.delete(name);
  }
}
