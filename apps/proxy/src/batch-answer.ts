import { ErrorCode, KvError } from '@kv/protocol';
import { overloadedBytes, type InFlightTicket } from '@kv/service';

/** Reads of one multi-key request in flight at once, at most: enough to keep the replicas busy (the transport batches them). */
export const BATCH_READS_IN_FLIGHT_MAX = 32;
/**
 * Bytes of values one multi-key request expects to have in flight at once (from the average value it has read so far):
 * 32 reads of small values, 4 of 1 MiB. The replicas' answers to those reads are what the proxy holds besides the answer.
 */
export const BATCH_READ_BYTES_IN_FLIGHT = 4 * 1024 * 1024;

/**
 * The reads of one multi-key request in flight: a counting semaphore whose size follows the values seen, so a request
 * of large values has few reads in flight and one of small values many. The first read goes alone, until a value shows
 * their size.
 */
export class ReadWindow {
  private inFlight = 0;
  private seen = 0;
  private seenBytes = 0;
  private readonly waiting: (() => void)[] = [];

  private get size(): number {
    if (this.seen === 0) return 1;
    const average = Math.max(1, this.seenBytes / this.seen);
    return Math.max(1, Math.min(BATCH_READS_IN_FLIGHT_MAX, Math.floor(BATCH_READ_BYTES_IN_FLIGHT / average)));
  }

  /** Takes a slot: undefined when one is free now, else a promise of one. */
  acquire(): Promise<void> | undefined {
    if (this.inFlight < this.size) {
      this.inFlight += 1;
      return undefined;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Ends a read; `bytes` is the size of its value (0 when it found none or failed). */
  release(bytes: number): void {
    this.seen += 1;
    this.seenBytes += bytes;
    this.inFlight -= 1;
    while (this.waiting.length > 0 && this.inFlight < this.size) {
      this.inFlight += 1;
      this.waiting.shift()?.();
    }
  }
}

/**
 * The values one multi-key answer (`POST /batch`, RESP `MGET`) carries, bounded in bytes: a value that would take the
 * answer past `MAX_BATCH_RESPONSE_BYTES` fails alone with `KV_TOO_LARGE` and marks the answer full (the reads after it
 * fail without reading: values of one request are alike in size), and one that would take the process past
 * `MAX_BYTES_IN_FLIGHT` (charged to the request's ticket) fails with `KV_OVERLOADED`. Its {@link readSlots} bound the
 * reads in flight.
 */
export class BatchAnswer {
  /** Bytes of values admitted (UTF-16 code units: the bytes of an ASCII value, within 3x of any other's UTF-8). */
  bytes = 0;
  private full = false;
  readonly readSlots = new ReadWindow();

  constructor(
    private readonly bytesMax: number,
    private readonly ticket?: InFlightTicket,
  ) {}

  /** The error of a read that must not start because the answer is full; undefined while there is room. */
  answerFull(): KvError | undefined {
    return this.full || this.bytes >= this.bytesMax
      ? new KvError(ErrorCode.TooLarge, `this answer is full (MAX_BATCH_RESPONSE_BYTES=${this.bytesMax} bytes of values): read this key in another request`)
      : undefined;
  }

  /** Admits a value read into the answer, or returns the error that replaces it. */
  admitValue(value: string): KvError | undefined {
    const bytes = value.length;
    if (this.bytes + bytes > this.bytesMax) {
      this.full = true;
      return new KvError(
        ErrorCode.TooLarge,
        `this answer would carry more than MAX_BATCH_RESPONSE_BYTES=${this.bytesMax} bytes of values: read this key in another request`,
      );
    }
    if (this.ticket !== undefined && !this.ticket.reserve(bytes)) return overloadedBytes(this.ticket.limits);
    this.bytes += bytes;
    return undefined;
  }

  /**
   * Reads one value into the answer: waits for a read slot, checks that the answer has room, runs `read`, and admits
   * its value. Resolves with the entry, undefined when `read` found none, or the error that takes its place.
   */
  async read<T extends { value: string }>(read: () => Promise<T | undefined>): Promise<T | undefined> {
    const full = this.answerFull();
    if (full !== undefined) throw full;
    await this.readSlots.acquire();
    let bytes = 0;
    try {
      const fullNow = this.answerFull();
      if (fullNow !== undefined) throw fullNow;
      const found = await read();
      if (found === undefined) return undefined;
      bytes = found.value.length;
      const refused = this.admitValue(found.value);
      if (refused !== undefined) throw refused;
      return found;
    } finally {
      this.readSlots.release(bytes);
    }
  }
}
