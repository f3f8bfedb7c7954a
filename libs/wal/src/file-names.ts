import { SEGMENT_SUFFIX, SEQUENCE_DIGITS, SNAPSHOT_PREFIX, SNAPSHOT_SUFFIX, TEMP_SUFFIX } from './format';

/** Largest sequence number: it must fit a JavaScript number exactly. */
export const SEQUENCE_MAX = Number.MAX_SAFE_INTEGER;

function pad(sequence: number): string {
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > SEQUENCE_MAX) {
    throw new TypeError(`sequence must be an integer in [1, ${SEQUENCE_MAX}], got ${sequence}`);
  }
  return String(sequence).padStart(SEQUENCE_DIGITS, '0');
}

/** File name of segment `sequence`, e.g. `00000000000000000001.wal`. @throws TypeError on a bad sequence. */
export function segmentFileName(sequence: number): string {
  return pad(sequence) + SEGMENT_SUFFIX;
}

/** File name of the snapshot covering segments <= `sequence`. @throws TypeError on a bad sequence. */
export function snapshotFileName(sequence: number): string {
  return SNAPSHOT_PREFIX + pad(sequence) + SNAPSHOT_SUFFIX;
}

/** File name of a snapshot while it is being written. @throws TypeError on a bad sequence. */
export function snapshotTempFileName(sequence: number): string {
  return snapshotFileName(sequence) + TEMP_SUFFIX;
}

const SEGMENT_NAME = new RegExp(`^(\\d{${SEQUENCE_DIGITS}})${escapeRegExp(SEGMENT_SUFFIX)}$`);
const SNAPSHOT_NAME = new RegExp(`^${escapeRegExp(SNAPSHOT_PREFIX)}(\\d{${SEQUENCE_DIGITS}})${escapeRegExp(SNAPSHOT_SUFFIX)}$`);
const SNAPSHOT_TEMP_NAME = new RegExp(
  `^${escapeRegExp(SNAPSHOT_PREFIX)}\\d{${SEQUENCE_DIGITS}}${escapeRegExp(SNAPSHOT_SUFFIX)}${escapeRegExp(TEMP_SUFFIX)}$`,
);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sequenceOf(pattern: RegExp, name: string): number | undefined {
  const match = pattern.exec(name);
  if (match === null) return undefined;
  const sequence = Number(match[1]);
  return sequence >= 1 && sequence <= SEQUENCE_MAX ? sequence : undefined;
}

/** The sequence number of a segment file name, or undefined if `name` is not one. */
export function parseSegmentFileName(name: string): number | undefined {
  return sequenceOf(SEGMENT_NAME, name);
}

/** The sequence number of a snapshot file name, or undefined if `name` is not one. */
export function parseSnapshotFileName(name: string): number | undefined {
  return sequenceOf(SNAPSHOT_NAME, name);
}

/** True if `name` is a snapshot being written (left over by a crash). */
export function isSnapshotTempFileName(name: string): boolean {
  return SNAPSHOT_TEMP_NAME.test(name);
}
