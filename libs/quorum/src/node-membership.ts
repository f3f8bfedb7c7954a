import type { NodeHealth } from './node-health';
import type { Refiller, RefillReport } from './refiller';
import type { StableStore } from './stable-store';
import type { Clock, Timers } from './time';

/** The record of the {@link StableStore} that remembers each data node's incarnation and state. */
export const NODES_RECORD = 'nodes.json';
/** Pause before a failed or impossible refill is tried again. */
export const REFILL_RETRY_MS = 2000;

/** What the coordinator knows of a data node. */
export interface NodeRecord {
  /** The incarnation of its data directory. */
  incarnation: string;
  /** `ready`: counts toward quorums; `refilling`: it lost its data and is being refilled from its peers. */
  state: 'ready' | 'refilling';
}

/** What {@link NodeMembership} reports, for logs and metrics. Each must be cheap and must not throw. */
export interface NodeMembershipEvents {
  /** A node came back with another incarnation: it no longer counts toward quorums until it is refilled. */
  lostData?(nodeId: string, incarnation: string, previous: string): void;
  /** A refill completed: the node counts again. */
  refilled?(nodeId: string, report: RefillReport, durationMs: number): void;
  /** A refill failed; it is tried again after {@link REFILL_RETRY_MS}. */
  refillFailed?(nodeId: string, error: unknown): void;
  /** A node entered or left the `refilling` state. */
  stateChanged?(nodeId: string, state: NodeRecord['state']): void;
}

/** Options of {@link NodeMembership}. */
export interface NodeMembershipOptions {
  nodeIds: readonly string[];
  /** Where the records live (durably). */
  store: StableStore;
  health: NodeHealth;
  refiller: Refiller;
  /** Tells the transport which incarnation a node must have (it sends it with every request). */
  expectIncarnation(nodeId: string, incarnation: string): void;
  clock: Clock;
  timers: Timers;
  events?: NodeMembershipEvents;
}

/**
 * Decides which data nodes count toward quorums, as a state machine per node:
 *
 *   unknown --first probe--> ready --other incarnation--> refilling --refill done--> ready
 *
 * Each node's data directory has an incarnation (reported by its health answer); the coordinator remembers it in its
 * stable store and sends it with every request, which the node refuses if it is not its own. A node that comes back
 * with another incarnation lost its disk: it may lack acknowledged writes, so it stops counting toward quorums (it
 * still receives writes) until a refill has copied its peers' data to it. Without this, a node restarted empty would
 * let a read quorum miss an acknowledged write.
 *
 * Ordering: a node is excluded from quorums before its new state is written, and counted again only after `ready` is
 * on disk; so a crash of the coordinator at any point never leaves an unrefilled node counted.
 */
export class NodeMembership {
  private readonly records = new Map<string, NodeRecord>();
  private refilling: Promise<void> | undefined;
  private retryTimer: unknown;
  private stopped = false;
  private writing: Promise<void> = Promise.resolve();
  private readonly events: NodeMembershipEvents;

  constructor(private readonly options: NodeMembershipOptions) {
    this.events = options.events ?? {};
  }

  /**
   * Loads the remembered incarnations, applies them to the transport and the health, and resumes refills.
   * @throws Error when the record is malformed (never guess which nodes may count); rejects on an I/O failure.
   */
  async open(): Promise<void> {
    const content = await this.options.store.read(NODES_RECORD);
    if (content !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(content);
      } catch {
        throw new Error(`the ${NODES_RECORD} record is malformed: not JSON`);
      }
      for (const [id, record] of Object.entries(parsed as Record<string, NodeRecord>)) {
        if (!this.options.nodeIds.includes(id)) continue;
        if (typeof record?.incarnation !== 'string' || (record.state !== 'ready' && record.state !== 'refilling')) {
          throw new Error(`the ${NODES_RECORD} record is malformed at node ${id}`);
        }
        this.records.set(id, { incarnation: record.incarnation, state: record.state });
      }
    }
    for (const [id, record] of this.records) {
      this.options.expectIncarnation(id, record.incarnation);
      if (record.state === 'refilling') {
        this.options.health.setCounted(id, false);
        this.events.stateChanged?.(id, 'refilling');
      }
    }
    this.scheduleRefill(0);
  }

  /** The state of a node (`ready` until the coordinator learns otherwise). */
  stateOf(nodeId: string): NodeRecord['state'] {
    return this.records.get(nodeId)?.state ?? 'ready';
  }

  /** The incarnation last seen of a node, if any. */
  incarnationOf(nodeId: string): string | undefined {
    return this.records.get(nodeId)?.incarnation;
  }

  /**
   * Takes note of a node's incarnation from a health probe. A node seen for the first time is ready; a node whose
   * incarnation changed is excluded from quorums first, then marked refilling durably, then refilled.
   * @throws the store's error when the new state cannot be recorded (the node then stays excluded; the next probe
   *   tries again).
   */
  async observe(nodeId: string, incarnation: string): Promise<void> {
    const known = this.records.get(nodeId);
    if (known?.incarnation === incarnation) return;
    if (known === undefined) {
      await this.persist(nodeId, { incarnation, state: 'ready' });
      this.options.expectIncarnation(nodeId, incarnation);
      return;
    }
    // Excluded from quorums before anything else: until the new state is durable, the node keeps refusing requests
    // meant for its old incarnation, and if writing the state fails, the next probe tries again.
    this.options.health.setCounted(nodeId, false);
    this.events.lostData?.(nodeId, incarnation, known.incarnation);
    await this.persist(nodeId, { incarnation, state: 'refilling' });
    this.events.stateChanged?.(nodeId, 'refilling');
    this.options.expectIncarnation(nodeId, incarnation);
    this.scheduleRefill(0);
  }

  /** Stops scheduling refills and waits for the one running and for pending writes of the records. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.options.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.refilling?.catch(() => undefined);
    await this.writing.catch(() => undefined);
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
    for (const [nodeId, record] of this.records) {
      if (record.state !== 'refilling' || this.stopped) continue;
      const peers = this.options.nodeIds.filter((id) => id !== nodeId && this.stateOf(id) === 'ready');
      if (!health.isUp(nodeId) || peers.some((peer) => !health.isUp(peer))) {
        // Every peer that counts must be read in full: one that is down may hold the only copy of a write.
        pending = true;
        continue;
      }
      const incarnation = record.incarnation;
      try {
        const started = clock.now();
        const report = await refiller.refill(nodeId, peers);
        if (this.records.get(nodeId)?.incarnation !== incarnation) continue; // replaced again meanwhile
        await this.persist(nodeId, { incarnation, state: 'ready' });
        health.setCounted(nodeId, true);
        this.events.stateChanged?.(nodeId, 'ready');
        this.events.refilled?.(nodeId, report, clock.now() - started);
      } catch (error) {
        pending = true;
        this.events.refillFailed?.(nodeId, error);
      }
    }
    if (pending) this.scheduleRefill(REFILL_RETRY_MS);
  }

  /**
   * Writes the records with `record` for `nodeId` durably, then keeps them in memory; writes are queued so that the
   * stored record always ends with the latest state.
   */
  private persist(nodeId: string, record: NodeRecord): Promise<void> {
    const next = this.writing
      .catch(() => undefined)
      .then(async () => {
        const records = new Map(this.records).set(nodeId, record);
        await this.options.store.write(NODES_RECORD, `${JSON.stringify(Object.fromEntries(records), null, 2)}\n`);
        this.records.set(nodeId, record);
      });
    this.writing = next;
    return next;
  }
}
