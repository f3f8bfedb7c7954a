import CRC32 from 'crc-32';
import {
  FRAME_HEADER_BYTES,
  RECORD_KEY_BYTES_MAX,
  OP_DELETE,
  OP_PURGE,
  OP_SET,
  OP_SET_EXPIRING,
  OP_SNAPSHOT_END,
  OP_SNAPSHOT_META,
  PAYLOAD_PREFIX_BYTES,
  RECORD_BYTES_MAX,
  SNAPSHOT_END_BYTES,
  VALUE_BYTES_MAX,
  VALUE_LENGTH_BYTES,
  VERSION_BYTES_MAX,
  EXPIRES_AT_BYTES,
  EXPIRES_AT_MAX,
} from './format';

/**
 * One record of the log. `set` writes a value (a `SET_EXPIRING` record with `expiresAt`), `delete` a tombstone,
 * `purge` forgets the key's entry entirely if its version is <= `version` (see `docs/formats/wal.md`).
 */
export type WalRecord =
  | { readonly op: 'set'; readonly key: string; readonly version: string; readonly value: string; readonly expiresAt?: number }
  | { readonly op: 'delete'; readonly key: string; readonly version: string }
  | { readonly op: 'purge'; readonly key: string; readonly version: string };

/** The operation of a {@link WalRecord}. */
export type WalRecordOp = WalRecord['op'];

// Module-local copies of the format constants used per record: some module loaders (tsx, esbuild's CommonJS output)
// turn imported bindings into getter calls, which cost a measurable share of a replay or of a burst of writes.
const SET = OP_SET;
const SET_EXPIRING = OP_SET_EXPIRING;
const EXPIRES_BYTES = EXPIRES_AT_BYTES;
const TWO_32 = 2 ** 32;
const DELETE = OP_DELETE;
const PURGE = OP_PURGE;
const META = OP_SNAPSHOT_META;
const END = OP_SNAPSHOT_END;
const KEY_MAX = RECORD_KEY_BYTES_MAX;
const VERSION_MAX = VERSION_BYTES_MAX;
const VALUE_MAX = VALUE_BYTES_MAX;
const RECORD_MAX = RECORD_BYTES_MAX;
const HEADER_BYTES = FRAME_HEADER_BYTES;
const PREFIX_BYTES = PAYLOAD_PREFIX_BYTES;
const VALUE_LENGTH = VALUE_LENGTH_BYTES;
const END_BYTES = SNAPSHOT_END_BYTES;

interface NodeBufferInternals {
  utf8Slice?(start: number, end: number): string;
  utf8Write?(text: string, offset: number, length: number): number;
}
const nativeUtf8Slice = (Buffer.prototype as NodeBufferInternals).utf8Slice;
const nativeUtf8Write = (Buffer.prototype as NodeBufferInternals).utf8Write;

// Node's own utf8Slice/utf8Write where they exist: `toString`/`write` add argument handling that costs about a tenth
// of a replay or of encoding a burst of writes. Both fall back to the public methods.
function utf8(source: Buffer, start: number, end: number): string {
  return nativeUtf8Slice !== undefined ? nativeUtf8Slice.call(source, start, end) : source.toString('utf8', start, end);
}

function writeUtf8(target: Buffer, text: string, offset: number, length: number): number {
  return nativeUtf8Write !== undefined ? nativeUtf8Write.call(target, text, offset, length) : target.write(text, offset, length, 'utf8');
}

/** Unsigned CRC32 of `bytes[start, end)`. */
export function crc32(bytes: Buffer, start = 0, end = bytes.length): number {
  return CRC32.buf(bytes.subarray(start, end)) >>> 0;
}

function opCode(op: WalRecordOp): number {
  return op === 'set' ? SET : op === 'delete' ? DELETE : PURGE;
}

/**
 * UTF-8 size of a key, checked against {@link RECORD_KEY_BYTES_MAX}.
 * @throws TypeError if too long.
 */
export function keyBytes(key: string): number {
  // A UTF-8 byte count is at least the UTF-16 length, so a long string fails without being measured.
  const bytes = key.length > KEY_MAX ? KEY_MAX + 1 : Buffer.byteLength(key, 'utf8');
  if (bytes > KEY_MAX) throw new TypeError(`key is over ${KEY_MAX} bytes`);
  return bytes;
}

/**
 * UTF-8 size of a version, checked against {@link VERSION_BYTES_MAX}.
 * @throws TypeError if too long.
 */
export function versionBytes(version: string): number {
  const bytes = version.length > VERSION_MAX ? VERSION_MAX + 1 : Buffer.byteLength(version, 'utf8');
  if (bytes > VERSION_MAX) throw new TypeError(`version is over ${VERSION_MAX} bytes`);
  return bytes;
}

/**
 * UTF-8 size of a value, checked against {@link VALUE_BYTES_MAX}.
 * @throws TypeError if too long.
 */
export function valueBytes(value: string): number {
  const bytes = value.length > VALUE_MAX ? VALUE_MAX + 1 : Buffer.byteLength(value, 'utf8');
  if (bytes > VALUE_MAX) throw new TypeError(`value is over ${VALUE_MAX} bytes`);
  return bytes;
}

/**
 * Checks an expiry time: an integer number of ms since the epoch, 0 to {@link EXPIRES_AT_MAX}.
 * @throws TypeError otherwise.
 */
export function checkExpiresAt(expiresAt: unknown): asserts expiresAt is number {
  if (typeof expiresAt !== 'number' || !Number.isInteger(expiresAt) || expiresAt < 0 || expiresAt > EXPIRES_AT_MAX) {
    throw new TypeError(`expiresAt must be an integer from 0 to ${EXPIRES_AT_MAX} (ms since the epoch), got ${String(expiresAt)}`);
  }
}

/**
 * Bytes of the frame of an entry record (`valueLength` -1 for a record without a value; `expiring` for a
 * `SET_EXPIRING`).
 */
export function frameBytes(keyLength: number, versionLength: number, valueLength: number, expiring = false): number {
  const payload =
    PREFIX_BYTES + keyLength + versionLength + (valueLength < 0 ? 0 : VALUE_LENGTH + valueLength) + (expiring ? EXPIRES_BYTES : 0);
  return HEADER_BYTES + payload;
}

/**
 * Writes one framed entry record (`SET` when `value` is a string, `SET_EXPIRING` when it is and `expiresAt` is not
 * undefined, else `op`) at `offset`; the sizes must be the UTF-8 sizes of the strings (from {@link keyBytes} and
 * friends). Returns the offset after the frame.
 */
export function writeFrame(
  target: Buffer,
  offset: number,
  op: number,
  key: string,
  keyLength: number,
  version: string,
  versionLength: number,
  value: string | null,
  valueLength: number,
  expiresAt?: number,
): number {
  const payloadStart = offset + HEADER_BYTES;
  let at = payloadStart;
  const expiring = value !== null && expiresAt !== undefined;
  target[at++] = expiring ? SET_EXPIRING : op;
  target.writeUInt16LE(keyLength, at);
  at += 2;
  at += writeUtf8(target, key, at, keyLength);
  target[at++] = versionLength;
  at += writeUtf8(target, version, at, versionLength);
  if (value !== null) {
    target.writeUInt32LE(valueLength, at);
    at += VALUE_LENGTH;
    at += writeUtf8(target, value, at, valueLength);
    if (expiring) {
      target.writeUInt32LE(expiresAt % TWO_32, at);
      target.writeUInt32LE(Math.floor(expiresAt / TWO_32), at + 4);
      at += EXPIRES_BYTES;
    }
  }
  const payloadLength = at - payloadStart;
  // Checked when written, as when read: a mismatch here would be a bug in the size computation.
  if (payloadLength !== frameBytes(keyLength, versionLength, value === null ? -1 : valueLength, expiring) - HEADER_BYTES) {
    throw new Error(`record encoding mismatch for payload of ${payloadLength} bytes`);
  }
  target.writeUInt32LE(payloadLength, offset);
  target.writeUInt32LE(crc32(target, payloadStart, at), offset + 4);
  return at;
}

/**
 * Encodes records as consecutive frames in one buffer (one append, one write system call).
 *
 * @throws TypeError if a key, version or value is over its maximum.
 */
export function encodeRecords(records: readonly WalRecord[]): Buffer {
  const sizes = new Array<number>(records.length * 3);
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const k = keyBytes(record.key);
    const v = versionBytes(record.version);
    const value = record.op === 'set' ? valueBytes(record.value) : -1;
    const expiresAt = record.op === 'set' ? record.expiresAt : undefined;
    if (expiresAt !== undefined) checkExpiresAt(expiresAt);
    sizes[i * 3] = k;
    sizes[i * 3 + 1] = v;
    sizes[i * 3 + 2] = value;
    total += frameBytes(k, v, value, expiresAt !== undefined);
  }
  const target = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const value = record.op === 'set' ? record.value : null;
    const expiresAt = record.op === 'set' ? record.expiresAt : undefined;
    offset = writeFrame(target, offset, opCode(record.op), record.key, sizes[i * 3], record.version, sizes[i * 3 + 1], value, sizes[i * 3 + 2], expiresAt);
  }
  return target;
}

/** Encodes a snapshot's first record: the version floor. */
export function encodeSnapshotMeta(versionFloor: string): Buffer {
  const v = versionBytes(versionFloor);
  const target = Buffer.allocUnsafe(frameBytes(0, v, -1));
  writeFrame(target, 0, META, '', 0, versionFloor, v, null, -1);
  return target;
}

/** Encodes a snapshot's last record: the number of entry records before it. */
export function encodeSnapshotEnd(count: number): Buffer {
  const target = Buffer.allocUnsafe(HEADER_BYTES + END_BYTES);
  target.writeUInt32LE(END_BYTES, 0);
  target[HEADER_BYTES] = END;
  target.writeUInt32LE(count, HEADER_BYTES + 1);
  target.writeUInt32LE(crc32(target, HEADER_BYTES), 4);
  return target;
}

/**
 * A decoded payload, reused from record to record so that decoding allocates only the strings.
 * `value` is null for records without a value; `expiresAt` is set for `SET_EXPIRING` only (undefined otherwise);
 * `count` is set for `SNAPSHOT_END` only.
 */
export interface DecodedPayload {
  op: number;
  key: string;
  version: string;
  value: string | null;
  expiresAt: number | undefined;
  count: number;
}

/** A fresh {@link DecodedPayload} to pass to {@link decodePayload}. */
export function newDecodedPayload(): DecodedPayload {
  return { op: 0, key: '', version: '', value: null, expiresAt: undefined, count: 0 };
}

/**
 * Checks the layout of the payload `source[start, end)` and decodes it into `out`. Every length is checked against its
 * maximum and against the payload's end before anything is sliced.
 *
 * @returns false if the layout is invalid (unknown op, a length over its maximum or past the end, bytes left over);
 * `out` is then unspecified.
 */
export function decodePayload(source: Buffer, start: number, end: number, out: DecodedPayload): boolean {
  const length = end - start;
  if (length < 1 || length > RECORD_MAX) return false;
  const op = source[start];
  out.op = op;
  if (op === END) {
    if (length !== END_BYTES) return false;
    out.count = source.readUInt32LE(start + 1);
    return true;
  }
  if (op < SET || (op > META && op !== SET_EXPIRING) || length < PREFIX_BYTES) return false;
  let at = start + 1;
  const keyLength = source.readUInt16LE(at);
  at += 2;
  if (keyLength > KEY_MAX || at + keyLength + 1 > end) return false;
  if (op === META && keyLength !== 0) return false;
  const keyStart = at;
  at += keyLength;
  const versionLength = source[at++];
  if (versionLength > VERSION_MAX || at + versionLength > end) return false;
  const versionStart = at;
  at += versionLength;
  if (op === SET) {
    if (at + VALUE_LENGTH > end) return false;
    const valueLength = source.readUInt32LE(at);
    at += VALUE_LENGTH;
    if (valueLength > VALUE_MAX || at + valueLength !== end) return false;
    out.value = utf8(source, at, end);
    out.expiresAt = undefined;
  } else if (op === SET_EXPIRING) {
    if (at + VALUE_LENGTH > end) return false;
    const valueLength = source.readUInt32LE(at);
    at += VALUE_LENGTH;
    if (valueLength > VALUE_MAX || at + valueLength + EXPIRES_BYTES !== end) return false;
    const expiresAt = source.readUInt32LE(end - EXPIRES_BYTES) + source.readUInt32LE(end - 4) * TWO_32;
    if (expiresAt > EXPIRES_AT_MAX) return false;
    out.value = utf8(source, at, end - EXPIRES_BYTES);
    out.expiresAt = expiresAt;
  } else {
    if (at !== end) return false;
    out.value = null;
    out.expiresAt = undefined;
  }
  out.key = keyLength === 0 ? '' : utf8(source, keyStart, keyStart + keyLength);
  out.version = utf8(source, versionStart, versionStart + versionLength);
  return true;
}
