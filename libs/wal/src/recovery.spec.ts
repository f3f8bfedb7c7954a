import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileHandle, OpenMode } from './file-system';
import { encodeFileHeader } from './file-header';
import { segmentFileName, snapshotFileName, snapshotTempFileName } from './file-names';
import { FILE_HEADER_BYTES, HEADER_CRC_OFFSET, HEADER_VERSION_OFFSET, RECORD_BYTES_MAX, SEGMENT_MAGIC } from './format';
import { SCAN_CHUNK_BYTES } from './frame-scanner';
import { NodeFileSystem } from './node-file-system';
import { crc32 } from './record-codec';
import { openStore, type Store } from './store';
import type { StoreOptions } from './store-options';
import { captureLogger } from './testing/capture-logger';
import { tempDirs } from './testing/temp-dirs';

const temp = tempDirs();
afterEach(() => temp.removeAll());
afterEach(() => jest.restoreAllMocks());

const SEGMENT_1 = segmentFileName(1);

/** Offsets of the frames of a segment file's bytes, and the offset after the last one. */
function frameOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  let at = FILE_HEADER_BYTES;
  while (at < bytes.length) {
    offsets.push(at);
    at += 8 + bytes.readUInt32LE(at);
  }
  expect(at).toBe(bytes.length);
  return offsets;
}

function keyOf(i: number): string {
  return `key-${String(i).padStart(2, '0')}`;
}

/** A store directory holding `count` sets (keys key-00.., one record each) in one segment; returns the segment bytes. */
async function writeRecords(dir: string, count: number, options: StoreOptions = {}): Promise<Buffer> {
  const store = await openStore(dir, { logger: captureLogger(), ...options });
  for (let i = 0; i < count; i++) await store.set(keyOf(i), `value ${i} ${'x'.repeat(i)}`);
  await store.close();
  return fs.readFileSync(path.join(dir, SEGMENT_1));
}

function keysOf(store: Store): string[] {
  return [...store.entries()].map(([key]) => key);
}

/** The real disk, recording the length of every read. */
class ReadRecordingFileSystem extends NodeFileSystem {
  readonly readLengths: number[] = [];
  override async open(file: string, mode: OpenMode): Promise<FileHandle> {
    const handle = await super.open(file, mode);
    const lengths = this.readLengths;
    return Object.assign(Object.create(handle) as FileHandle, {
      read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
        lengths.push(length);
        return handle.read(buffer, offset, length, position);
      },
    });
  }
}

describe('recovery', () => {
  it('opens after a cut at every byte offset of the last records: keeps the clean prefix, reports the torn tail, keeps later writes', async () => {
    const dir = await temp.make();
    const count = 12;
    const original = await writeRecords(dir, count);
    const offsets = frameOffsets(original);
    const file = path.join(dir, SEGMENT_1);
    const firstCut = offsets[count - 3];
    for (let cut = firstCut; cut < original.length; cut++) {
      fs.writeFileSync(file, original.subarray(0, cut));
      const logger = captureLogger();
      const store = await openStore(dir, { logger });
      const whole = offsets.filter((offset) => offset < cut && (offsets[offsets.indexOf(offset) + 1] ?? original.length) <= cut).length;
      const boundary = whole === count ? original.length : offsets[whole];
      expect(keysOf(store)).toEqual(Array.from({ length: whole }, (_, i) => keyOf(i)));
      if (cut === boundary) {
        expect(store.recovery.tornTail).toBeNull();
        expect(logger.warnings).toEqual([]);
      } else {
        expect(store.recovery.tornTail).toEqual({ file: SEGMENT_1, offset: boundary, bytesDropped: cut - boundary });
        expect(logger.warnings).toEqual([expect.objectContaining({ meta: expect.objectContaining({ file: SEGMENT_1, offset: boundary, bytesDropped: cut - boundary }) })]);
      }
      await store.set('after', `written after a cut at ${cut}`);
      await store.close();
      const reopened = await openStore(dir, { logger: captureLogger() });
      expect(reopened.recovery.tornTail).toBeNull();
      expect(reopened.get('after')?.value).toBe(`written after a cut at ${cut}`);
      expect(reopened.size).toBe(whole + 1);
      await reopened.close();
    }
  }, 30_000);

  it('treats damage to the very last record (nothing valid after it) as a torn tail', async () => {
    const dir = await temp.make();
    const original = await writeRecords(dir, 5);
    const last = frameOffsets(original)[4];
    const damaged = Buffer.from(original);
    damaged[last + 12] ^= 0xff;
    fs.writeFileSync(path.join(dir, SEGMENT_1), damaged);
    const store = await openStore(dir, { logger: captureLogger() });
    expect(store.recovery.tornTail).toEqual({ file: SEGMENT_1, offset: last, bytesDropped: original.length - last });
    expect(store.size).toBe(4);
    await store.close();
  });

  it('cuts a zero-filled tail, as some file systems leave after a crash', async () => {
    const dir = await temp.make();
    const original = await writeRecords(dir, 3);
    fs.writeFileSync(path.join(dir, SEGMENT_1), Buffer.concat([original, Buffer.alloc(4096)]));
    const store = await openStore(dir, { logger: captureLogger() });
    expect(store.recovery.tornTail).toEqual({ file: SEGMENT_1, offset: original.length, bytesDropped: 4096 });
    expect(store.size).toBe(3);
    await store.close();
    expect(fs.statSync(path.join(dir, SEGMENT_1)).size).toBe(original.length);
  });

  it.each([
    ['the length field', 0],
    ['the CRC', 5],
    ['the op byte', 8],
    ['the key', 12],
    ['the value', 45],
  ])('refuses a flipped byte in %s of a middle record: WAL_CORRUPT naming file and offset', async (_name, at) => {
    const dir = await temp.make();
    const original = await writeRecords(dir, 12);
    const offsets = frameOffsets(original);
    for (const index of [0, 5, 10]) {
      const damaged = Buffer.from(original);
      damaged[offsets[index] + at] ^= 0x40;
      fs.writeFileSync(path.join(dir, SEGMENT_1), damaged);
      const opening = openStore(dir, { logger: captureLogger() });
      await expect(opening).rejects.toMatchObject({ name: 'WalError', code: 'WAL_CORRUPT', file: SEGMENT_1, offset: offsets[index] });
      await expect(opening).rejects.toThrow(new RegExp(`${SEGMENT_1} at byte ${offsets[index]}\\b`));
      // Nothing was cut: the file is as it was.
      expect(fs.readFileSync(path.join(dir, SEGMENT_1))).toEqual(damaged);
    }
  });

  describe('a length field of 2^32-1 never sizes a buffer', () => {
    const largestAllowed = SCAN_CHUNK_BYTES;

    function spyOnAllocations(): jest.SpyInstance[] {
      return [jest.spyOn(Buffer, 'alloc'), jest.spyOn(Buffer, 'allocUnsafe'), jest.spyOn(Buffer, 'allocUnsafeSlow')];
    }

    function largestAllocation(spies: jest.SpyInstance[]): number {
      return Math.max(0, ...spies.flatMap((spy) => spy.mock.calls.map((call) => Number(call[0]))));
    }

    it.each([
      ['in the tail: a torn tail', 4, 'torn'],
      ['in the middle: WAL_CORRUPT', 2, 'corrupt'],
    ] as const)('%s', async (_name, index, outcome) => {
      const dir = await temp.make();
      const original = await writeRecords(dir, 5);
      const offset = frameOffsets(original)[index];
      for (const length of [0xffffffff, RECORD_BYTES_MAX, RECORD_BYTES_MAX + 1]) {
        const damaged = Buffer.from(original);
        damaged.writeUInt32LE(length, offset);
        fs.writeFileSync(path.join(dir, SEGMENT_1), damaged);
        const recording = new ReadRecordingFileSystem();
        const spies = spyOnAllocations();
        const opening = openStore(dir, { fs: recording, logger: captureLogger() });
        if (outcome === 'torn') {
          const store = await opening;
          expect(store.recovery.tornTail).toEqual({ file: SEGMENT_1, offset, bytesDropped: original.length - offset });
          await store.close();
        } else {
          await expect(opening).rejects.toMatchObject({ code: 'WAL_CORRUPT', file: SEGMENT_1, offset });
        }
        expect(largestAllocation(spies)).toBeLessThanOrEqual(largestAllowed);
        expect(Math.max(...recording.readLengths)).toBeLessThanOrEqual(largestAllowed);
        spies.forEach((spy) => spy.mockRestore());
      }
    });
  });

  it('refuses any damage in a segment that is not the last one, even at its end', async () => {
    const dir = await temp.make();
    const store = await openStore(dir, { segmentBytesMax: 300, logger: captureLogger() });
    for (let i = 0; i < 20; i++) await store.set(keyOf(i), 'v'.repeat(20));
    await store.close();
    const file = path.join(dir, SEGMENT_1);
    const original = fs.readFileSync(file);
    fs.writeFileSync(file, original.subarray(0, original.length - 3));
    const offsets = frameOffsets(original);
    await expect(openStore(dir, { logger: captureLogger() })).rejects.toMatchObject({
      code: 'WAL_CORRUPT',
      file: SEGMENT_1,
      offset: offsets[offsets.length - 1],
    });
  });

  it('rewrites the torn header of a segment created just before a crash', async () => {
    const dir = await temp.make();
    await writeRecords(dir, 3);
    const second = path.join(dir, segmentFileName(2));
    fs.writeFileSync(second, encodeFileHeader(SEGMENT_MAGIC, 2).subarray(0, 10));
    const store = await openStore(dir, { logger: captureLogger() });
    expect(store.recovery.tornTail).toEqual({ file: segmentFileName(2), offset: 0, bytesDropped: 10 });
    expect(store.size).toBe(3);
    await store.set('after', 'x');
    await store.close();
    expect(fs.statSync(second).size).toBeGreaterThan(FILE_HEADER_BYTES);
    const reopened = await openStore(dir, { logger: captureLogger() });
    expect(reopened.size).toBe(4);
    await reopened.close();
  });

  it('stops on another format version with WAL_UNSUPPORTED_FORMAT, changing nothing', async () => {
    const dir = await temp.make();
    const original = await writeRecords(dir, 3);
    const future = Buffer.from(original);
    future.writeUInt16LE(2, HEADER_VERSION_OFFSET);
    future.writeUInt32LE(crc32(future, 0, HEADER_CRC_OFFSET), HEADER_CRC_OFFSET);
    fs.writeFileSync(path.join(dir, SEGMENT_1), future);
    await expect(openStore(dir, { logger: captureLogger() })).rejects.toMatchObject({ code: 'WAL_UNSUPPORTED_FORMAT' });
    expect(fs.readFileSync(path.join(dir, SEGMENT_1))).toEqual(future);
  });

  describe('snapshots', () => {
    async function compacted(dir: string): Promise<void> {
      const store = await openStore(dir, { segmentBytesMax: 400, logger: captureLogger() });
      for (let i = 0; i < 10; i++) await store.set(keyOf(i), `v${i}`);
      await store.delete(keyOf(0));
      await store.compact();
      for (let i = 10; i < 20; i++) await store.set(keyOf(i), `v${i}`);
      await store.close();
    }

    it('ignores a newer snapshot that is not valid and rebuilds from the previous one and the log', async () => {
      const dir = await temp.make();
      await compacted(dir);
      const valid = fs.readdirSync(dir).find((name) => name.startsWith('snapshot-'))!;
      const bytes = fs.readFileSync(path.join(dir, valid));
      const newer = snapshotFileName(99);
      fs.writeFileSync(path.join(dir, newer), bytes.subarray(0, bytes.length - 3));
      const logger = captureLogger();
      const store = await openStore(dir, { logger });
      expect(store.recovery.snapshot?.file).toBe(valid);
      expect(store.recovery.ignoredSnapshots).toEqual([{ file: newer, reason: expect.any(String) }]);
      expect(logger.warnings.map((w) => w.message)).toContain('ignoring a snapshot that is not valid');
      expect(store.size).toBe(19);
      expect(store.getEntry(keyOf(0))?.tombstone).toBe(true);
      await store.close();
    });

    it('refuses to open when no valid snapshot is left and the segments it covered are gone', async () => {
      const dir = await temp.make();
      await compacted(dir);
      const valid = fs.readdirSync(dir).find((name) => name.startsWith('snapshot-'))!;
      const bytes = fs.readFileSync(path.join(dir, valid));
      bytes[bytes.length - 2] ^= 1;
      fs.writeFileSync(path.join(dir, valid), bytes);
      await expect(openStore(dir, { logger: captureLogger() })).rejects.toMatchObject({ code: 'WAL_CORRUPT', file: SEGMENT_1 });
    });

    it('removes a snapshot left half-written by a crash, and left-over covered segments', async () => {
      const dir = await temp.make();
      await compacted(dir);
      const valid = fs.readdirSync(dir).find((name) => name.startsWith('snapshot-'))!;
      fs.writeFileSync(path.join(dir, snapshotTempFileName(50)), 'half');
      fs.writeFileSync(path.join(dir, SEGMENT_1), 'covered by the snapshot');
      const store = await openStore(dir, { logger: captureLogger() });
      expect([...store.recovery.removedFiles].sort()).toEqual([SEGMENT_1, snapshotTempFileName(50)]);
      expect(store.recovery.snapshot?.file).toBe(valid);
      expect(store.size).toBe(19);
      await store.close();
      expect(fs.readdirSync(dir)).not.toContain(SEGMENT_1);
    });
  });
});
