import { ErrorCode, isKvError, KvError, type LiveCoordinator } from '@kv/protocol';
import type { CoordinatorClaim } from './coordinator-registry';
import type { Clock, Timers } from './time';

/** Registers this coordinator with one data node (`POST /internal/coordinators`); resolves with its live list. */
export type Register = (nodeId: string) => Promise<readonly LiveCoordinator[]>;

/** Options of {@link CoordinatorPresence}. */
export interface CoordinatorPresenceOptions {
  claim: CoordinatorClaim;
  nodeIds: readonly string[];
  register: Register;
  /** A monotonic clock: leases are durations. */
  monotonic: Clock;
  timers: Timers;
  /**
   * Reported when joining meets a live duplicate and keeps trying, when the lease lapsed, and when a rejoin gave up
   * because another running coordinator took this clock id (the coordinator must then stop serving: exit).
   */
  events?: {
    joined?(others: readonly string[], waitedMs: number): void;
    duplicateSeen?(nodeId: string): void;
    lapsed?(): void;
    clockIdTaken?(error: DuplicateCoordinatorError): void;
  };
}

/** Pause between registration attempts while a majority cannot be reached, in ms. */
export const JOIN_RETRY_MS = 250;
/** How long a coordinator meeting a live duplicate of its id keeps trying, in leases (the other may have just died). */
export const DUPLICATE_WAIT_LEASES = 2;

/** Thrown by {@link CoordinatorPresence.join} when another live coordinator uses this clock id. */
export class DuplicateCoordinatorError extends Error {
  constructor(
    readonly clockId: string,
    readonly nodeId: string,
  ) {
    super(`another running coordinator uses the clock id ${clockId} (data node ${nodeId} hears from it): give each proxy its own PROXY_ID`);
    this.name = 'DuplicateCoordinatorError';
  }
}

/**
 * The coordinator's side of leases (docs/ARCHITECTURE.md, Several coordinators): joining the cluster's registry of
 * coordinators, knowing whether others are live, and whether this coordinator may write in one phase.
 *
 * - {@link CoordinatorPresence.join}: registers with a majority of the data nodes, learns the other live
 *   coordinators, and waits for the longest of their leases before it resolves (so that each of them learns of this
 *   one before it completes a write).
 * - {@link CoordinatorPresence.observe}: every answered status probe renews this coordinator's lease on that node and
 *   the view of the others.
 * - {@link CoordinatorPresence.alone}: true only while joined, a majority of the nodes renewed the lease less than half a
 *   lease ago, and no node listed another live coordinator.
 */
export class CoordinatorPresence {
  private readonly others = new Map<string, number>();
  private joinedAtLeastOnce = false;
  private joinedNow = false;
  /** When the last answered probe of each node was sent (monotonic ms): the node renewed the lease after that. */
  private readonly renewedMs = new Map<string, number>();
  private joining: Promise<void> | undefined;
  private stopped = false;

  private nodeIds: readonly string[];

  constructor(private readonly options: CoordinatorPresenceOptions) {
    this.nodeIds = options.nodeIds;
  }

  /** The data nodes holding the registry from now on (the members of a new cluster map). */
  setNodeIds(nodeIds: readonly string[]): void {
    this.nodeIds = [...nodeIds];
    for (const id of [...this.renewedMs.keys()]) if (!nodeIds.includes(id)) this.renewedMs.delete(id);
  }

  get claim(): CoordinatorClaim {
    return this.options.claim;
  }

  /** Whether this coordinator is registered and may serve (false while it joins or rejoins). */
  get joined(): boolean {
    return this.joinedNow;
  }

  /** Ids of the other coordinators believed live. */
  otherIds(): string[] {
    this.expire();
    return [...this.others.keys()];
  }

  /**
   * Whether this coordinator's view is fresh: joined, and a majority of the data nodes answered a probe (which renews
   * its lease there) sent less than half a lease ago. A coordinator that was paused or cut off for longer is not, and
   * must not acknowledge writes: others may take it for gone. Each node counts on its own, so a node that is slow to
   * answer (or down) does not hold back the renewals of the others.
   */
  fresh(): boolean {
    if (!this.joinedNow) return false;
    const since = this.options.monotonic.now() - this.options.claim.leaseMs / 2;
    let renewed = 0;
    for (const sentMs of this.renewedMs.values()) if (sentMs > since) renewed++;
    return renewed > this.nodeIds.length / 2;
  }

  /**
   * Whether this coordinator knows it is the only one: its view is fresh and lists no other live coordinator.
   */
  alone(): boolean {
    if (!this.fresh()) return false;
    this.expire();
    return this.others.size === 0;
  }

  /**
   * Joins (or rejoins) the registry; resolves once this coordinator may serve. Retries while no majority of the data
   * nodes answers.
   * @throws DuplicateCoordinatorError when a live coordinator with the same clock id is still heard from after
   *   {@link DUPLICATE_WAIT_LEASES} leases.
   */
  join(): Promise<void> {
    if (this.joining === undefined) {
      this.joinedNow = false;
      this.joining = this.joinOnce().finally(() => {
        this.joining = undefined;
      });
    }
    return this.joining;
  }

  /** A data node refused a request because this coordinator's lease lapsed there: register again, in the background. */
  lapsed(): void {
    if (this.stopped || this.joining !== undefined || !this.joinedAtLeastOnce) return;
    this.options.events?.lapsed?.();
    this.rejoin();
  }

  /**
   * A data node refused a request because another process registered this clock id while this one was away (paused
   * or cut off for longer than its lease): stop serving and register again; if the other is still live after
   * {@link DUPLICATE_WAIT_LEASES} leases, report `clockIdTaken`.
   */
  duplicate(): void {
    if (this.stopped || this.joining !== undefined || !this.joinedAtLeastOnce) return;
    this.rejoin();
  }

  private rejoin(): void {
    this.join().catch((error: unknown) => {
      if (error instanceof DuplicateCoordinatorError) this.options.events?.clockIdTaken?.(error);
    });
  }

  /**
   * Takes a node's answer to a status probe sent at `sentMs` (monotonic): the node renewed this coordinator's lease
   * no earlier than that, and listed the coordinators it hears from.
   */
  observe(nodeId: string, sentMs: number, live: readonly LiveCoordinator[]): void {
    this.learn([live], this.options.monotonic.now());
    if ((this.renewedMs.get(nodeId) ?? Number.NEGATIVE_INFINITY) < sentMs) this.renewedMs.set(nodeId, sentMs);
  }

  stop(): void {
    this.stopped = true;
  }

  private async joinOnce(): Promise<void> {
    const { monotonic, timers, claim } = this.options;
    const started = monotonic.now();
    for (;;) {
      if (this.stopped) throw new KvError(ErrorCode.Unavailable, 'the coordinator is stopping');
      const nodeIds = this.nodeIds;
      const sentMs = monotonic.now();
      const outcomes = await Promise.allSettled(nodeIds.map((nodeId) => this.options.register(nodeId)));
      const lists: (readonly LiveCoordinator[])[] = [];
      let duplicateAt: string | undefined;
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') {
          lists.push(outcome.value);
          this.renewedMs.set(nodeIds[i], sentMs);
        }
        else if (isKvError(outcome.reason, ErrorCode.DuplicateCoordinator)) duplicateAt = nodeIds[i];
      });
      if (duplicateAt !== undefined) {
        this.options.events?.duplicateSeen?.(duplicateAt);
        if (monotonic.now() - started >= DUPLICATE_WAIT_LEASES * claim.leaseMs) throw new DuplicateCoordinatorError(claim.clockId, duplicateAt);
      } else if (lists.length > nodeIds.length / 2) {
        const now = monotonic.now();
        this.learn(lists, now);
        let waitMs = 0;
        for (const list of lists) for (const other of list) if (other.id !== claim.clockId) waitMs = Math.max(waitMs, other.leaseMs);
        // Every other live coordinator learns of this one within its lease (through its next probes) before this one
        // completes a write.
        if (waitMs > 0) await sleep(timers, waitMs);
        this.joinedNow = true;
        this.joinedAtLeastOnce = true;
        this.options.events?.joined?.(this.otherIds(), waitMs);
        return;
      }
      await sleep(timers, duplicateAt !== undefined ? Math.max(JOIN_RETRY_MS, claim.leaseMs / 4) : JOIN_RETRY_MS);
    }
  }

  private learn(lists: readonly (readonly LiveCoordinator[])[], now: number): void {
    for (const list of lists) {
      for (const other of list) {
        if (other.id === this.options.claim.clockId) continue;
        // Live for up to its lease after the node last heard from it.
        const until = now - other.seenMsAgo + other.leaseMs;
        if ((this.others.get(other.id) ?? Number.NEGATIVE_INFINITY) < until) this.others.set(other.id, until);
      }
    }
    this.expire();
  }

  private expire(): void {
    const now = this.options.monotonic.now();
    for (const [id, until] of this.others) if (until < now) this.others.delete(id);
  }
}

function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => timers.setTimeout(resolve, ms));
}
