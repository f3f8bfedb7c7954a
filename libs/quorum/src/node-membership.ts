import type { NodeHealth } from './node-health';
import type { Refiller, RefillReport } from './refiller';
import type { Clock, Timers } from './time';

/** Pause before a failed or impossible refill is tried again. */
export const REFILL_RETRY_MS = 2000;

/** A data node's state as coordinators see it. */
export type NodeState = 'ready' | 'refilling';

/** What a probe tells of a node's data. */
export interface NodeDataState {
  /** The identity of its data directory. */
  readonly incarnation: string;
  /** False while it holds a new incarnation that no coordinator has refilled yet. */
  readonly filled: boolean;
}

/** What {@link NodeMembership} reports, for logs and metrics. Each must be cheap and must not throw. */
export interface NodeMembershipEvents {
  /** A node reports data that no coordinator refilled yet: it does not count toward quorums until it is. */
  lostData?(nodeId: string, incarnation: string, previous: string | undefined): void;
  /** A refill completed and the node recorded it: the node counts. */
  refilled?(nodeId: string, report: RefillReport, durationMs: number): void;
  /** A refill failed; it is tried again after {@link REFILL_RETRY_MS}. */
  refillFailed?(nodeId: string, error: unknown): void;
  /** A node entered or left the `refilling` state. */
  stateChanged?(nodeId: string, state: NodeState): void;
}

/** Options of {@link NodeMembership}. */
export interface NodeMembershipOptions {
  nodeIds: readonly string[];
  health: NodeHealth;
  refiller: Refiller;
  /** Tells the transport which incarnation a node must have (it sends it with every request). */
  expectIncarnation(nodeId: string, incarnation: string): void;
  /** Tells a node that its refill for `incarnation` is complete (`POST /internal/filled`); it records it durably. */
  markFilled(nodeId: string, incarnation: string): Promise<void>;
  /**
   * Whether a node joins the cluster in a membership change's `copy` phase: it owns nothing yet that a read relies on,
   * and streaming brings it its ranges, so it is counted (for writes) without a refill. Default: never.
   */
  joinsEmpty?(nodeId: string): boolean;
  clock: Clock;
  timers: Timers;
  events?: NodeMembershipEvents;
}

/**
 * Decides which data nodes count toward quorums. A data node that starts on an empty data directory creates a new
 * incarnation and reports itself not `filled`: it may lack acknowledged writes, so no coordinator counts it (it still
 * receives writes) until one of them has copied its peers' data to it and told it so; the node records that durably,
 * and every coordinator counts it again at its next probe. The state lives on the node, so every coordinator, also
 * one started later, agrees on it.
 *
 * Per node: `refilling` while the node reports `filled: false` (a refill runs whenever the node and every peer that
 * counts are up, retried every {@link REFILL_RETRY_MS}), `ready` otherwise. The incarnation a probe reports is sent
 * with every later request, which the node refuses if it is not its own: a node wiped between two probes is never
 * counted on the strength of the earlier one.
 */
export class NodeMembership {
  private readonly known = new Map<string, NodeDataState>();
  private refilling: Promise<void> | undefined;
  private retryTimer: unknown;
  private stopped = false;
  private readonly events: NodeMembershipEvents;
  private nodeIds: readonly string[];

  constructor(private readonly options: NodeMembershipOptions) {
    this.events = options.events ?? {};
    this.nodeIds = options.nodeIds;
  }

  /** The members changed (a new cluster map): nodes no longer members are forgotten. */
  setNodeIds(nodeIds: readonly string[]): void {
    this.nodeIds = [...nodeIds];
    for (const id of [...this.known.keys()]) if (!nodeIds.includes(id)) this.known.delete(id);
  }

  /** The state of a node (`ready` until a probe says otherwise). */
  stateOf(nodeId: string): NodeState {
    const known = this.known.get(nodeId);
    return known === undefined || known.filled ? 'ready' : 'refilling';
  }

  /** The incarnation last reported by a node, if any. */
  incarnationOf(nodeId: string): string | undefined {
    return this.known.get(nodeId)?.incarnation;
  }

  /** Takes note of what a probe reported. A node that is not filled stops counting at once and is refilled. */
  observe(nodeId: string, state: NodeDataState): void {
    const previous = this.known.get(nodeId);
    if (previous?.incarnation === state.incarnation && previous.filled === state.filled) return;
    this.known.set(nodeId, { incarnation: state.incarnation, filled: state.filled });
    if (previous?.incarnation !== state.incarnation) this.options.expectIncarnation(nodeId, state.incarnation);
    if (state.filled) {
      this.options.health.setCounted(nodeId, true);
      if (previous !== undefined && !previous.filled) this.events.stateChanged?.(nodeId, 'ready');
      return;
    }
    // Excluded before anything else: it may lack acknowledged writes.
    this.options.health.setCounted(nodeId, false);
    if (previous === undefined || previous.filled || previous.incarnation !== state.incarnation) {
      this.events.lostData?.(nodeId, state.incarnation, previous?.incarnation);
      this.events.stateChanged?.(nodeId, 'refilling');
    }
    this.scheduleRefill(0);
  }

  /** Stops scheduling refills and waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.options.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.refilling?.catch(() => undefined);
  }

  private scheduleRefill(delayMs: number): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = this.options.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.refilling === undefined) {
        this.refilling = this.refillAll().finally(() => {
          this.refilling = undefined;
        });
      }
    }, delayMs);
  }

  private async refillAll(): Promise<void> {
    const { health, refiller, clock } = this.options;
    let pending = false;
    for (const [nodeId, state] of this.known) {
      if (state.filled || this.stopped) continue;
      const joining = this.options.joinsEmpty?.(nodeId) === true;
      const peers = joining ? [] : this.nodeIds.filter((id) => id !== nodeId && this.stateOf(id) === 'ready');
      if (!health.isUp(nodeId) || peers.some((peer) => !health.isUp(peer))) {
        // Every peer that counts must be read in full: one that is down may hold the only copy of a write.
        pending = true;
        continue;
      }
      const incarnation = state.incarnation;
      try {
        const started = clock.now();
        const report = await refiller.refill(nodeId, peers);
        if (this.known.get(nodeId)?.incarnation !== incarnation) continue; // replaced again meanwhile
        await this.options.markFilled(nodeId, incarnation);
        this.observe(nodeId, { incarnation, filled: true });
        this.events.refilled?.(nodeId, report, clock.now() - started);
      } catch (error) {
        pending = true;
        this.events.refillFailed?.(nodeId, error);
      }
    }
    if (pending) this.scheduleRefill(REFILL_RETRY_MS);
  }
}
