import { checkFileHeader, encodeFileHeader } from './file-header';
import {
  isSnapshotTempFileName,
  parseSegmentFileName,
  parseSnapshotFileName,
  segmentFileName,
  snapshotFileName,
  snapshotTempFileName,
} from './file-names';
import { FILE_HEADER_BYTES, HEADER_CRC_OFFSET, HEADER_VERSION_OFFSET, SEGMENT_MAGIC, SNAPSHOT_MAGIC } from './format';
import { crc32 } from './record-codec';

describe('file header', () => {
  it('is 32 bytes and checks out for its own magic and sequence', () => {
    const header = encodeFileHeader(SEGMENT_MAGIC, 7);
    expect(header.length).toBe(FILE_HEADER_BYTES);
    expect(header.toString('latin1', 0, 8)).toBe('KVWALSEG');
    expect(checkFileHeader(header, SEGMENT_MAGIC, 7)).toEqual({ status: 'ok' });
  });

  it.each<[string, Buffer, string]>([
    ['shorter than a header', encodeFileHeader(SEGMENT_MAGIC, 1).subarray(0, 31), 'torn'],
    ['empty', Buffer.alloc(0), 'torn'],
    ['all zeros', Buffer.alloc(FILE_HEADER_BYTES), 'torn'],
    ['a flipped bit', Object.assign(Buffer.from(encodeFileHeader(SEGMENT_MAGIC, 1)), { 3: 0 }), 'torn'],
    ['a snapshot header', encodeFileHeader(SNAPSHOT_MAGIC, 1), 'mismatch'],
    ['another sequence', encodeFileHeader(SEGMENT_MAGIC, 2), 'mismatch'],
  ])('reports a header %s as %s', (_name, bytes, status) => {
    expect(checkFileHeader(bytes, SEGMENT_MAGIC, 1).status).toBe(status);
  });

  it('reports another format version as unsupported, not as damage', () => {
    const header = encodeFileHeader(SEGMENT_MAGIC, 1);
    header.writeUInt16LE(2, HEADER_VERSION_OFFSET);
    header.writeUInt32LE(crc32(header, 0, HEADER_CRC_OFFSET), HEADER_CRC_OFFSET);
    expect(checkFileHeader(header, SEGMENT_MAGIC, 1).status).toBe('unsupported');
  });
});

describe('file names', () => {
  it('zero-pads sequence numbers so that name order is numeric order', () => {
    expect(segmentFileName(1)).toBe('00000000000000000001.wal');
    expect(snapshotFileName(42)).toBe('snapshot-00000000000000000042.snap');
    expect(snapshotTempFileName(42)).toBe('snapshot-00000000000000000042.snap.tmp');
    expect([segmentFileName(10), segmentFileName(9)].sort()).toEqual([segmentFileName(9), segmentFileName(10)]);
  });

  it('parses its own names and nothing else', () => {
    expect(parseSegmentFileName(segmentFileName(123))).toBe(123);
    expect(parseSnapshotFileName(snapshotFileName(5))).toBe(5);
    expect(isSnapshotTempFileName(snapshotTempFileName(5))).toBe(true);
    for (const name of ['1.wal', 'x.wal', `${segmentFileName(1)}.bak`, snapshotTempFileName(5), '00000000000000000000.wal', 'LOCK']) {
      expect(parseSegmentFileName(name)).toBeUndefined();
      expect(parseSnapshotFileName(name)).toBeUndefined();
    }
  });

  it('refuses sequences that are not positive safe integers', () => {
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1]) expect(() => segmentFileName(bad)).toThrow(TypeError);
  });
});
