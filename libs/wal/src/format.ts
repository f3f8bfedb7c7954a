/**
 * Constants of the on-disk format (`docs/formats/wal.md`), shared by every reader and writer of segments and
 * snapshots. Changing any value here changes the format: bump {@link FORMAT_VERSION} with it.
 */

/** Version of the file format written in every file header; readers reject other versions. */
export const FORMAT_VERSION = 1;

/** First 8 bytes of a segment file (ASCII). */
export const SEGMENT_MAGIC = 'KVWALSEG';
/** First 8 bytes of a snapshot file (ASCII). */
export const SNAPSHOT_MAGIC = 'KVWALSNP';
/** Bytes of the magic at the start of a file header. */
export const MAGIC_BYTES = 8;

/** Bytes of the header at the start of every segment and snapshot. */
export const FILE_HEADER_BYTES = 32;
/** Offset of the u16 format version in a file header. */
export const HEADER_VERSION_OFFSET = 8;
/** Offset of the u16 flags in a file header. */
export const HEADER_FLAGS_OFFSET = 10;
/** Offset of the u64 sequence number in a file header. */
export const HEADER_SEQUENCE_OFFSET = 12;
/** Offset of the CRC32 of bytes `0 .. HEADER_CRC_OFFSET - 1` in a file header. */
export const HEADER_CRC_OFFSET = 28;

/** Bytes before each payload: u32 length, u32 CRC32 of the payload. */
export const FRAME_HEADER_BYTES = 8;

/** Operation byte: write a value. */
export const OP_SET = 1;
/** Operation byte: write a tombstone. */
export const OP_DELETE = 2;
/** Operation byte: forget a key's entry entirely if its version is <= the record's version. */
export const OP_PURGE = 3;
/** Operation byte (snapshots only, first record): the version floor. */
export const OP_SNAPSHOT_META = 4;
/** Operation byte (snapshots only, last record): the count of entry records. */
export const OP_SNAPSHOT_END = 5;
/** Operation byte: write a value that expires (a `SET` followed by its expiry time). */
export const OP_SET_EXPIRING = 6;

/** Largest key in UTF-8 bytes: 4x the API's 1024-byte key limit, leaving room for consumers that prefix keys. */
export const RECORD_KEY_BYTES_MAX = 4096;
/** Largest version in UTF-8 bytes: hybrid-clock versions are ~30-60 bytes; this leaves room for long issuer ids. */
export const VERSION_BYTES_MAX = 128;
/** Largest value in UTF-8 bytes: above any request-body limit of the apps, small enough to read in one piece. */
export const VALUE_BYTES_MAX = 16 * 1024 * 1024;

/** Bytes of the op byte, u16 key length and u8 version length, present in every payload but `SNAPSHOT_END`. */
export const PAYLOAD_PREFIX_BYTES = 1 + 2 + 1;
/** Bytes of the u32 value length of a `SET`. */
export const VALUE_LENGTH_BYTES = 4;
/** Bytes of the expiry time of a `SET_EXPIRING`: u64 ms since the epoch, little-endian. */
export const EXPIRES_AT_BYTES = 8;
/** Largest expiry time a record holds: the largest integer a JavaScript number represents exactly. */
export const EXPIRES_AT_MAX = Number.MAX_SAFE_INTEGER;
/** Bytes of a `SNAPSHOT_END` payload: op byte and u32 count. */
export const SNAPSHOT_END_BYTES = 1 + 4;
/** Smallest valid payload: a `SNAPSHOT_META` with an empty version floor. A zero-filled frame is below it. */
export const PAYLOAD_BYTES_MIN = PAYLOAD_PREFIX_BYTES;
/** Largest valid payload: a `SET_EXPIRING` with the largest key, version and value. */
export const RECORD_BYTES_MAX =
  PAYLOAD_PREFIX_BYTES + RECORD_KEY_BYTES_MAX + VERSION_BYTES_MAX + VALUE_LENGTH_BYTES + VALUE_BYTES_MAX + EXPIRES_AT_BYTES;

/** Digits of the zero-padded sequence number in file names, so lexical order is numeric order. */
export const SEQUENCE_DIGITS = 20;
/** Extension of segment files. */
export const SEGMENT_SUFFIX = '.wal';
/** Prefix of snapshot files. */
export const SNAPSHOT_PREFIX = 'snapshot-';
/** Extension of snapshot files. */
export const SNAPSHOT_SUFFIX = '.snap';
/** Added to a snapshot's name while it is being written; such files are never valid and are removed on open. */
export const TEMP_SUFFIX = '.tmp';
