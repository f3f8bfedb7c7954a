/**
 * `@kv/wal`: the durable store of kv's data nodes: a write-ahead log with group commit, snapshots, crash recovery and
 * an in-memory map of versioned entries. Also usable on its own (the lower layer {@link Wal}) and by other services.
 * See the README and `docs/formats/wal.md`.
 */
export { openStore, Store, type StoreStats } from './store';
export {
  COMPACTION_BYTES_MIN_DEFAULT,
  COMPACTION_FACTOR_DEFAULT,
  type StoreOptions,
} from './store-options';
export { supersedes } from './entry';
export type { Entry, StoreOp, StoredValue, WriteResult } from './entry';
export type { RecoveryReport } from './recovery-report';
export {
  Wal,
  type RecordVisitor,
  type SegmentInfo,
  type TornTail,
  type WalOpenOptions,
  type WalRecovery,
  type WalStats,
} from './wal';
export {
  GROUP_COMMIT_BYTES_MAX_DEFAULT,
  QUEUE_BYTES_MAX_DEFAULT,
  SEGMENT_BYTES_MAX_DEFAULT,
  SEGMENT_BYTES_MIN,
  SYNC_INTERVAL_MS_DEFAULT,
  defaultLogger,
  exitOnFatal,
  type SyncInfo,
  type SyncPolicy,
  type WalLogger,
  type WalOptions,
} from './wal-options';
export type { WalRecord, WalRecordOp } from './record-codec';
export { WalError, WalErrorCode, isWalError, type WalErrorLocation } from './wal-error';
export type { FileHandle, FileSystem, OpenMode } from './file-system';
export { NodeFileSystem } from './node-file-system';
export { FaultFileSystem, diskFaultError, triggerFileFault, type DiskFault } from './fault-file-system';
export {
  PowerLossFileSystem,
  type FileSystemOp,
  type PowerLossFileSystemOptions,
  type UnsyncedPolicy,
} from './power-loss-file-system';
export { FORMAT_VERSION, RECORD_KEY_BYTES_MAX, RECORD_BYTES_MAX, VALUE_BYTES_MAX, VERSION_BYTES_MAX } from './format';
export { VERSION_SUFFIX_DEFAULT } from './version-clock';
