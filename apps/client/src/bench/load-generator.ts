import type { OutgoingHttpHeaders } from 'node:http';
import { BatchOpName, encodeKey, ErrorCode, PublicQuery, PublicRoutes } from '@kv/protocol';
import { batchResults, entryErrorCode, entryStatus, errorCodeOf } from '../answer-codes';
import { HttpAnswer, HttpSender, transportErrorCode } from './http-sender';
import { BENCH_OPS, BenchOp, OpMix, OpPicker } from './op-mix';
import { OpStats } from './op-stats';
import { SeededRandom } from './random';

/** Every key of a benchmark is this prefix and a number below `--keys`, so benchmark keys are easy to tell apart. */
export const BENCH_KEY_PREFIX = 'bench:';

/** What to generate. */
export interface LoadSpec {
  /** Concurrent request loops, each with its own keep-alive connection. */
  connections: number;
  /** Bytes of every value written (ASCII, so also its length). */
  valueBytes: number;
  /** Size of the key space: keys are drawn uniformly from `bench:0` to `bench:<keys - 1>`. */
  keys: number;
  /** Relative weights of set, get and del. */
  mix: OpMix;
  /** Operations per `POST /batch` request; `undefined` sends one request per operation. */
  batchOps: number | undefined;
  /** Stop after this many operations... */
  opsTotal: number | undefined;
  /** ...or after this long, in ms (one of the two is set). */
  durationMs: number | undefined;
  /** `?w=` of every write, when set. */
  w: number | undefined;
  /** `?r=` of every read, when set. */
  r: number | undefined;
  /** Seed of the key and operation choices. */
  seed: number;
}

/** Where a run stands, for a progress display. */
export interface LoadProgress {
  elapsedMs: number;
  /** Operations finished. */
  ops: number;
  /** Operations that failed. */
  errors: number;
}

/** What a run measured. */
export interface LoadResult {
  /** From the first request to the last answer, in ms. */
  elapsedMs: number;
  /** Per operation kind. */
  ops: Record<BenchOp, OpStats>;
  /** Per HTTP request: the same as the operations without `--batch`, one per `/batch` request with it. */
  requests: OpStats;
  /** True when {@link LoadGenerator.stop} ended the run early. */
  interrupted: boolean;
}

/** A monotonic clock in ms with sub-millisecond resolution (`performance`). */
export interface MonotonicClock {
  now(): number;
}

interface SingleRequest {
  method: string;
  query: string;
  headers: OutgoingHttpHeaders;
  body: string | undefined;
}

/**
 * A closed-loop load generator: `connections` loops, each sending its next request as soon as the previous one is
 * answered, until the operation count or the duration is reached. Operations and keys are drawn from a seeded generator;
 * request bodies are built once (single operations) or from pre-serialized parts (batches). Requests in flight when the
 * duration ends are waited for and counted. Every operation is counted exactly once in {@link LoadResult}.
 */
export class LoadGenerator {
  private readonly stats: Record<BenchOp, OpStats> = { set: new OpStats(), get: new OpStats(), del: new OpStats() };
  private readonly requests = new OpStats();
  private readonly random: SeededRandom;
  private readonly picker: OpPicker;
  private readonly keyPath: string;
  private readonly single: Record<BenchOp, SingleRequest>;
  private readonly batchPath: string;
  private readonly valueJson: string;
  private claimed = 0;
  private stopped = false;
  private interrupted = false;
  private startMs = 0;
  private finishedMs: number | undefined;

  constructor(
    private readonly sender: HttpSender,
    private readonly spec: LoadSpec,
    private readonly clock: MonotonicClock = performance,
  ) {
    this.random = new SeededRandom(spec.seed);
    this.picker = new OpPicker(spec.mix);
    this.keyPath = PublicRoutes.kvPrefix + encodeKey(BENCH_KEY_PREFIX);
    this.valueJson = JSON.stringify(benchValue(spec.valueBytes));
    const setBody = `{"value":${this.valueJson}}`;
    const writeQuery = query({ [PublicQuery.writeQuorum]: spec.w });
    this.single = {
      set: { method: 'PUT', query: writeQuery, headers: sender.headers(Buffer.byteLength(setBody)), body: setBody },
      get: {
        method: 'GET',
        query: query({ [PublicQuery.readQuorum]: spec.r }),
        headers: sender.headers(),
        body: undefined,
      },
      del: { method: 'DELETE', query: writeQuery, headers: sender.headers(), body: undefined },
    };
    this.batchPath =
      PublicRoutes.batch + query({ [PublicQuery.writeQuorum]: spec.w, [PublicQuery.readQuorum]: spec.r });
  }

  /** Runs the load to its end (or until {@link stop}); call once. */
  async run(): Promise<LoadResult> {
    this.startMs = this.clock.now();
    const timer =
      this.spec.durationMs === undefined ? undefined : setTimeout(() => (this.stopped = true), this.spec.durationMs);
    try {
      const loops: Promise<void>[] = [];
      for (let i = 0; i < this.spec.connections; i++) loops.push(this.loop());
      await Promise.all(loops);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    this.finishedMs = this.clock.now();
    return {
      elapsedMs: this.finishedMs - this.startMs,
      ops: this.stats,
      requests: this.requests,
      interrupted: this.interrupted,
    };
  }

  /** Ends the run early: no new request is sent; those in flight are still waited for and counted. */
  stop(): void {
    if (!this.stopped) this.interrupted = true;
    this.stopped = true;
  }

  /** Operations finished and failed so far. */
  progress(): LoadProgress {
    let ops = 0;
    let errors = 0;
    for (const op of BENCH_OPS) {
      ops += this.stats[op].count;
      errors += this.stats[op].errorCount;
    }
    return { elapsedMs: (this.finishedMs ?? this.clock.now()) - this.startMs, ops, errors };
  }

  private async loop(): Promise<void> {
    for (;;) {
      const n = this.claim();
      if (n === 0) return;
      if (this.spec.batchOps === undefined) await this.sendSingle();
      else await this.sendBatch(n);
    }
  }

  // How many operations the next request carries; 0 ends the loop.
  private claim(): number {
    if (this.stopped) return 0;
    const size = this.spec.batchOps ?? 1;
    if (this.spec.opsTotal === undefined) return size;
    const n = Math.min(size, this.spec.opsTotal - this.claimed);
    if (n <= 0) return 0;
    this.claimed += n;
    return n;
  }

  private async sendSingle(): Promise<void> {
    const op = this.picker.pick(this.random.next());
    const request = this.single[op];
    const path = this.keyPath + this.random.below(this.spec.keys) + request.query;
    const startMs = this.clock.now();
    let answer: HttpAnswer;
    try {
      answer = await this.sender.request(request.method, path, request.headers, request.body, false);
    } catch (err) {
      const code = transportErrorCode(err);
      this.stats[op].recordError(code, undefined);
      this.requests.recordError(code, undefined);
      return;
    }
    const us = (this.clock.now() - startMs) * 1000;
    if (answer.status === 200) {
      this.stats[op].recordOk(us);
      this.requests.recordOk(us);
    } else if (answer.status === 404 && op === 'get') {
      this.stats[op].recordNotFound(us);
      this.requests.recordNotFound(us);
    } else {
      const code = errorCodeOf(answer.status, answer.body);
      this.stats[op].recordError(code, us);
      this.requests.recordError(code, us);
    }
  }

  private async sendBatch(n: number): Promise<void> {
    const ops: BenchOp[] = new Array<BenchOp>(n);
    const parts: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const op = this.picker.pick(this.random.next());
      ops[i] = op;
      const key = `"${BENCH_KEY_PREFIX}${this.random.below(this.spec.keys)}"`;
      parts[i] =
        op === 'set'
          ? `{"op":"${BatchOpName.Set}","key":${key},"value":${this.valueJson}}`
          : `{"op":"${op === 'get' ? BatchOpName.Get : BatchOpName.Del}","key":${key}}`;
    }
    const body = `{"ops":[${parts.join(',')}]}`;
    const startMs = this.clock.now();
    let answer: HttpAnswer;
    try {
      const headers = this.sender.headers(Buffer.byteLength(body));
      answer = await this.sender.request('POST', this.batchPath, headers, body, true);
    } catch (err) {
      const code = transportErrorCode(err);
      for (const op of ops) this.stats[op].recordError(code, undefined);
      this.requests.recordError(code, undefined);
      return;
    }
    const us = (this.clock.now() - startMs) * 1000;
    const results = answer.status === 200 ? batchResults(answer.body, n) : undefined;
    if (results === undefined) {
      const code = answer.status === 200 ? ErrorCode.Internal : errorCodeOf(answer.status, answer.body);
      for (const op of ops) this.stats[op].recordError(code, us);
      this.requests.recordError(code, us);
      return;
    }
    this.requests.recordOk(us);
    for (let i = 0; i < n; i++) {
      const op = ops[i];
      const status = entryStatus(results[i]);
      if (status === 200) this.stats[op].recordOk(us);
      else if (status === 404 && op === 'get') this.stats[op].recordNotFound(us);
      else this.stats[op].recordError(entryErrorCode(results[i]), us);
    }
  }
}

/**
 * The value every write of a benchmark stores: `bytes` letters and digits, so also `bytes` bytes of UTF-8 and of JSON
 * (nothing to escape).
 */
export function benchValue(bytes: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let value = '';
  while (value.length < bytes) value += alphabet;
  return value.slice(0, bytes);
}

function query(params: Record<string, number | undefined>): string {
  const pairs = Object.entries(params).filter(([, value]) => value !== undefined);
  return pairs.length === 0 ? '' : `?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`;
}
