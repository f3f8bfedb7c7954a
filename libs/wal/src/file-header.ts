import {
  FILE_HEADER_BYTES,
  FORMAT_VERSION,
  HEADER_CRC_OFFSET,
  HEADER_FLAGS_OFFSET,
  HEADER_SEQUENCE_OFFSET,
  HEADER_VERSION_OFFSET,
  MAGIC_BYTES,
} from './format';
import { crc32 } from './record-codec';

/** The 32-byte header of a segment (`magic` {@link SEGMENT_MAGIC}) or snapshot (`magic` {@link SNAPSHOT_MAGIC}). */
export function encodeFileHeader(magic: string, sequence: number): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  header.write(magic, 0, MAGIC_BYTES, 'latin1');
  header.writeUInt16LE(FORMAT_VERSION, HEADER_VERSION_OFFSET);
  header.writeUInt16LE(0, HEADER_FLAGS_OFFSET);
  header.writeBigUInt64LE(BigInt(sequence), HEADER_SEQUENCE_OFFSET);
  header.writeUInt32LE(crc32(header, 0, HEADER_CRC_OFFSET), HEADER_CRC_OFFSET);
  return header;
}

/**
 * What a file header says: `ok`; `torn` (too short, or its CRC fails: a header never finished);
 * `unsupported` (a valid header of another format version, or with unknown flags); `mismatch` (a valid header of
 * another kind of file or another sequence number).
 */
export type FileHeaderCheck =
  | { readonly status: 'ok' }
  | { readonly status: 'torn' | 'unsupported' | 'mismatch'; readonly reason: string };

/** Checks `bytes` (the start of a file, possibly shorter than a header) against the expected magic and sequence. */
export function checkFileHeader(bytes: Buffer, magic: string, sequence: number): FileHeaderCheck {
  if (bytes.length < FILE_HEADER_BYTES) {
    return { status: 'torn', reason: `file is ${bytes.length} bytes, shorter than its ${FILE_HEADER_BYTES}-byte header` };
  }
  if (crc32(bytes, 0, HEADER_CRC_OFFSET) !== bytes.readUInt32LE(HEADER_CRC_OFFSET)) {
    return { status: 'torn', reason: 'header CRC mismatch' };
  }
  const found = bytes.toString('latin1', 0, MAGIC_BYTES);
  if (found !== magic) return { status: 'mismatch', reason: `magic is ${JSON.stringify(found)}, expected ${magic}` };
  const version = bytes.readUInt16LE(HEADER_VERSION_OFFSET);
  const flags = bytes.readUInt16LE(HEADER_FLAGS_OFFSET);
  if (version !== FORMAT_VERSION || flags !== 0) {
    return { status: 'unsupported', reason: `format version ${version} flags ${flags}, this reader knows version ${FORMAT_VERSION} flags 0` };
  }
  const stored = bytes.readBigUInt64LE(HEADER_SEQUENCE_OFFSET);
  if (stored !== BigInt(sequence)) {
    return { status: 'mismatch', reason: `header sequence ${stored} does not match the file name's ${sequence}` };
  }
  return { status: 'ok' };
}
