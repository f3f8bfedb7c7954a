import {
  ErrorCode,
  KvError,
  decodeReadResult,
  decodeWriteResult,
  encodeInternalBatch,
  isInternalOpError,
  kvErrorFromOpError,
  readOpOf,
  utf8ByteLength,
  writeOpOf,
  type InternalOp,
  type InternalOpResult,
} from '@kv/protocol';
import type { RequestScope } from './request-scope';
import { afterThisTurn, systemClock } from './system-clock';
import type { Clock } from './time';
import type { ReplicaEntry, Transport, WriteReply, WriteRequest } from './transport';

/**
 * A batch of internal operations on its way to one or more nodes. When several nodes get exactly the same operations
 * (with three nodes every key has the same replica set), they share one batch, and its body is serialized once.
 */
export class OutgoingBatch {
  private encoded: Buffer | undefined;

  /**
   * @param requestId identifies the batch in the nodes' logs: the id of its first client request, followed by
   *   `+<n>` when n more requests share the batch.
   */
  constructor(
    readonly ops: readonly InternalOp[],
    readonly requestId?: string,
  ) {}

  /** The body of `POST /internal/batch` (the internal codec's), encoded once however many nodes it goes to. */
  bytes(): Buffer {
    if (this.encoded === undefined) this.encoded = encodeInternalBatch(this.ops);
    return this.encoded;
  }
}

/**
 * Sends one batch to one node (the I/O half of {@link BatchingTransport}).
 *
 * Contract: resolves with exactly one result per operation, in order, or rejects as a whole (node unreachable,
 * timeout, error answer); settles within about `timeoutMs`.
 */
export interface BatchSender {
  send(nodeId: string, batch: OutgoingBatch, timeoutMs: number): Promise<InternalOpResult[]>;
}

/** Options of {@link BatchingTransport}. */
export interface BatchingTransportOptions {
  sender: BatchSender;
  /** Time source for deadlines (default the system clock). */
  clock?: Clock;
  /** Runs a function after the current event-loop turn (default {@link afterThisTurn}). */
  schedule?: (callback: () => void) => void;
  /**
   * Operations per batch (default {@link REPLICA_BATCH_OPS_MAX_DEFAULT}); a safety cap, since batches grow with load by
   * themselves.
   */
  batchOpsMax?: number;
  /**
   * Bytes of UTF-8 of the keys and values of a batch (default {@link REPLICA_BATCH_BYTES_MAX_DEFAULT}); one larger
   * operation (or group) goes alone.
   */
  batchBytesMax?: number;
  /** Batches in flight per node (default {@link IN_FLIGHT_MAX_DEFAULT}). */
  inFlightMax?: number;
  /** Operations waiting per node before new ones are refused (default {@link QUEUE_OPS_MAX_DEFAULT}). */
  queueOpsMax?: number;
}

/** Batches of at most this many operations: large enough that batching pays, small enough to bound latency. */
export const REPLICA_BATCH_OPS_MAX_DEFAULT = 512;
/** Batches of at most about this many key and value bytes, so a few large values do not make a huge request. */
export const REPLICA_BATCH_BYTES_MAX_DEFAULT = 4 * 1024 * 1024;
/** One batch in flight per node: operations arriving meanwhile form the next batch, so batches grow with load. */
export const IN_FLIGHT_MAX_DEFAULT = 1;
/** Operations waiting for one node before the transport sheds load: about a few seconds of peak traffic. */
export const QUEUE_OPS_MAX_DEFAULT = 50_000;

interface Pending {
  /** The operation, or the first of a group (the operations of one `writeMany`, kept together in one batch). */
  readonly op: InternalOp;
  /** Every operation of a group; `undefined` for a single operation. */
  readonly group: readonly InternalOp[] | undefined;
  /** Operations this entry carries. */
  readonly size: number;
  readonly enqueuedMs: number;
  readonly timeoutMs: number;
  readonly bytes: number;
  readonly requestId: string | undefined;
  /** The client request's deadline and cancellation, checked when the entry is taken into a batch. */
  readonly scope: RequestScope | undefined;
  /** Receives the operation's result, or for a group the array of its results. */
  readonly resolve: (result: InternalOpResult | InternalOpResult[]) => void;
  readonly reject: (error: Error) => void;
}

interface NodeQueue {
  readonly nodeId: string;
  pending: Pending[];
  /** Operations in `pending` (a group counts for each of its operations). */
  queuedOps: number;
  inFlight: number;
}

/**
 * A {@link Transport} that coalesces operations: those arriving during one event-loop turn are queued per node and
 * sent as one batch per node after the turn, one batch in flight per node; operations arriving while a batch is in
 * flight form the next one. Nodes that get identical operations share one serialized body.
 *
 * Each operation keeps the semantics of a single request: it gets its own result, and it settles within about its
 * `timeoutMs` (an operation still queued when its deadline passes is rejected without being sent).
 */
export class BatchingTransport implements Transport {
  private readonly sender: BatchSender;
  private readonly clock: Clock;
  private readonly schedule: (callback: () => void) => void;
  private readonly batchOpsMax: number;
  private readonly batchBytesMax: number;
  private readonly inFlightMax: number;
  private readonly queueOpsMax: number;
  private readonly queues = new Map<string, NodeQueue>();
  private readonly dirty = new Set<NodeQueue>();
  private flushScheduled = false;
  /** The wire form of each write request, so that replicas of one write share the same op (and body). */
  private readonly writeOps = new WeakMap<WriteRequest, InternalOp>();
  /** The wire form of each `writeMany` group, for the same reason. */
  private readonly groupOps = new WeakMap<readonly WriteRequest[], InternalOp[]>();
  /** Read ops created during the current turn, by key, for the same reason. */
  private readOps = new Map<string, InternalOp>();

  constructor(options: BatchingTransportOptions) {
    this.sender = options.sender;
    this.clock = options.clock ?? systemClock;
    this.schedule = options.schedule ?? afterThisTurn;
    this.batchOpsMax = positiveInteger('batchOpsMax', options.batchOpsMax ?? REPLICA_BATCH_OPS_MAX_DEFAULT);
    this.batchBytesMax = positiveInteger('batchBytesMax', options.batchBytesMax ?? REPLICA_BATCH_BYTES_MAX_DEFAULT);
    this.inFlightMax = positiveInteger('inFlightMax', options.inFlightMax ?? IN_FLIGHT_MAX_DEFAULT);
    this.queueOpsMax = positiveInteger('queueOpsMax', options.queueOpsMax ?? QUEUE_OPS_MAX_DEFAULT);
  }

  write(nodeId: string, request: WriteRequest, timeoutMs: number, requestId?: string, scope?: RequestScope): Promise<WriteReply> {
    return this.enqueue(nodeId, this.opOf(request), undefined, writeBytes(request), timeoutMs, requestId, scope).then((result) =>
      decodeWriteResult(result as InternalOpResult),
    );
  }

  /**
   * Sends many writes to one node as one group: they travel together in one batch (a group larger than the batch cap
   * goes alone). Nodes given the same `requests` array share its serialized form.
   * @returns one reply or error per request, in order; rejects as a whole when the node cannot be reached in time.
   */
  writeMany(
    nodeId: string,
    requests: readonly WriteRequest[],
    timeoutMs: number,
    requestId?: string,
    scope?: RequestScope,
  ): Promise<(WriteReply | Error)[]> {
    if (requests.length === 0) return Promise.resolve([]);
    let group = this.groupOps.get(requests);
    if (group === undefined) {
      // Not through opOf: a group is shared as a whole, its operations need no identity of their own.
      group = requests.map(writeOpOf);
      this.groupOps.set(requests, group);
    }
    let bytes = 0;
    for (const request of requests) bytes += writeBytes(request);
    return this.enqueue(nodeId, group[0], group, bytes, timeoutMs, requestId, scope).then((results) =>
      (results as InternalOpResult[]).map((result) => {
        if (isInternalOpError(result)) return kvErrorFromOpError(result);
        try {
          return decodeWriteResult(result);
        } catch (error) {
          return error as Error;
        }
      }),
    );
  }

  private opOf(request: WriteRequest): InternalOp {
    let op = this.writeOps.get(request);
    if (op === undefined) {
      op = writeOpOf(request);
      this.writeOps.set(request, op);
    }
    return op;
  }

  read(nodeId: string, key: string, timeoutMs: number, requestId?: string, scope?: RequestScope): Promise<ReplicaEntry | undefined> {
    let op = this.readOps.get(key);
    if (op === undefined) {
      op = readOpOf(key);
      this.readOps.set(key, op);
    }
    return this.enqueue(nodeId, op, undefined, utf8ByteLength(key), timeoutMs, requestId, scope).then((result) =>
      decodeReadResult(result as InternalOpResult),
    );
  }

  /** Operations queued and not yet sent, over all nodes. */
  get queued(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.queuedOps;
    return total;
  }

  private enqueue(
    nodeId: string,
    op: InternalOp,
    group: readonly InternalOp[] | undefined,
    bytes: number,
    timeoutMs: number,
    requestId: string | undefined,
    scope: RequestScope | undefined,
  ): Promise<InternalOpResult | InternalOpResult[]> {
    let queue = this.queues.get(nodeId);
    if (queue === undefined) {
      queue = { nodeId, pending: [], queuedOps: 0, inFlight: 0 };
      this.queues.set(nodeId, queue);
    }
    const size = group === undefined ? 1 : group.length;
    if (queue.queuedOps + size > this.queueOpsMax) {
      return Promise.reject(
        new KvError(ErrorCode.Unavailable, `node ${nodeId}: ${queue.queuedOps} operations already waiting`),
      );
    }
    const target = queue;
    return new Promise((resolve, reject) => {
      target.pending.push({ op, group, size, enqueuedMs: this.clock.now(), timeoutMs, bytes, requestId, scope, resolve, reject });
      target.queuedOps += size;
      this.markDirty(target);
    });
  }

  private markDirty(queue: NodeQueue): void {
    this.dirty.add(queue);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    this.readOps = new Map();
    const now = this.clock.now();
    const outgoing: { queue: NodeQueue; entries: Pending[]; timeoutMs: number }[] = [];
    const queues = [...this.dirty];
    this.dirty.clear();
    for (const queue of queues) {
      // A queue at its in-flight limit is flushed again when one of its batches settles.
      while (queue.inFlight < this.inFlightMax && queue.pending.length > 0) {
        const taken = this.take(queue, now);
        if (taken === undefined) break;
        queue.inFlight += 1;
        outgoing.push({ queue, ...taken });
      }
    }
    // Queues with identical operations share one batch, so its body is serialized once. Keyed by the first op,
    // then compared element by element.
    const shared = new Map<InternalOp, { entries: Pending[]; batch: OutgoingBatch }[]>();
    for (const item of outgoing) {
      const candidates = shared.get(item.entries[0].op) ?? [];
      let batch = candidates.find((candidate) => sameOps(candidate.entries, item.entries))?.batch;
      if (batch === undefined) {
        batch = new OutgoingBatch(opsOf(item.entries), batchRequestId(item.entries));
        candidates.push({ entries: item.entries, batch });
        shared.set(item.entries[0].op, candidates);
      }
      this.send(item.queue, item.entries, batch, item.timeoutMs);
    }
  }

  /**
   * Takes the next batch off a queue, rejecting operations whose deadline passed while they waited, and those whose
   * client request ended (its deadline passed, or it was given up: see {@link RequestScope}). The batch's timeout is
   * the least time left to any of its operations, their requests' deadlines included.
   */
  private take(queue: NodeQueue, now: number): { entries: Pending[]; timeoutMs: number } | undefined {
    const entries: Pending[] = [];
    let bytes = 0;
    let ops = 0;
    let timeoutMs = Infinity;
    let i = 0;
    const pending = queue.pending;
    for (; i < pending.length; i++) {
      const entry = pending[i];
      let remainingMs = entry.enqueuedMs + entry.timeoutMs - now;
      if (remainingMs <= 0) {
        queue.queuedOps -= entry.size;
        entry.reject(timeoutError(queue.nodeId, entry.timeoutMs));
        continue;
      }
      if (entry.scope !== undefined) {
        const ended = entry.scope.stopped(now);
        if (ended !== undefined) {
          queue.queuedOps -= entry.size;
          entry.reject(ended);
          continue;
        }
        remainingMs = Math.min(remainingMs, entry.scope.deadlineMs - now);
      }
      // The caps bound a batch, but an entry larger than them (a big group, a big value) still goes, alone.
      if (entries.length > 0 && (ops + entry.size > this.batchOpsMax || bytes + entry.bytes > this.batchBytesMax)) break;
      entries.push(entry);
      queue.queuedOps -= entry.size;
      ops += entry.size;
      bytes += entry.bytes;
      if (remainingMs < timeoutMs) timeoutMs = remainingMs;
    }
    queue.pending = i === pending.length ? [] : pending.slice(i);
    return entries.length === 0 ? undefined : { entries, timeoutMs };
  }

  /** Sends a batch already counted in `queue.inFlight`. */
  private send(queue: NodeQueue, entries: Pending[], batch: OutgoingBatch, timeoutMs: number): void {
    const done = (): void => {
      queue.inFlight -= 1;
      if (queue.pending.length > 0) this.markDirty(queue);
    };
    let reply: Promise<InternalOpResult[]>;
    try {
      reply = this.sender.send(queue.nodeId, batch, timeoutMs);
    } catch (error) {
      reply = Promise.reject(error);
    }
    reply.then(
      (results) => {
        done();
        if (results.length !== batch.ops.length) {
          const error = new KvError(
            ErrorCode.Internal,
            `node ${queue.nodeId} answered ${results.length} results for ${batch.ops.length} operations`,
          );
          for (const entry of entries) entry.reject(error);
          return;
        }
        let offset = 0;
        for (const entry of entries) {
          if (entry.group !== undefined) {
            entry.resolve(results.slice(offset, offset + entry.size));
          } else {
            const result = results[offset];
            if (isInternalOpError(result)) entry.reject(kvErrorFromOpError(result));
            else entry.resolve(result);
          }
          offset += entry.size;
        }
      },
      (error: unknown) => {
        done();
        const reason = error instanceof Error ? error : new Error(String(error));
        for (const entry of entries) entry.reject(reason);
      },
    );
  }
}

function batchRequestId(entries: readonly Pending[]): string | undefined {
  const first = entries.find((entry) => entry.requestId !== undefined)?.requestId;
  if (first === undefined || entries.length === 1) return first;
  // Request ids are at most 128 characters on the wire: keep room for the suffix.
  return `${first.slice(0, 120)}+${entries.length - 1}`;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function sameOps(a: readonly Pending[], b: readonly Pending[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].op !== b[i].op || a[i].group !== b[i].group) return false;
  return true;
}

/** Bytes of UTF-8 of a write's key and value: what counts toward a batch's byte cap. */
function writeBytes(request: WriteRequest): number {
  return utf8ByteLength(request.key) + (request.value === null ? 0 : utf8ByteLength(request.value));
}

/** The operations of a batch's entries, groups flattened, in order. */
function opsOf(entries: readonly Pending[]): InternalOp[] {
  const ops: InternalOp[] = [];
  for (const entry of entries) {
    if (entry.group === undefined) ops.push(entry.op);
    else for (const op of entry.group) ops.push(op);
  }
  return ops;
}

function timeoutError(nodeId: string, timeoutMs: number): KvError {
  return new KvError(ErrorCode.Unavailable, `node ${nodeId}: no answer within ${timeoutMs} ms`);
}
