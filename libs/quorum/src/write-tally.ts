import { compareVersions } from '@kv/protocol';
import { check, type TallyState } from './tally';

/**
 * The decision of one write, as the replies of its replicas come in, one at a time: a pure state machine with no I/O
 * and no time.
 *
 * - The write goes to `replicas`; its quorum is `required` acknowledgements in **each** group of `groups` (one group,
 *   all the replicas, outside membership changes; during one, the old owners and the new owners: a joint quorum).
 * - Replicas that do not count toward quorums (refilling after a lost disk) get the write, but their replies change
 *   nothing but `newestSeen`.
 * - An acknowledgement is a replica holding the write's version or a newer one afterwards (a replica applies a write
 *   only if it is newer than what it holds); a replica holding exactly this version has it *placed*.
 * - The tally is `done` once every group has `required` counted acknowledgements; `failed` once a group cannot get
 *   there and its counted replicas have all answered or failed, or at once when a group has fewer counted replicas
 *   than required.
 *
 * Invariants (asserted): each replica answers once; acknowledgements never exceed the counted replicas; the state
 * leaves `pending` once and never changes again.
 */
export class WriteTally {
  private readonly counted: ReadonlySet<string>;
  private readonly answered = new Set<string>();
  private readonly replicas: ReadonlySet<string>;
  private readonly groups: readonly (readonly string[])[];
  private readonly acked = new Set<string>();
  private readonly placedSet = new Set<string>();
  private readonly failedSet = new Set<string>();
  private currentState: TallyState = 'pending';
  /** Counted replicas holding this version or a newer one. */
  acks = 0;
  /** Counted replicas holding exactly this version. */
  placed = 0;
  /** Counted replicas holding a newer version. */
  superseded = 0;
  /** Counted replicas that failed or did not answer in time. */
  failures = 0;
  /** The newest version any replica (counted or not) reported holding, when newer than this write's. */
  newestSeen: string | undefined;
  /** Replicas, counted or not, that reported holding exactly this version. */
  placedAnywhere = 0;
  /** Replicas, counted or not, that answered (holding this version or a newer one) or failed. */
  answeredAll = 0;
  /** Replicas, counted or not, that failed or did not answer in time (and so may or may not hold this version). */
  failedAll = 0;

  /**
   * @param replicas the replicas the write goes to.
   * @param isCounted whether a replica's reply counts toward the quorum.
   * @param version the write's version.
   * @param required acknowledgements needed (W) in each group.
   * @param groups the quorum groups, each a subset of `replicas` (default: one group, all of them).
   */
  constructor(
    replicas: readonly string[],
    isCounted: (nodeId: string) => boolean,
    readonly version: string,
    readonly required: number,
    groups?: readonly (readonly string[])[],
  ) {
    check(Number.isInteger(required) && required >= 1, `required must be a positive integer, got ${required}`);
    this.replicas = new Set(replicas);
    check(this.replicas.size === replicas.length, 'a replica is listed twice');
    this.groups = groups ?? [replicas];
    check(this.groups.length > 0, 'no quorum group');
    for (const group of this.groups) for (const id of group) check(this.replicas.has(id), `group member ${id} is not a replica`);
    this.counted = new Set(replicas.filter(isCounted));
    if (this.tooFewReplicas) this.currentState = 'failed';
  }

  /** The state; settles once. */
  get state(): TallyState {
    return this.currentState;
  }

  /** Counted replicas of the smallest group: the most acknowledgements that group can give. */
  get total(): number {
    return Math.min(...this.groups.map((group) => this.countedIn(group)));
  }

  /** Whether a group has fewer counted replicas than required (the tally failed at once). */
  get tooFewReplicas(): boolean {
    return this.groups.some((group) => this.countedIn(group) < this.required);
  }

  /** Replicas the write went to, counted or not. */
  get replicaCount(): number {
    return this.replicas.size;
  }

  /** Whether every replica, counted or not, has answered or failed. */
  get complete(): boolean {
    return this.answeredAll === this.replicas.size;
  }

  /** Whether every group has `required` counted replicas holding exactly this version. */
  get placedEverywhere(): boolean {
    return this.groups.every((group) => group.filter((id) => this.placedSet.has(id)).length >= this.required);
  }

  /** A replica answered that it holds `heldVersion` for the key after the write. */
  ack(nodeId: string, heldVersion: string): TallyState {
    this.answer(nodeId);
    const order = compareVersions(heldVersion, this.version);
    if (order === 0) this.placedAnywhere += 1;
    if (order > 0 && (this.newestSeen === undefined || compareVersions(heldVersion, this.newestSeen) > 0)) this.newestSeen = heldVersion;
    if (!this.counted.has(nodeId)) return this.currentState;
    check(order >= 0, `replica ${nodeId} acknowledged holding ${heldVersion}, older than the write's ${this.version}`);
    this.acks += 1;
    this.acked.add(nodeId);
    if (order === 0) {
      this.placed += 1;
      this.placedSet.add(nodeId);
    } else {
      this.superseded += 1;
    }
    check(this.acks <= this.counted.size, 'more acknowledgements than counted replicas');
    return this.decide();
  }

  /** A replica failed, or did not answer in time. */
  fail(nodeId: string): TallyState {
    this.answer(nodeId);
    this.failedAll += 1;
    if (!this.counted.has(nodeId)) return this.currentState;
    this.failures += 1;
    this.failedSet.add(nodeId);
    return this.decide();
  }

  private countedIn(group: readonly string[]): number {
    let n = 0;
    for (const id of group) if (this.counted.has(id)) n += 1;
    return n;
  }

  private answer(nodeId: string): void {
    check(this.replicas.has(nodeId), `reply from ${nodeId}, which is not a replica of this write`);
    check(!this.answered.has(nodeId), `replica ${nodeId} answered twice`);
    this.answered.add(nodeId);
    this.answeredAll += 1;
  }

  private decide(): TallyState {
    if (this.currentState !== 'pending') return this.currentState;
    let everyGroupDone = true;
    for (const group of this.groups) {
      let acks = 0;
      let open = 0;
      for (const id of group) {
        if (!this.counted.has(id)) continue;
        if (this.acked.has(id)) acks += 1;
        else if (!this.failedSet.has(id)) open += 1;
      }
      // Fails only once the group's counted replicas have all answered, so that the error reports how many of them
      // did take the write.
      if (acks + open < this.required && open === 0) {
        this.currentState = 'failed';
        return this.currentState;
      }
      if (acks < this.required) everyGroupDone = false;
    }
    if (everyGroupDone) this.currentState = 'done';
    return this.currentState;
  }
}
