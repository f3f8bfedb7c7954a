/**
 * Stable codes of the operational errors of `@kv/wal`. Callers match on `error.code`, never on the message.
 */
export const WalErrorCode = {
  /** A segment or snapshot is damaged somewhere a crash cannot explain; `file` and `offset` say where. */
  Corrupt: 'WAL_CORRUPT',
  /** A file was written by another format version (or with unknown flags); nothing was changed. */
  UnsupportedFormat: 'WAL_UNSUPPORTED_FORMAT',
  /** The store or log was closed (or is closing); the call did nothing. */
  Closed: 'WAL_CLOSED',
  /** An fsync/fdatasync of the log failed. Fatal: the writes it covered were never acknowledged. */
  FsyncFailed: 'WAL_FSYNC_FAILED',
  /** A write to the log, or the creation of a segment, failed. Fatal, like {@link WalErrorCode.FsyncFailed}. */
  WriteFailed: 'WAL_WRITE_FAILED',
  /** An earlier fatal error stopped the log; no write is accepted any more. `cause` is that error. */
  Failed: 'WAL_FAILED',
  /** Too many bytes are waiting for their sync (`queueBytesMax`); shed load and retry later. Nothing was logged. */
  Overloaded: 'WAL_OVERLOADED',
  /** The store holds a version that no store-assigned version can follow (see `docs/formats/wal.md`). */
  VersionSpace: 'WAL_VERSION_SPACE',
  /** A snapshot could not be written. The log is intact; compaction is retried later. */
  CompactionFailed: 'WAL_COMPACTION_FAILED',
  /** Reading the directory or a file failed while opening. */
  Io: 'WAL_IO',
} as const;

/** One of the `WAL_*` codes of {@link WalErrorCode}. */
export type WalErrorCode = (typeof WalErrorCode)[keyof typeof WalErrorCode];

/** Where a {@link WalError} happened, when it concerns a place in a file. */
export interface WalErrorLocation {
  /** File name, relative to the store's directory. */
  readonly file?: string;
  /** Byte offset in that file. */
  readonly offset?: number;
}

/**
 * An operational failure of the log or the store, with a stable {@link WalErrorCode} and the underlying `cause`.
 * Programmer mistakes (bad arguments, use of a closed handle's internals) are `TypeError`s instead.
 */
export class WalError extends Error {
  override readonly name = 'WalError';
  /** Stable code to match on. */
  readonly code: WalErrorCode;
  /** File concerned (relative to the directory), if any. */
  readonly file: string | undefined;
  /** Byte offset in {@link WalError.file}, if any. */
  readonly offset: number | undefined;

  constructor(code: WalErrorCode, message: string, options: { cause?: unknown } & WalErrorLocation = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.offset = options.offset;
  }
}

/** True when `error` is a {@link WalError}, optionally with the given code. */
export function isWalError(error: unknown, code?: WalErrorCode): error is WalError {
  return error instanceof WalError && (code === undefined || error.code === code);
}
