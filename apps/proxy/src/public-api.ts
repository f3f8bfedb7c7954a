import {
  ErrorCode,
  KvError,
  assertKnownParams,
  PublicQuery,
  batchBodyBytesMax,
  batchErrorResult,
  decodeKey,
  isInvalidOp,
  parseJsonBody,
  parsePublicBatch,
  parsePutBody,
  parsePutTtl,
  parseQuorumParam,
  singleBodyBytesMax,
  type BatchOp,
  type BatchResult,
  type DeleteResponse,
  type GetResponse,
  type PutResponse,
} from '@kv/protocol';
import type { CoordinatorVersions, Replicator, RequestScope } from '@kv/quorum';
import type { InFlightTicket } from '@kv/service';
import { BatchAnswer } from './batch-answer';

/** The query string of a request. */
export type Query = URLSearchParams;

/** The query parameters each data route takes; any other is refused (`KV_BAD_REQUEST`). */
const READ_PARAMS = [PublicQuery.readQuorum] as const;
const WRITE_PARAMS = [PublicQuery.writeQuorum] as const;
const BATCH_PARAMS = [PublicQuery.writeQuorum, PublicQuery.readQuorum] as const;

/** What the public API needs. */
export interface PublicApiDeps {
  replicator: Replicator;
  versions: CoordinatorVersions;
  /** Largest value accepted, in bytes (`MAX_VALUE_BYTES`). */
  maxValueBytes: number;
  /** Bytes of values one batch answer carries at most (`MAX_BATCH_RESPONSE_BYTES`; default: unbounded). */
  batchResponseBytesMax?: number;
}

/**
 * The public key-value API (docs/protocol/http.md), apart from any HTTP framework: each method takes the raw (still
 * percent-encoded) key and the raw body, and returns the answer's body or throws a `KvError` whose code and status
 * the caller sends. Quorum failures are `KV_QUORUM_FAILED` (503) with `acks` and `required`.
 */
export class PublicApi {
  private readonly replicator: Replicator;
  private readonly versions: CoordinatorVersions;
  private readonly replicas: number;
  private readonly limits: { valueBytesMax: number; batchResponseBytesMax: number };
  /** W: the acknowledgements a write needs by default (for the details of a request that timed out). */
  readonly writeQuorum: number;
  /** Body limits in bytes, derived from `MAX_VALUE_BYTES` (see `@kv/protocol` limits). */
  readonly singleBodyBytesMax: number;
  readonly batchBodyBytesMax: number;

  constructor(deps: PublicApiDeps) {
    this.replicator = deps.replicator;
    this.versions = deps.versions;
    this.replicas = deps.replicator.replicas;
    this.writeQuorum = deps.replicator.writeQuorum;
    this.limits = { valueBytesMax: deps.maxValueBytes, batchResponseBytesMax: deps.batchResponseBytesMax ?? Number.MAX_SAFE_INTEGER };
    this.singleBodyBytesMax = singleBodyBytesMax(deps.maxValueBytes);
    this.batchBodyBytesMax = batchBodyBytesMax(deps.maxValueBytes);
  }

  /**
   * `PUT /kv/{key}` with `{"value": "..."}` and optionally `"ttl"` (seconds; the answer then has `expiresAt`); `?w=`.
   * Every method takes the request's `scope` (its deadline and cancellation): operations of a request that ended are
   * not sent to the data nodes.
   */
  async put(rawKey: string, body: Uint8Array | string, query: Query | undefined, requestId?: string, scope?: RequestScope): Promise<PutResponse> {
    const key = decodeKey(rawKey);
    assertKnownParams(query, WRITE_PARAMS, 'PUT /kv/{key}');
    const parsed = parseJsonBody(body, this.singleBodyBytesMax);
    const value = parsePutBody(parsed, this.limits.valueBytesMax);
    const ttl = parsePutTtl(parsed);
    const w = this.quorum(query, PublicQuery.writeQuorum);
    return this.set(key, value, w, requestId, scope, ttl);
  }

  /** `GET /kv/{key}`; `?r=`. @throws KvError `KV_NOT_FOUND` for a missing or deleted key. */
  async get(rawKey: string, query: Query | undefined, requestId?: string, scope?: RequestScope): Promise<GetResponse> {
    const key = decodeKey(rawKey);
    assertKnownParams(query, READ_PARAMS, 'GET /kv/{key}');
    const r = this.quorum(query, PublicQuery.readQuorum);
    return this.read(key, r, requestId, scope);
  }

  /** `DELETE /kv/{key}`; `?w=`. Idempotent: deleting a missing key succeeds. */
  async delete(rawKey: string, query: Query | undefined, requestId?: string, scope?: RequestScope): Promise<DeleteResponse> {
    const key = decodeKey(rawKey);
    assertKnownParams(query, WRITE_PARAMS, 'DELETE /kv/{key}');
    const w = this.quorum(query, PublicQuery.writeQuorum);
    return this.del(key, w, requestId, scope);
  }

  /**
   * `POST /batch` with `{"ops": [...]}`; `?w=` and `?r=` apply to every operation. Each operation has the semantics
   * of its single-key request (no atomicity across keys): operations on different keys run concurrently, those on
   * the same key in batch order. The answer lists one result per operation, in order, each with its own `status`.
   *
   * The values the answer carries are bounded in bytes: a read whose value would take the answer past
   * `MAX_BATCH_RESPONSE_BYTES` fails alone with `413 KV_TOO_LARGE` (read it in another request), and one that would
   * take the process past `MAX_BYTES_IN_FLIGHT` (charged to `ticket`) with `503 KV_OVERLOADED`.
   *
   * Once the request's `scope` ended (deadline passed, client gone), operations not started yet are not started.
   */
  async batch(
    body: Uint8Array | string,
    query: Query | undefined,
    requestId?: string,
    ticket?: InFlightTicket,
    scope?: RequestScope,
  ): Promise<{ results: BatchResult[] }> {
    assertKnownParams(query, BATCH_PARAMS, 'POST /batch');
    const w = this.quorum(query, PublicQuery.writeQuorum);
    const r = this.quorum(query, PublicQuery.readQuorum);
    const ops = parsePublicBatch(parseJsonBody(body, this.batchBodyBytesMax), this.limits);
    const results: BatchResult[] = new Array(ops.length);
    // Writes of keys that appear once in the batch go to the replicas as one bulk write (one group per node);
    // everything else runs operation by operation: different keys concurrently, one key in batch order.
    const occurrences = new Map<string, number>();
    for (const op of ops) if (!isInvalidOp(op)) occurrences.set(op.key, (occurrences.get(op.key) ?? 0) + 1);
    const bulk: number[] = [];
    const answer = new BatchAnswer(this.limits.batchResponseBytesMax, ticket);
    const lastOfKey = new Map<string, Promise<unknown>>();
    const single: Promise<unknown>[] = [];
    ops.forEach((op, i) => {
      if (isInvalidOp(op)) {
        results[i] = batchErrorResult(op.error);
      } else if (op.op !== 'get' && occurrences.get(op.key) === 1) {
        bulk.push(i);
      } else {
        const previous = lastOfKey.get(op.key);
        const run = (): Promise<void> =>
          this.batchOp(op, w, r, requestId, scope, answer).then((result) => void (results[i] = result));
        const done = previous === undefined ? run() : previous.then(run);
        lastOfKey.set(op.key, done);
        single.push(done);
      }
    });
    if (bulk.length > 0) single.push(this.bulkWrite(ops as BatchOp[], bulk, w, results, requestId, scope));
    await Promise.all(single);
    return { results };
  }

  /** Writes the operations at `indexes` (sets and deletes of distinct keys) as one bulk write. */
  private async bulkWrite(
    ops: readonly BatchOp[],
    indexes: number[],
    w: number | undefined,
    results: BatchResult[],
    requestId?: string,
    scope?: RequestScope,
  ): Promise<void> {
    const ready = this.versions.ready();
    if (ready !== undefined) await ready;
    const entries = indexes.map((i) => {
      const op = ops[i];
      if (op.op !== 'set') return { key: op.key, value: null };
      return op.ttl === undefined ? { key: op.key, value: op.value } : { key: op.key, value: op.value, ttlMs: op.ttl * 1000 };
    });
    let outcomes: Awaited<ReturnType<Replicator['writeMany']>>;
    try {
      outcomes = await this.replicator.writeMany(entries, { w, requestId, scope });
    } catch (thrown) {
      const failed = batchErrorResult(thrown);
      for (const i of indexes) results[i] = failed;
      return;
    }
    outcomes.forEach((outcome, j) => {
      const i = indexes[j];
      if (outcome instanceof Error) results[i] = batchErrorResult(outcome);
      else if (outcome.expiresAt === undefined) results[i] = { status: 200, key: entries[j].key, version: outcome.version, acks: outcome.acks };
      else results[i] = { status: 200, key: entries[j].key, version: outcome.version, acks: outcome.acks, expiresAt: outcome.expiresAt };
    });
  }

  private async batchOp(
    op: BatchOp,
    w: number | undefined,
    r: number | undefined,
    requestId: string | undefined,
    scope: RequestScope | undefined,
    answer: BatchAnswer,
  ): Promise<BatchResult> {
    try {
      endedOf(scope);
      switch (op.op) {
        case 'set':
          return { status: 200, ...(await this.set(op.key, op.value, w, requestId, scope, op.ttl)) };
        case 'get': {
          // A read whose answer is already full fails at once, without reading: the rest of a batch of large values
          // costs nothing. At most BATCH_READS_IN_FLIGHT_MAX reads of one batch are in flight, so the values read
          // beyond the bound are few.
          const found = await answer.read(() => {
            endedOf(scope);
            return this.read(op.key, r, requestId, scope);
          });
          return { status: 200, ...(found as GetResponse) };
        }
        case 'del':
          return { status: 200, ...(await this.del(op.key, w, requestId, scope)) };
      }
    } catch (thrown) {
      return batchErrorResult(thrown);
    }
  }

  /** A write, expiring `ttl` seconds after its version's time when `ttl` is given. */
  private async set(key: string, value: string, w: number | undefined, requestId?: string, scope?: RequestScope, ttl?: number): Promise<PutResponse> {
    const ready = this.versions.ready();
    if (ready !== undefined) await ready;
    const result = await this.replicator.set(key, value, ttl === undefined ? { w, requestId, scope } : { w, requestId, scope, ttlMs: ttl * 1000 });
    return result.expiresAt === undefined
      ? { key, version: result.version, acks: result.acks }
      : { key, version: result.version, acks: result.acks, expiresAt: result.expiresAt };
  }

  /** A read; an expired key is not found (this proxy's clock decides, see `Replicator.get`). */
  private async read(key: string, r: number | undefined, requestId?: string, scope?: RequestScope): Promise<GetResponse> {
    const found = await this.replicator.get(key, { r, requestId, scope });
    if (found === undefined) throw new KvError(ErrorCode.NotFound, 'no such key');
    return found.expiresAt === undefined
      ? { key, value: found.value, version: found.version }
      : { key, value: found.value, version: found.version, expiresAt: found.expiresAt };
  }

  private async del(key: string, w: number | undefined, requestId?: string, scope?: RequestScope): Promise<DeleteResponse> {
    const ready = this.versions.ready();
    if (ready !== undefined) await ready;
    const result = await this.replicator.delete(key, { w, requestId, scope });
    return { key, version: result.version, acks: result.acks };
  }

  private quorum(query: Query | undefined, name: string): number | undefined {
    if (query === undefined) return undefined;
    const values = query.getAll(name);
    // A parameter given twice is refused, not silently resolved to one of its values.
    return values.length === 0 ? undefined : parseQuorumParam(values.length === 1 ? values[0] : values, this.replicas, name);
  }
}

/** Throws why the request ended (its deadline passed, its client went away), if it did: its next operation is not started. */
function endedOf(scope: RequestScope | undefined): void {
  const ended = scope?.ended;
  if (ended !== undefined) throw ended;
}
