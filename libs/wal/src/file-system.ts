/**
 * How a file is opened, with the meaning of the same `node:fs` flags:
 * `r` read only, must exist; `r+` read and write, must exist; `w` write only, created or truncated;
 * `wx` write only, created, fails with `EEXIST` if it exists.
 */
export type OpenMode = 'r' | 'r+' | 'w' | 'wx';

/**
 * An open file. Calls on one handle may be issued concurrently only where stated; the log issues them one at a time.
 *
 * Crash rules (what an implementation must model): bytes written are durable only once a later `datasync` or `sync`
 * of the same file has resolved; until then a power loss may keep any prefix of them (a torn write). A resolved
 * `datasync`/`sync` makes every earlier write and truncation of the file durable, including its size.
 */
export interface FileHandle {
  /**
   * Reads up to `length` bytes at `position` into `buffer` at `offset`; resolves with the number read (0 at the end).
   * May be called concurrently with writes to other regions.
   */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Writes all of `buffer` at `position`, or rejects (a short write is retried until done). */
  write(buffer: Uint8Array, position: number): Promise<void>;
  /** Writes all `buffers`, one after the other, at `position` in one call where the platform allows, or rejects. */
  writev(buffers: readonly Uint8Array[], position: number): Promise<void>;
  /** fdatasync(2): makes the file's data and size durable. Rejects on an I/O error, which the caller must treat as fatal. */
  datasync(): Promise<void>;
  /** fsync(2): like {@link FileHandle.datasync}, plus all metadata. */
  sync(): Promise<void>;
  /** Sets the file's length (not durable until the next sync). */
  truncate(length: number): Promise<void>;
  /** The file's current length in bytes. */
  size(): Promise<number>;
  /** Releases the handle; it must not be used afterwards. Does not sync. */
  close(): Promise<void>;
}

/**
 * The file layer under the log. The default is {@link NodeFileSystem} (the real disk); {@link PowerLossFileSystem}
 * is an in-memory twin that models what survives a power loss and injects failures.
 *
 * Crash rules: a created, renamed or removed directory entry is durable only after {@link FileSystem.syncDir} of its
 * directory has resolved; before that a power loss may undo it (a new file disappears, a rename reverts, a removed
 * file comes back). Paths are absolute or relative to the process's working directory, as with `node:fs`.
 * Errors are the platform's (`code` such as `ENOENT`, `EEXIST`, `EIO`); the log wraps them in `WalError`s.
 */
export interface FileSystem {
  /** Creates the directory and its missing parents; no error if it exists. */
  mkdir(dir: string): Promise<void>;
  /** Names (not paths) of the entries of a directory, in no particular order. */
  readdir(dir: string): Promise<string[]>;
  /** Opens a file, see {@link OpenMode}. */
  open(path: string, mode: OpenMode): Promise<FileHandle>;
  /** Atomically replaces `to` with `from` (rename(2)); durable after `syncDir` of the directory. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; durable after `syncDir` of its directory. */
  unlink(path: string): Promise<void>;
  /** fsync(2) of a directory: makes its entries (creations, renames, removals) durable. */
  syncDir(dir: string): Promise<void>;
}
