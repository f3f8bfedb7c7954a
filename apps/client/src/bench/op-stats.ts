import { LatencyHistogram } from './latency-histogram';

/**
 * What happened to the operations (or requests) of one kind: every one counted exactly once as ok, not found or an error
 * by code, and the latencies of those that were answered.
 */
export class OpStats {
  /** Operations finished: `ok + notFound + errorCount`. */
  count = 0;
  /** Answered with success. */
  ok = 0;
  /** Reads answered `404 KV_NOT_FOUND`: an answer, not an error. */
  notFound = 0;
  /** Failures by `KV_*` code, or by the socket error code (`ECONNRESET`, `ETIMEDOUT`) when there was no answer. */
  readonly errors = new Map<string, number>();
  /** Latencies of the answered ones (errors included); failures without an answer have none. */
  readonly latency = new LatencyHistogram();

  /** Counts a success answered after `us` µs. */
  recordOk(us: number): void {
    this.count += 1;
    this.ok += 1;
    this.latency.record(us);
  }

  /** Counts a read of a missing key answered after `us` µs. */
  recordNotFound(us: number): void {
    this.count += 1;
    this.notFound += 1;
    this.latency.record(us);
  }

  /** Counts a failure with `code`; `us` is the latency when the server answered, `undefined` when it did not. */
  recordError(code: string, us: number | undefined): void {
    this.count += 1;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    if (us !== undefined) this.latency.record(us);
  }

  /** Failures of every code. */
  get errorCount(): number {
    let n = 0;
    for (const count of this.errors.values()) n += count;
    return n;
  }

  /** Adds the counts and latencies of `other`. */
  merge(other: OpStats): void {
    this.count += other.count;
    this.ok += other.ok;
    this.notFound += other.notFound;
    for (const [code, count] of other.errors) this.errors.set(code, (this.errors.get(code) ?? 0) + count);
    this.latency.merge(other.latency);
  }
}
