import type { FileSystem } from './file-system';
import { FILE_HEADER_BYTES } from './format';
import { NodeFileSystem } from './node-file-system';
import type { WalError } from './wal-error';

/**
 * When an append counts as durable:
 * `always` after an fdatasync covering it (group-committed); survives power loss.
 * `interval` after its write reached the operating system; an fdatasync runs every `syncIntervalMs`, so a power
 * loss may drop up to that much acknowledged data, a process crash none.
 * `none` after its write reached the operating system; never fsynced except when a segment is sealed and on close.
 */
export type SyncPolicy = 'always' | 'interval' | 'none';

/** What one fdatasync of the log covered, for metrics (sync latency, batch size). */
export interface SyncInfo {
  /** Records made durable by this sync. */
  readonly records: number;
  /** Bytes made durable by this sync. */
  readonly bytes: number;
  /** Time of the write and the sync (policy `always`) or of the sync alone, in milliseconds. */
  readonly durationMs: number;
}

/** Where the log reports noteworthy events. Compatible with winston and pino loggers. */
export interface WalLogger {
  warn(message: string, meta?: object): void;
  info(message: string, meta?: object): void;
}

/** Options of {@link Wal.open}; every field is optional. */
export interface WalOptions {
  /** When an append counts as durable (default `always`). */
  sync?: SyncPolicy;
  /** Period of the fdatasync for policy `interval`, in ms (default {@link SYNC_INTERVAL_MS_DEFAULT}). */
  syncIntervalMs?: number;
  /** Move to a new segment once the current one reaches this size (default {@link SEGMENT_BYTES_MAX_DEFAULT}). */
  segmentBytesMax?: number;
  /**
   * Bytes that may wait for their write and sync; an append that would go beyond is refused with `WAL_OVERLOADED`,
   * unless nothing is waiting (so one large batch always gets through). Default {@link QUEUE_BYTES_MAX_DEFAULT}.
   */
  queueBytesMax?: number;
  /** Bytes written by one group commit at most (default {@link GROUP_COMMIT_BYTES_MAX_DEFAULT}). */
  groupCommitBytesMax?: number;
  /** The file layer (default: the real disk, {@link NodeFileSystem}). */
  fs?: FileSystem;
  /**
   * Called once when a write or fsync of the log fails. The default prints one line to stderr and exits the process
   * with code 1: after a failed fsync the page cache may have dropped the data, so the only safe reaction is to stop
   * and recover from the log. Never retried. Exceptions thrown by it are ignored.
   */
  onFatal?: (error: WalError) => void;
  /** Called after every fdatasync of the log, for metrics. Exceptions thrown by it are logged and ignored. */
  onSync?: (info: SyncInfo) => void;
  /** Where torn tails and other noteworthy events are reported (default {@link defaultLogger}). */
  logger?: WalLogger;
}

/** Default period of the `interval` policy's fsync: bounds the loss on power failure to about a second. */
export const SYNC_INTERVAL_MS_DEFAULT = 1000;
/** Default segment size: one segment replays in well under a second, and a large log is still few files. */
export const SEGMENT_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** Default bound on bytes waiting for their sync: a few seconds of writes at disk speed, bounded memory. */
export const QUEUE_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** Default bound on one group commit: larger writes save no system calls and delay the first writer's ack. */
export const GROUP_COMMIT_BYTES_MAX_DEFAULT = 8 * 1024 * 1024;
/** Smallest accepted `segmentBytesMax`: a header and a few records (tests use tiny segments). */
export const SEGMENT_BYTES_MIN = FILE_HEADER_BYTES + 64;

/**
 * The default logger: warnings (a torn tail cut off, an ignored snapshot, a failed compaction) go to stderr through
 * `console.warn` as one line each; information is dropped.
 */
export const defaultLogger: WalLogger = {
  warn(message: string, meta?: object): void {
    console.warn(`@kv/wal: ${message}${meta === undefined ? '' : ` ${JSON.stringify(meta)}`}`);
  },
  info(): void {
    // Silent: the store reports everything worth an operator's attention as a warning.
  },
};

/** The default fatal handler: one line on stderr, then exit code 1. */
export function exitOnFatal(error: WalError): void {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  process.stderr.write(`@kv/wal: fatal ${error.code}: ${`${error.message}${cause}`.replace(/\s+/g, ' ')}\n`);
  process.exit(1);
}

/** {@link WalOptions} with every default filled in. */
export type ResolvedWalOptions = Required<WalOptions>;

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new TypeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/**
 * Fills in defaults and checks option values.
 * @throws TypeError on an invalid value.
 */
export function resolveWalOptions(options: WalOptions = {}): ResolvedWalOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const sync = options.sync ?? 'always';
  if (sync !== 'always' && sync !== 'interval' && sync !== 'none') {
    throw new TypeError(`sync must be 'always', 'interval' or 'none', got ${String(sync)}`);
  }
  for (const name of ['onFatal', 'onSync'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`${name} must be a function`);
  }
  return {
    sync,
    syncIntervalMs: positiveInteger('syncIntervalMs', options.syncIntervalMs, SYNC_INTERVAL_MS_DEFAULT),
    segmentBytesMax: positiveInteger('segmentBytesMax', options.segmentBytesMax, SEGMENT_BYTES_MAX_DEFAULT, SEGMENT_BYTES_MIN),
    queueBytesMax: positiveInteger('queueBytesMax', options.queueBytesMax, QUEUE_BYTES_MAX_DEFAULT),
    groupCommitBytesMax: positiveInteger('groupCommitBytesMax', options.groupCommitBytesMax, GROUP_COMMIT_BYTES_MAX_DEFAULT),
    fs: options.fs ?? new NodeFileSystem(),
    onFatal: options.onFatal ?? exitOnFatal,
    onSync: options.onSync ?? (() => undefined),
    logger: options.logger ?? defaultLogger,
  };
}
