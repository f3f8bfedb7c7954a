import { systemClock } from './system-clock';
/** Health of one data node as the coordinator sees it. */
export interface NodeStatus {
  readonly id: string;
  readonly up: boolean;
  /** Time (ms) of the last status change, or of creation. */
  readonly sinceMs: number;
  /** Consecutive failed probes. */
  readonly failures: number;
}

/** Options of {@link NodeHealth}. */
export interface NodeHealthOptions {
  /** Consecutive failed probes before a node is marked down (default 1: a dead node should be tried last at once). */
  failuresToDown?: number;
  /** Time source for `sinceMs` (default the system clock). */
  now?: () => number;
}

/** Listener of status changes. */
export type NodeHealthListener = (status: NodeStatus) => void;

/**
 * Takes probe results and orders replicas so that nodes believed down are tried last.
 *
 * A node starts up (optimistic: the first probe corrects it within one interval) and goes down after
 * `failuresToDown` consecutive failed probes; one successful probe brings it back up. A down node is never skipped:
 * {@link NodeHealth.order} only moves it to the back, so a stale verdict costs one failed attempt, not availability.
 */
export class NodeHealth {
  private readonly statuses = new Map<string, NodeStatus>();
  /** Nodes that do not count toward quorums (refilling after a lost disk); usually empty. */
  private readonly uncounted = new Set<string>();
  private readonly listeners: NodeHealthListener[] = [];
  private readonly failuresToDown: number;
  private readonly now: () => number;

  /** @throws TypeError on an empty or duplicate node id, or a bad option. */
  constructor(nodeIds: readonly string[], options: NodeHealthOptions = {}) {
    const failuresToDown = options.failuresToDown ?? 1;
    if (!Number.isInteger(failuresToDown) || failuresToDown < 1) {
      throw new TypeError(`failuresToDown must be an integer >= 1, got ${failuresToDown}`);
    }
    this.failuresToDown = failuresToDown;
    this.now = options.now ?? systemClock.now;
    for (const id of nodeIds) this.add(id);
  }

  /** Starts tracking a node (up). @throws TypeError if it is already tracked or the id is empty. */
  add(id: string): void {
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('node id must be a non-empty string');
    if (this.statuses.has(id)) throw new TypeError(`node ${id} is already tracked`);
    this.statuses.set(id, { id, up: true, sinceMs: this.now(), failures: 0 });
  }

  /** Stops tracking a node. */
  remove(id: string): void {
    this.statuses.delete(id);
    this.uncounted.delete(id);
  }

  /**
   * Whether a node's answers count toward quorums. A node that lost its disk does not until it has been refilled: it
   * still receives writes, but its acknowledgements and reads are not counted, since it may lack acknowledged data.
   */
  setCounted(id: string, counted: boolean): void {
    if (counted) this.uncounted.delete(id);
    else this.uncounted.add(id);
  }

  /** True unless the node was excluded from quorums with {@link NodeHealth.setCounted}. */
  isCounted(id: string): boolean {
    return this.uncounted.size === 0 || !this.uncounted.has(id);
  }

  /** Whether any node is excluded from quorums (lets callers skip filtering in the common case). */
  get allCounted(): boolean {
    return this.uncounted.size === 0;
  }

  /** Records the result of one probe of `id`. Unknown ids are ignored. */
  report(id: string, ok: boolean): void {
    const before = this.statuses.get(id);
    if (before === undefined) return;
    const failures = ok ? 0 : before.failures + 1;
    const up = ok ? true : before.up && failures < this.failuresToDown;
    const changed = up !== before.up;
    const after: NodeStatus = { id, up, sinceMs: changed ? this.now() : before.sinceMs, failures };
    this.statuses.set(id, after);
    if (changed) for (const listener of this.listeners) listener(after);
  }

  /** True unless the node is tracked and marked down. */
  isUp(id: string): boolean {
    return this.statuses.get(id)?.up ?? true;
  }

  /**
   * The given nodes with those believed up first, keeping the given order within each group (so the primary stays
   * first among the healthy ones). Returns the same array when every node is up, which is the common case.
   */
  order(nodeIds: readonly string[]): readonly string[] {
    let allUp = true;
    for (const id of nodeIds) {
      if (!this.isUp(id)) {
        allUp = false;
        break;
      }
    }
    if (allUp) return nodeIds;
    return [...nodeIds.filter((id) => this.isUp(id)), ...nodeIds.filter((id) => !this.isUp(id))];
  }

  /** Every tracked node's status, in the order they were added. */
  statusAll(): NodeStatus[] {
    return [...this.statuses.values()];
  }

  /** Calls `listener` after each change of a node's up/down status. */
  onChange(listener: NodeHealthListener): void {
    this.listeners.push(listener);
  }
}
