import type { ClusterMap } from '@kv/protocol';
import type { MapPeers, MapProposer } from './map-proposer';
import type { Timers } from './time';

/** Options of {@link ClusterMapKeeper}. */
export interface ClusterMapKeeperOptions {
  /** The data nodes a coordinator is configured with (`NODES`): where it looks for the map first. */
  seedIds: readonly string[];
  /** The map of a brand-new cluster (epoch 1), from the configuration. */
  seed: ClusterMap;
  peers: MapPeers;
  proposer: MapProposer;
  timers: Timers;
  /** Pause between attempts to load the map while too few nodes answer (default 250 ms). */
  retryMs?: number;
  events?: {
    /** The cluster had no map: this coordinator's seed (or another's) became epoch 1. */
    seeded?(map: ClusterMap): void;
    /** A node was given the map it lacked. */
    caughtUp?(nodeId: string, epoch: number): void;
  };
}

/**
 * A coordinator's copy of the cluster map (docs/ARCHITECTURE.md, The cluster map and membership changes): loaded from
 * the data nodes at start (seeding epoch 1 from the configuration when no node has a map), replaced whenever a node
 * reports a newer epoch, and given to nodes that report an older one.
 */
export class ClusterMapKeeper {
  private current: ClusterMap | undefined;
  private readonly listeners: ((map: ClusterMap) => void)[] = [];
  private readonly refreshing = new Set<string>();
  private readonly catchingUp = new Set<string>();
  private stopped = false;

  constructor(private readonly options: ClusterMapKeeperOptions) {}

  /** The map in use, once loaded. */
  get map(): ClusterMap | undefined {
    return this.current;
  }

  /** The epoch in use (0 before the map is loaded). */
  get epoch(): number {
    return this.current?.epoch ?? 0;
  }

  /** Calls `listener` with every newer map adopted. */
  onChange(listener: (map: ClusterMap) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Loads the newest map the nodes hold; when a majority of the seed nodes answer and none holds a map, proposes the
   * seed as epoch 1. Retries until it succeeds or {@link ClusterMapKeeper.stop}.
   */
  async load(): Promise<ClusterMap> {
    const { seedIds, peers, timers } = this.options;
    for (;;) {
      if (this.stopped) throw new Error('stopped');
      const ids = this.current === undefined ? seedIds : this.current.members.map((member) => member.id);
      const outcomes = await Promise.allSettled(ids.map((id) => peers.readMap(id)));
      let newest: ClusterMap | undefined;
      let answered = 0;
      outcomes.forEach((outcome) => {
        if (outcome.status !== 'fulfilled') return;
        answered += 1;
        if (outcome.value !== null && (newest === undefined || outcome.value.epoch > newest.epoch)) newest = outcome.value;
      });
      if (newest !== undefined) {
        this.adopt(newest);
        outcomes.forEach((outcome, i) => {
          if (outcome.status === 'fulfilled' && (outcome.value?.epoch ?? 0) < (newest as ClusterMap).epoch) this.observeEpoch(ids[i], outcome.value?.epoch ?? 0);
        });
        return newest;
      }
      if (answered > ids.length / 2) {
        try {
          const outcome = await this.options.proposer.propose(null, this.options.seed, seedIds);
          this.adopt(outcome.map);
          if (outcome.outcome === 'chosen') this.options.events?.seeded?.(outcome.map);
          return outcome.map;
        } catch {
          // No majority after all: try again.
        }
      }
      await new Promise<void>((resolve) => timers.setTimeout(resolve, this.options.retryMs ?? 250));
    }
  }

  /** Takes a newer map (chosen by this coordinator, or learned); older or equal ones are ignored. */
  adopt(map: ClusterMap): boolean {
    if (this.current !== undefined && map.epoch <= this.current.epoch) return false;
    this.current = map;
    for (const listener of this.listeners) listener(map);
    return true;
  }

  /**
   * A node reported the epoch of its map (in a status answer, or refusing a request as `KV_STALE_EPOCH`): a newer one
   * is fetched from it and adopted; a node behind is given the map in use.
   */
  observeEpoch(nodeId: string, epoch: number): void {
    const current = this.current;
    if (current === undefined || this.stopped) return;
    if (epoch > current.epoch) {
      if (this.refreshing.has(nodeId)) return;
      this.refreshing.add(nodeId);
      this.options.peers
        .readMap(nodeId)
        .then((map) => {
          if (map !== null) this.adopt(map);
        })
        .catch(() => undefined)
        .finally(() => this.refreshing.delete(nodeId));
    } else if (epoch < current.epoch && current.members.some((member) => member.id === nodeId)) {
      if (this.catchingUp.has(nodeId)) return;
      this.catchingUp.add(nodeId);
      this.options.peers
        .commit(nodeId, current)
        .then((stored) => this.options.events?.caughtUp?.(nodeId, stored))
        .catch(() => undefined)
        .finally(() => this.catchingUp.delete(nodeId));
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
