import {
  ErrorCode,
  KvError,
  decodeInternalResults,
  decodeReadResult,
  decodeWriteResult,
  encodeInternalBatch,
  readOpOf,
  writeOpOf,
  type Ballot,
  type ClusterMap,
  type InternalEntryLine,
  type InternalOp,
  type InternalOpResult,
  type PaxosReply,
  type StreamProgress,
} from '@kv/protocol';
import type { HashRange } from '@kv/ring';
import type { BatchSender, OutgoingBatch } from '../batching-transport';
import { systemClock } from '../system-clock';
import type { Clock, Timers } from '../time';
import type { RangeDigest, VersionLine } from '../replica-service';
import type { ReplicaEntry, Transport } from '../transport';
import { InMemoryNode } from './in-memory-node';

/** A fault of one node, as the coordinator experiences it. Faults combine; `down` wins. */
export interface NodeFault {
  /** Unreachable: calls fail at once, as with a refused connection. Nothing is applied. */
  down?: boolean;
  /** Calls fail at once with an error answer. Nothing is applied. */
  error?: boolean;
  /** Nothing comes back and nothing is applied (a cut link): calls fail at their deadline. */
  hang?: boolean;
  /**
   * Round-trip time in ms: the request reaches the node (and is applied) after half of it, the reply comes back
   * after all of it. A delay past the deadline makes the call fail at its deadline although the write is applied
   * (a reply after the deadline).
   */
  delayMs?: number;
  /** Writes are applied but their replies are lost: calls fail at their deadline. */
  dropReplies?: boolean;
}

/** Picks the fault of each call; lets property tests inject random faults per call. */
export type FaultPolicy = (nodeId: string, kind: 'read' | 'write') => NodeFault | undefined;

/** Options of {@link InMemoryCluster}. */
/** Who calls the nodes: a coordinator's `x-kv-coordinator` claim and the epoch of its cluster map. */
export interface InMemoryCaller {
  claim?: string;
  epoch?: () => number;
}

export interface InMemoryClusterOptions {
  /** Virtual or real time (default: the system's). */
  clock?: Clock & Timers;
  /** The nodes' `MAX_CLOCK_SKEW_MS` (default the data node's). */
  maxClockSkewMs?: number;
  /** How far each node's wall clock is ahead of `clock` (negative: behind), in ms; default 0 for every node. */
  nodeClockOffsetsMs?: Readonly<Record<string, number>>;
}

/**
 * Data nodes in memory, reachable through a {@link Transport} or a {@link BatchSender}, with injectable faults:
 * a node down, slow, failing, hanging, losing replies, or replying after the deadline. The coordinator's tests (and
 * anyone testing code built on the replicator) use it to play every failure order without a network.
 */
export class InMemoryCluster {
  readonly nodes = new Map<string, InMemoryNode>();
  private readonly faults = new Map<string, NodeFault>();
  private policy: FaultPolicy | undefined;
  private readonly clock: Clock & Timers;
  /** Calls made, by kind, for tests that count round trips. */
  readonly calls = { read: 0, write: 0, batch: 0 };

  private readonly maxClockSkewMs: number | undefined;

  constructor(nodeIds: readonly string[], options: InMemoryClusterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxClockSkewMs = options.maxClockSkewMs;
    for (const id of nodeIds) {
      const offsetMs = options.nodeClockOffsetsMs?.[id] ?? 0;
      const clock = offsetMs === 0 ? this.clock : { now: () => this.clock.now() + offsetMs };
      this.nodes.set(id, new InMemoryNode(id, clock, options.maxClockSkewMs));
    }
  }

  /**
   * Runs every node's sweep of expired values once (as a data node does every second): each converts what expired
   * more than its `MAX_CLOCK_SKEW_MS` ago on its own clock. Resolves with the values converted, per node.
   */
  async sweepExpired(): Promise<Map<string, number>> {
    const converted = new Map<string, number>();
    for (const [id, node] of this.nodes) converted.set(id, await node.service.sweepExpired());
    return converted;
  }

  /** The node `id`. @throws TypeError if there is none. */
  node(id: string): InMemoryNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new TypeError(`no node ${id}`);
    return node;
  }

  /** Sets (or, with `undefined`, clears) the standing fault of a node. */
  setFault(id: string, fault: NodeFault | undefined): void {
    this.node(id);
    if (fault === undefined) this.faults.delete(id);
    else this.faults.set(id, fault);
  }

  /** Clears every standing fault and the policy. */
  heal(): void {
    this.faults.clear();
    this.policy = undefined;
  }

  /** Sets a policy consulted on every call, in addition to standing faults. */
  setFaultPolicy(policy: FaultPolicy | undefined): void {
    this.policy = policy;
  }

  /**
   * A transport with one call per operation (each a batch of one, through the internal codec). With `claim` (the
   * `x-kv-coordinator` header of a coordinator), every call is admitted by the node's registry of coordinators.
   */
  transport(caller?: string | InMemoryCaller): Transport {
    const who = callerOf(caller);
    return {
      write: async (nodeId, request, timeoutMs) => {
        this.calls.write += 1;
        const [result] = await this.exchange(nodeId, 'write', timeoutMs, [writeOpOf(request)], who);
        return decodeWriteResult(result);
      },
      read: async (nodeId, key, timeoutMs) => {
        this.calls.read += 1;
        const [result] = await this.exchange(nodeId, 'read', timeoutMs, [readOpOf(key)], who);
        return decodeReadResult(result);
      },
    };
  }

  /** A batch sender serving each batch as a data node's batch endpoint does, through the internal codec. */
  batchSender(caller?: string | InMemoryCaller): BatchSender {
    const who = callerOf(caller);
    return {
      send: (nodeId: string, batch: OutgoingBatch, timeoutMs: number): Promise<InternalOpResult[]> => {
        this.calls.batch += 1;
        const kind = batch.ops.some((op) => op[0] !== 'g') ? 'write' : 'read';
        return this.call(nodeId, kind, timeoutMs, (node) => node.serveBatch(batch.bytes(), who.claim, who.epoch?.())).then((answer) =>
          decodeInternalResults(answer, batch.ops.length),
        );
      },
    };
  }

  /** Adds a data node (empty, a new incarnation not filled): one to join the cluster. */
  addNode(id: string): InMemoryNode {
    if (this.nodes.has(id)) throw new TypeError(`node ${id} exists`);
    const node = new InMemoryNode(id, this.clock, this.maxClockSkewMs);
    node.wipe();
    this.nodes.set(id, node);
    return node;
  }

  /** `GET /internal/map`. */
  readMap(nodeId: string, timeoutMs = 1000): Promise<ClusterMap | null> {
    return this.call(nodeId, 'read', timeoutMs, async (node) => node.service.map);
  }

  /** `POST /internal/map/prepare`. */
  prepare(nodeId: string, epoch: number, ballot: Ballot, timeoutMs = 1000): Promise<PaxosReply> {
    return this.call(nodeId, 'write', timeoutMs, (node) => node.service.prepare(epoch, ballot));
  }

  /** `POST /internal/map/accept`. */
  accept(nodeId: string, ballot: Ballot, map: ClusterMap, timeoutMs = 1000): Promise<PaxosReply> {
    return this.call(nodeId, 'write', timeoutMs, (node) => node.service.accept(ballot, map));
  }

  /** `POST /internal/map/commit`. */
  commitMap(nodeId: string, map: ClusterMap, timeoutMs = 1000): Promise<number> {
    return this.call(nodeId, 'write', timeoutMs, (node) => node.service.commit(map));
  }

  /** The entries of some hash ranges a node holds, as `GET /internal/entries?ranges=` streams them. */
  async *rangeEntries(nodeId: string, ranges: readonly HashRange[]): AsyncGenerator<InternalEntryLine> {
    const listed = await this.call(nodeId, 'read', 1000, async (node) => [...node.service.entriesIn(ranges)]);
    yield* listed;
  }

  /** `POST /internal/digests`. */
  digests(nodeId: string, ranges: readonly HashRange[], buckets: boolean, timeoutMs = 1000): Promise<RangeDigest[]> {
    return this.call(nodeId, 'read', timeoutMs, async (node) => node.service.digests(ranges, buckets));
  }

  /** `POST /internal/versions`. */
  versions(nodeId: string, ranges: readonly HashRange[], tombstonesBeforeMs?: number, timeoutMs = 1000): Promise<VersionLine[]> {
    return this.call(nodeId, 'read', timeoutMs, async (node) => node.service.versions(ranges, 100_000, tombstonesBeforeMs));
  }

  /** `POST /internal/purge`. */
  purge(nodeId: string, epoch: number, entries: readonly (readonly [string, string])[], timeoutMs = 1000): Promise<number> {
    return this.call(nodeId, 'write', timeoutMs, (node) => node.service.purge(epoch, entries));
  }

  /** `GET /internal/stream?change=`. */
  streamProgress(nodeId: string, change: string, timeoutMs = 1000): Promise<StreamProgress> {
    return this.call(nodeId, 'read', timeoutMs, async (node) => node.service.streamProgress(change));
  }

  /** `POST /internal/stream`. */
  recordStream(nodeId: string, change: string, ranges: readonly number[], keys = 0, bytes = 0, timeoutMs = 1000): Promise<StreamProgress> {
    return this.call(nodeId, 'write', timeoutMs, (node) => node.service.recordStream(change, ranges, keys, bytes));
  }

  /** A coordinator's status probe of a node (`GET /internal/status`), renewing its lease; fails under a fault. */
  status(nodeId: string, claim?: string, timeoutMs = 1000): Promise<ReturnType<InMemoryNode['status']>> {
    return this.call(nodeId, 'read', timeoutMs, async (node) => node.status(claim));
  }

  /** A coordinator registering with a node (`POST /internal/coordinators`); fails under a fault. */
  register(nodeId: string, claim: string, timeoutMs = 1000): Promise<ReturnType<InMemoryNode['register']>> {
    return this.call(nodeId, 'write', timeoutMs, async (node) => node.register(claim));
  }

  /** A coordinator telling a node that its refill is complete (`POST /internal/filled`); fails under a fault. */
  markFilled(nodeId: string, incarnation: string, timeoutMs = 1000): Promise<void> {
    return this.call(nodeId, 'write', timeoutMs, (node) => node.service.markFilled(incarnation));
  }

  /**
   * Lists every entry a node holds, tombstones included, as `GET /internal/entries` streams them (an `EntrySource`);
   * fails at once when the node is down or failing.
   */
  async *entries(nodeId: string): AsyncGenerator<InternalEntryLine> {
    const listed = await this.call(nodeId, 'read', 1000, async (node) => [...node.dump()]);
    for (const [key, entry] of listed) {
      yield entry.value === null || entry.expiresAt === undefined ? [key, entry.version, entry.value] : [key, entry.version, entry.value, entry.expiresAt];
    }
  }

  private exchange(nodeId: string, kind: 'read' | 'write', timeoutMs: number, ops: InternalOp[], who: InMemoryCaller): Promise<InternalOpResult[]> {
    return this.call(nodeId, kind, timeoutMs, (node) => node.serveBatch(encodeInternalBatch(ops), who.claim, who.epoch?.())).then((answer) =>
      decodeInternalResults(answer, ops.length),
    );
  }

  private faultOf(nodeId: string, kind: 'read' | 'write'): NodeFault {
    const standing = this.faults.get(nodeId);
    const drawn = this.policy?.(nodeId, kind);
    if (standing === undefined) return drawn ?? {};
    if (drawn === undefined) return standing;
    return {
      down: standing.down || drawn.down,
      error: standing.error || drawn.error,
      hang: standing.hang || drawn.hang,
      dropReplies: standing.dropReplies || drawn.dropReplies,
      delayMs: Math.max(standing.delayMs ?? 0, drawn.delayMs ?? 0),
    };
  }

  private call<T>(
    nodeId: string,
    kind: 'read' | 'write',
    timeoutMs: number,
    handle: (node: InMemoryNode) => Promise<T>,
  ): Promise<T> {
    const node = this.node(nodeId);
    const fault = this.faultOf(nodeId, kind);
    const clock = this.clock;
    return new Promise<T>((resolve, reject) => {
      if (fault.down) {
        clock.setTimeout(() => reject(new KvError(ErrorCode.Unavailable, `node ${nodeId} is down`)), 0);
        return;
      }
      if (fault.error) {
        clock.setTimeout(() => reject(new KvError(ErrorCode.Internal, `node ${nodeId} failed`)), 0);
        return;
      }
      const timeout = (): void => reject(new KvError(ErrorCode.Unavailable, `node ${nodeId}: no answer in ${timeoutMs} ms`));
      if (fault.hang) {
        clock.setTimeout(timeout, timeoutMs);
        return;
      }
      const delayMs = fault.delayMs ?? 0;
      let result: Promise<T> | undefined;
      clock.setTimeout(() => {
        result = handle(node);
        // The outcome is collected at reply time; a failure to apply is reported then, never as unhandled.
        result.catch(() => undefined);
      }, delayMs / 2);
      if (fault.dropReplies || delayMs >= timeoutMs) {
        clock.setTimeout(timeout, timeoutMs);
        return;
      }
      clock.setTimeout(() => resolve(result as Promise<T>), delayMs);
    });
  }
}

/** Reads what every node holds for `key`, for assertions. */
export function replicaStates(cluster: InMemoryCluster, key: string): Map<string, ReplicaEntry | undefined> {
  const states = new Map<string, ReplicaEntry | undefined>();
  for (const [id, node] of cluster.nodes) states.set(id, node.get(key));
  return states;
}

function callerOf(caller: string | InMemoryCaller | undefined): InMemoryCaller {
  return typeof caller === 'string' ? { claim: caller } : (caller ?? {});
}
