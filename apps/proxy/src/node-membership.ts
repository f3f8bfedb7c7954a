import path from 'node:path';
import type { NodeClient } from '@kv/protocol';
import type { NodeHealth, Refiller } from '@kv/quorum';
import { readFileIfExists, writeFileDurably, type Logger } from '@kv/service';

/** The file in the proxy's `DATA_DIR` that remembers each data node's incarnation and state. */
export const NODES_FILE = 'nodes.json';
/** Pause before a failed or impossible refill is tried again. */
export const REFILL_RETRY_MS = 2000;

/** A data node as the proxy remembers it. */
export interface NodeRecord {
  /** The incarnation of its data directory. */
  incarnation: string;
  /** `ready`: counts toward quorums; `refilling`: it lost its data and is being refilled from its peers. */
  state: 'ready' | 'refilling';
}

/** Options of {@link NodeMembership}. */
export interface NodeMembershipOptions {
  dataDir: string;
  nodeIds: readonly string[];
  clients: ReadonlyMap<string, NodeClient>;
  health: NodeHealth;
  refiller: Refiller;
  logger: Logger;
  /** Called when a refill starts or ends (metrics). */
  onStateChange?: (nodeId: string, state: NodeRecord['state']) => void;
}

/**
 * Tracks which data nodes count toward quorums. Each node's data directory has an incarnation (reported by
 * `/health`); the proxy remembers it in `DATA_DIR/nodes.json` and sends it with every request, which the node refuses
 * if it is not its own. A node that comes back with another incarnation lost its disk: it may lack acknowledged
 * writes, so it stops counting toward quorums (it still receives writes) until a refill has copied its peers' data
 * to it. Without this, a node restarted empty would let a read quorum miss an acknowledged write.
 */
export class NodeMembership {
  private readonly records = new Map<string, NodeRecord>();
  private readonly file: string;
  private refilling: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: NodeMembershipOptions) {
    this.file = path.join(options.dataDir, NODES_FILE);
  }

  /** Loads the remembered incarnations, applies them to the clients and the health, and resumes refills. */
  async open(): Promise<void> {
    const content = await readFileIfExists(this.file);
    if (content !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(content);
      } catch {
        throw new Error(`${this.file} is malformed: not JSON`);
      }
      for (const [id, record] of Object.entries(parsed as Record<string, NodeRecord>)) {
        if (!this.options.nodeIds.includes(id)) continue;
        if (typeof record?.incarnation !== 'string' || (record.state !== 'ready' && record.state !== 'refilling')) {
          throw new Error(`${this.file} is malformed at node ${id}`);
        }
        this.records.set(id, { incarnation: record.incarnation, state: record.state });
      }
    }
    for (const [id, record] of this.records) {
      this.options.clients.get(id)?.expectIncarnation(record.incarnation);
      if (record.state === 'refilling') this.options.health.setCounted(id, false);
    }
    this.scheduleRefill(0);
  }

  /** The state of a node (`ready` until the proxy learns otherwise). */
  stateOf(nodeId: string): NodeRecord['state'] {
    return this.records.get(nodeId)?.state ?? 'ready';
  }

  /**
   * Takes note of a node's incarnation from a health probe. A node seen for the first time is ready; a node whose
   * incarnation changed is excluded from quorums first, then marked refilling on disk, then refilled.
   */
  async observe(nodeId: string, incarnation: string): Promise<void> {
    const known = this.records.get(nodeId);
    if (known?.incarnation === incarnation) return;
    const client = this.options.clients.get(nodeId);
    if (known === undefined) {
      await this.persist(nodeId, { incarnation, state: 'ready' });
      client?.expectIncarnation(incarnation);
      return;
    }
    // Excluded from quorums before anything else: until the new state is on disk, the node keeps refusing requests
    // meant for its old incarnation, and if writing the state fails, the next probe tries again.
    this.options.health.setCounted(nodeId, false);
    this.options.logger.warn('node lost its data: it no longer counts toward quorums until it is refilled', {
      node: nodeId,
      incarnation,
      previous: known.incarnation,
    });
    await this.persist(nodeId, { incarnation, state: 'refilling' });
    this.options.onStateChange?.(nodeId, 'refilling');
    client?.expectIncarnation(incarnation);
    this.scheduleRefill(0);
  }

  /** Stops scheduling refills and waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    await this.refilling?.catch(() => undefined);
    await this.writing;
  }

  private scheduleRefill(delayMs: number): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.refilling === undefined) {
        this.refilling = this.refillAll().finally(() => {
          this.refilling = undefined;
        });
      }
    }, delayMs);
    this.retryTimer.unref();
  }

  private async refillAll(): Promise<void> {
    const { health, refiller, logger } = this.options;
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
        const started = Date.now();
        const report = await refiller.refill(nodeId, peers);
        if (this.records.get(nodeId)?.incarnation !== incarnation) continue; // replaced again meanwhile
        await this.persist(nodeId, { incarnation, state: 'ready' });
        health.setCounted(nodeId, true);
        this.options.onStateChange?.(nodeId, 'ready');
        logger.warn('node refilled: it counts toward quorums again', { node: nodeId, ...report, ms: Date.now() - started });
      } catch (error) {
        pending = true;
        logger.warn('refill failed; will try again', { node: nodeId, err: error });
      }
    }
    if (pending) this.scheduleRefill(REFILL_RETRY_MS);
  }

  /**
   * Writes the records with `record` for `nodeId` durably, then keeps them in memory; writes are queued so that the
   * file always ends with the latest state.
   */
  private persist(nodeId: string, record: NodeRecord): Promise<void> {
    const next = this.writing
      .catch(() => undefined)
      .then(async () => {
        const records = new Map(this.records).set(nodeId, record);
        await writeFileDurably(this.file, `${JSON.stringify(Object.fromEntries(records), null, 2)}\n`);
        this.records.set(nodeId, record);
      });
    this.writing = next;
    return next;
  }
}
