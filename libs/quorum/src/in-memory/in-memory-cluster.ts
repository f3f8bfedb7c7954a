import { ErrorCode, KvError, type InternalOpResult } from '@kv/protocol';
import type { BatchSender, OutgoingBatch } from '../batching-transport';
import type { Clock, ReplicaEntry, Timers, Transport, WriteReply, WriteRequest } from '../transport';
import { systemClock } from '../transport';
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
export interface InMemoryClusterOptions {
  /** Virtual or real time (default: the system's). */
  clock?: Clock & Timers;
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

  constructor(nodeIds: readonly string[], options: InMemoryClusterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    for (const id of nodeIds) this.nodes.set(id, new InMemoryNode(id));
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

  /** A transport with one call per operation. */
  transport(): Transport {
    return {
      write: (nodeId, request, timeoutMs) => {
        this.calls.write += 1;
        return this.call(nodeId, 'write', timeoutMs, (node) => node.apply(request));
      },
      read: (nodeId, key, timeoutMs) => {
        this.calls.read += 1;
        return this.call(nodeId, 'read', timeoutMs, (node) => node.get(key));
      },
    };
  }

  /** A batch sender applying each batch as a data node's batch endpoint does. */
  batchSender(): BatchSender {
    return {
      send: (nodeId: string, batch: OutgoingBatch, timeoutMs: number): Promise<InternalOpResult[]> => {
        this.calls.batch += 1;
        const kind = batch.ops.some((op) => op[0] !== 'g') ? 'write' : 'read';
        return this.call(nodeId, kind, timeoutMs, (node) =>
          batch.ops.map((op): InternalOpResult => {
            if (op[0] === 'g') {
              const entry = node.get(op[1]);
              return entry === undefined ? null : [entry.version, entry.value];
            }
            const request: WriteRequest =
              op[0] === 's' ? { key: op[1], value: op[2], version: op[3] } : { key: op[1], value: null, version: op[2] };
            const reply: WriteReply = node.apply(request);
            return [reply.applied ? 1 : 0, reply.version];
          }),
        );
      },
    };
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
    handle: (node: InMemoryNode) => T,
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
      let result: T;
      clock.setTimeout(() => {
        result = handle(node);
      }, delayMs / 2);
      if (fault.dropReplies || delayMs >= timeoutMs) {
        clock.setTimeout(timeout, timeoutMs);
        return;
      }
      clock.setTimeout(() => resolve(result), delayMs);
    });
  }
}

/** Reads what every node holds for `key`, for assertions. */
export function replicaStates(cluster: InMemoryCluster, key: string): Map<string, ReplicaEntry | undefined> {
  const states = new Map<string, ReplicaEntry | undefined>();
  for (const [id, node] of cluster.nodes) states.set(id, node.get(key));
  return states;
}
