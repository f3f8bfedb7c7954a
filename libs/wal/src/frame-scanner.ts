import type { FileHandle } from './file-system';
import { FRAME_HEADER_BYTES, PAYLOAD_BYTES_MIN, RECORD_BYTES_MAX } from './format';
import { crc32, decodePayload, newDecodedPayload } from './record-codec';
import { WalError, WalErrorCode } from './wal-error';

// Module-local copies of constants used per frame (see the note in record-codec.ts about imported bindings).
const HEADER_BYTES = FRAME_HEADER_BYTES;
const LENGTH_MIN = PAYLOAD_BYTES_MIN;
const LENGTH_MAX = RECORD_BYTES_MAX;

/** Bytes read from disk at a time when scanning: big sequential reads run near disk bandwidth; 4 MiB keeps memory small. */
export const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Why a frame is bad. All but `bad-payload` can come from a write cut short by a crash; `bad-payload` (a CRC that
 * matches a payload of impossible layout) was written that way.
 */
export type BadFrameKind = 'incomplete-header' | 'bad-length' | 'incomplete-payload' | 'crc-mismatch' | 'bad-payload';

/** The first bad frame found by {@link scanFrames}. */
export interface BadFrame {
  readonly kind: BadFrameKind;
  /** Byte offset of the frame in the file. */
  readonly offset: number;
  readonly reason: string;
}

/** Outcome of {@link scanFrames}. */
export interface ScanOutcome {
  /** Frames read successfully. */
  readonly frames: number;
  /** Offset just after the last good frame: where a torn tail would be cut. */
  readonly goodEnd: number;
  /** The first bad frame, if scanning stopped before the end of the file. */
  readonly bad: BadFrame | undefined;
}

/**
 * Called with each valid frame's payload (`buffer[start, end)`, valid only during the call) and the frame's file
 * offset; returns false if the payload is unacceptable, which stops the scan with a `bad-payload` frame.
 */
export type FrameVisitor = (buffer: Buffer, start: number, end: number, offset: number) => boolean;

async function readFully(handle: FileHandle, target: Buffer, at: number, length: number, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < length) {
    const count = await handle.read(target, at + done, length - done, position + done);
    if (count === 0) {
      throw new WalError(WalErrorCode.Io, `${file}: unexpected end of file at byte ${position + done} while reading`, {
        file,
        offset: position + done,
      });
    }
    done += count;
  }
}

/**
 * Reads the frames of `file` from `start` to `size` in large chunks and hands each valid payload to `visit`, in order.
 * Every frame length is checked against {@link PAYLOAD_BYTES_MIN} and {@link RECORD_BYTES_MAX}, and against the bytes
 * left in the file, before any buffer is sized from it: memory stays below one chunk plus one largest record.
 *
 * Stops at the first bad frame and reports it; never throws for bad data.
 * @throws WalError `WAL_IO` if reading fails.
 */
export async function scanFrames(
  handle: FileHandle,
  file: string,
  start: number,
  size: number,
  visit: FrameVisitor,
  chunkBytes: number = SCAN_CHUNK_BYTES,
): Promise<ScanOutcome> {
  let buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(size - start, FRAME_HEADER_BYTES)));
  let bufferStart = start; // file offset of buffer[0]
  let filled = 0; // bytes of buffer holding file data
  let at = 0; // next frame, index in buffer
  let frames = 0;
  const bad = (kind: BadFrameKind, reason: string): ScanOutcome => ({
    frames,
    goodEnd: bufferStart + at,
    bad: { kind, offset: bufferStart + at, reason },
  });

  const refill = async (needed: number): Promise<void> => {
    const kept = filled - at;
    if (needed > buffer.length) {
      // `needed` was checked against RECORD_BYTES_MAX and the bytes left in the file before getting here.
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(chunkBytes, size - (bufferStart + at))));
      buffer.copy(grown, 0, at, filled);
      buffer = grown;
    } else if (at > 0) {
      buffer.copy(buffer, 0, at, filled);
    }
    bufferStart += at;
    at = 0;
    filled = kept;
    const count = Math.min(buffer.length - filled, size - (bufferStart + filled));
    await readFully(handle, buffer, filled, count, bufferStart + filled, file);
    filled += count;
  };

  for (;;) {
    const left = size - (bufferStart + at);
    if (left === 0) return { frames, goodEnd: size, bad: undefined };
    if (left < HEADER_BYTES) return bad('incomplete-header', `${left} bytes left, less than a frame header`);
    if (filled - at < HEADER_BYTES) {
      await refill(HEADER_BYTES);
      continue;
    }
    const length = buffer.readUInt32LE(at);
    if (length < LENGTH_MIN || length > LENGTH_MAX) {
      return bad('bad-length', `record length ${length} outside [${LENGTH_MIN}, ${LENGTH_MAX}]`);
    }
    const frameLength = HEADER_BYTES + length;
    if (frameLength > left) {
      return bad('incomplete-payload', `record of ${length} bytes but only ${left - HEADER_BYTES} left in the file`);
    }
    if (filled - at < frameLength) {
      await refill(frameLength);
      continue;
    }
    const payloadStart = at + HEADER_BYTES;
    const payloadEnd = at + frameLength;
    if (crc32(buffer, payloadStart, payloadEnd) !== buffer.readUInt32LE(at + 4)) {
      return bad('crc-mismatch', 'CRC mismatch');
    }
    if (!visit(buffer, payloadStart, payloadEnd, bufferStart + at)) {
      return bad('bad-payload', 'CRC is valid but the payload layout is not');
    }
    frames++;
    at = payloadEnd;
  }
}

/**
 * Looks for a valid frame (length in range, complete, CRC and payload layout right) starting at any byte offset in
 * `[from, size)`. Used after a bad frame in the last segment: one is proof that the damage is not a torn tail.
 *
 * Frame lengths are range-checked before anything is read for them, as in {@link scanFrames}.
 * @returns the offset of the first such frame, or undefined.
 * @throws WalError `WAL_IO` if reading fails.
 */
export async function findValidFrame(
  handle: FileHandle,
  file: string,
  from: number,
  size: number,
  chunkBytes: number = SCAN_CHUNK_BYTES,
): Promise<number | undefined> {
  const scratch = newDecodedPayload();
  const lastStart = size - FRAME_HEADER_BYTES - PAYLOAD_BYTES_MIN;
  let windowStart = from;
  while (windowStart <= lastStart) {
    const windowLength = Math.min(Math.max(chunkBytes, FRAME_HEADER_BYTES * 2), size - windowStart);
    const window = Buffer.allocUnsafe(windowLength);
    await readFully(handle, window, 0, windowLength, windowStart, file);
    const windowEnd = windowStart + windowLength;
    let candidate = windowStart;
    for (; candidate <= lastStart && candidate + FRAME_HEADER_BYTES <= windowEnd; candidate++) {
      const i = candidate - windowStart;
      const length = window.readUInt32LE(i);
      if (length < PAYLOAD_BYTES_MIN || length > RECORD_BYTES_MAX) continue;
      const frameEnd = candidate + FRAME_HEADER_BYTES + length;
      if (frameEnd > size) continue;
      let frame: Buffer;
      let base: number;
      if (frameEnd <= windowEnd) {
        frame = window;
        base = i;
      } else {
        frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
        base = 0;
        await readFully(handle, frame, 0, frame.length, candidate, file);
      }
      const payloadStart = base + FRAME_HEADER_BYTES;
      const payloadEnd = payloadStart + length;
      if (crc32(frame, payloadStart, payloadEnd) !== frame.readUInt32LE(base + 4)) continue;
      if (decodePayload(frame, payloadStart, payloadEnd, scratch)) return candidate;
    }
    windowStart = candidate;
  }
  return undefined;
}
