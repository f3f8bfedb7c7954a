import type { TornTail } from './wal';

/** What {@link openStore} found and did. */
export interface RecoveryReport {
  /** The snapshot loaded (the newest valid one), if any. */
  readonly snapshot: { readonly file: string; readonly sequence: number; readonly entries: number; readonly bytes: number } | null;
  /** Snapshots skipped because they were not valid, newest first. */
  readonly ignoredSnapshots: readonly { readonly file: string; readonly reason: string }[];
  /** Segments replayed after the snapshot. */
  readonly segmentsReplayed: number;
  /** Records replayed from those segments. */
  readonly records: number;
  /** Bytes of snapshot and segments read. */
  readonly bytes: number;
  /** The torn tail cut off the last segment, if any. */
  readonly tornTail: TornTail | null;
  /** Left-overs of an interrupted compaction that were removed (temporary snapshots, covered segments, older snapshots). */
  readonly removedFiles: readonly string[];
  /** Time spent opening, in ms. */
  readonly durationMs: number;
}
