import * as path from 'node:path';
import { makeEntry, type Entry } from './entry';
import type { FileHandle, FileSystem } from './file-system';
import { checkFileHeader, encodeFileHeader } from './file-header';
import { snapshotFileName, snapshotTempFileName } from './file-names';
import { FILE_HEADER_BYTES, OP_DELETE, OP_SET, OP_SET_EXPIRING, OP_SNAPSHOT_END, OP_SNAPSHOT_META, SNAPSHOT_MAGIC } from './format';
import { scanFrames } from './frame-scanner';
import {
  decodePayload,
  encodeSnapshotEnd,
  encodeSnapshotMeta,
  frameBytes,
  keyBytes,
  newDecodedPayload,
  valueBytes,
  versionBytes,
  writeFrame,
} from './record-codec';
import { WalError, WalErrorCode } from './wal-error';

/** Bytes encoded per write while writing a snapshot: each chunk takes ~1 ms of CPU, so appends keep flowing between. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/** A snapshot written by {@link writeSnapshot}. */
export interface WrittenSnapshot {
  readonly sequence: number;
  readonly file: string;
  readonly bytes: number;
  readonly entries: number;
}

/** Thrown by {@link writeSnapshot} when `shouldStop` asked it to stop; the temporary file is removed. */
export class SnapshotStopped extends Error {
  constructor() {
    super('snapshot stopped');
  }
}

/**
 * Writes `entries` as the snapshot covering segments <= `sequence`: to a temporary file in chunks (awaiting each write,
 * so other work runs between), fsynced, renamed into place, and the directory fsynced. Either a complete, durable
 * snapshot exists under its final name afterwards, or none (a crash leaves at most the temporary file).
 *
 * @param shouldStop polled between chunks; when it returns true the write is abandoned.
 * @throws SnapshotStopped when stopped; the file system's error otherwise (the temporary file is removed if possible).
 */
export async function writeSnapshot(
  fs: FileSystem,
  dir: string,
  sequence: number,
  entries: readonly Entry[],
  versionFloor: string,
  shouldStop: () => boolean,
  chunkBytes: number = SNAPSHOT_CHUNK_BYTES,
): Promise<WrittenSnapshot> {
  const temp = path.join(dir, snapshotTempFileName(sequence));
  const file = snapshotFileName(sequence);
  const handle = await fs.open(temp, 'w');
  let position = 0;
  let closed = false;
  try {
    const head = [encodeFileHeader(SNAPSHOT_MAGIC, sequence), encodeSnapshotMeta(versionFloor)];
    await handle.writev(head, position);
    position += head[0].length + head[1].length;
    const sizes: number[] = [];
    let index = 0;
    while (index < entries.length) {
      if (shouldStop()) throw new SnapshotStopped();
      // Measure a chunk's worth of entries, then encode them into one buffer and write it.
      sizes.length = 0;
      let total = 0;
      let end = index;
      while (end < entries.length && (end === index || total < chunkBytes)) {
        const entry = entries[end];
        const k = keyBytes(entry.key);
        const v = versionBytes(entry.version);
        const value = entry.value === null ? -1 : valueBytes(entry.value);
        sizes.push(k, v, value);
        total += frameBytes(k, v, value, entry.value !== null && entry.expiresAt !== undefined);
        end++;
      }
      const chunk = Buffer.allocUnsafe(total);
      let at = 0;
      for (let i = index; i < end; i++) {
        const entry = entries[i];
        const s = (i - index) * 3;
        const op = entry.value === null ? OP_DELETE : OP_SET;
        at = writeFrame(chunk, at, op, entry.key, sizes[s], entry.version, sizes[s + 1], entry.value, sizes[s + 2], entry.expiresAt);
      }
      await handle.write(chunk, position);
      position += total;
      index = end;
    }
    const tail = encodeSnapshotEnd(entries.length);
    await handle.write(tail, position);
    position += tail.length;
    await handle.sync();
    closed = true;
    await handle.close();
    await fs.rename(temp, path.join(dir, file));
    await fs.syncDir(dir);
    return { sequence, file, bytes: position, entries: entries.length };
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Outcome of {@link readSnapshot}: the snapshot's contents, or why it is not valid. */
export type SnapshotRead =
  | { readonly valid: true; readonly versionFloor: string; readonly entries: number; readonly bytes: number }
  | { readonly valid: false; readonly reason: string };

/**
 * Reads and validates snapshot `sequence`, handing each entry to `onEntry` in file order. A snapshot that is damaged
 * or incomplete (no valid `SNAPSHOT_END` with the right count as its very last record) is reported as not valid; the
 * caller must then discard whatever `onEntry` received.
 *
 * @throws WalError `WAL_UNSUPPORTED_FORMAT` for a snapshot of another format version (falling back to an older one
 * would hide newer data); `WAL_IO` if it cannot be read.
 */
export async function readSnapshot(
  fs: FileSystem,
  dir: string,
  sequence: number,
  onEntry: (entry: Entry) => void,
): Promise<SnapshotRead> {
  const file = snapshotFileName(sequence);
  const filePath = path.join(dir, file);
  let handle: FileHandle;
  try {
    handle = await fs.open(filePath, 'r');
  } catch (error) {
    throw new WalError(WalErrorCode.Io, `${filePath}: opening failed`, { cause: error, file });
  }
  try {
    let size: number;
    const header = Buffer.alloc(FILE_HEADER_BYTES);
    try {
      size = await handle.size();
      await handle.read(header, 0, Math.min(size, FILE_HEADER_BYTES), 0);
    } catch (error) {
      throw new WalError(WalErrorCode.Io, `${filePath}: reading failed`, { cause: error, file });
    }
    const check = checkFileHeader(header.subarray(0, Math.min(size, FILE_HEADER_BYTES)), SNAPSHOT_MAGIC, sequence);
    if (check.status === 'unsupported') {
      throw new WalError(WalErrorCode.UnsupportedFormat, `${filePath}: ${check.reason}`, { file, offset: 0 });
    }
    if (check.status !== 'ok') return { valid: false, reason: check.reason };
    const decoded = newDecodedPayload();
    let state = 'meta' as 'meta' | 'entries' | 'ended';
    let versionFloor = '';
    let count = 0;
    let problem = '';
    const outcome = await scanFrames(handle, file, FILE_HEADER_BYTES, size, (buffer, start, end, offset) => {
      if (!decodePayload(buffer, start, end, decoded)) return false;
      if (state === 'meta') {
        if (decoded.op !== OP_SNAPSHOT_META) return fail(`first record at byte ${offset} is not SNAPSHOT_META`);
        versionFloor = decoded.version;
        state = 'entries';
      } else if (state === 'entries') {
        if (decoded.op === OP_SET || decoded.op === OP_DELETE || decoded.op === OP_SET_EXPIRING) {
          onEntry(makeEntry(decoded.key, decoded.value, decoded.version, decoded.expiresAt));
          count++;
        } else if (decoded.op === OP_SNAPSHOT_END) {
          if (decoded.count !== count) return fail(`SNAPSHOT_END counts ${decoded.count} entries, ${count} were read`);
          state = 'ended';
        } else {
          return fail(`op ${decoded.op} at byte ${offset} has no place in a snapshot`);
        }
      } else {
        return fail(`record at byte ${offset} after SNAPSHOT_END`);
      }
      return true;
    });
    function fail(reason: string): false {
      problem = reason;
      return false;
    }
    if (outcome.bad !== undefined) {
      return { valid: false, reason: `${problem || outcome.bad.reason} (byte ${outcome.bad.offset})` };
    }
    if (state !== 'ended') return { valid: false, reason: 'incomplete: no SNAPSHOT_END' };
    return { valid: true, versionFloor, entries: count, bytes: size };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
