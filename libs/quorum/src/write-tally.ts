import { compareVersions } from '@kv/protocol';
import { check, type TallyState } from './tally';

/**
 * The decision of one write, as the replies of its replicas come in, one at a time: a pure state machine with no I/O
 * and no time.
 *
 * - Replicas that do not count toward quorums (refilling after a lost disk) get the write, but their replies change
 *   nothing but `newestSeen`.
 * - An acknowledgement is a replica holding the write's version or a newer one afterwards (a replica applies a write
 *   only if it is newer than what it holds); `placed` counts those holding exactly this version, `superseded` those
 *   holding a newer one.
 * - The tally is `done` once `required` counted replicas acknowledged; `failed` once that became impossible (every
 *   counted replica answered or failed), or at once when fewer than `required` replicas count.
 *
 * Invariants (asserted): each replica answers once; acknowledgements never exceed the counted replicas; the state
 * leaves `pending` once and never changes again.
 */
export class WriteTally {
  private readonly counted: ReadonlySet<string>;
  private readonly answered = new Set<string>();
  private readonly replicas: ReadonlySet<string>;
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
   * @param replicas the key's replicas the write goes to.
   * @param isCounted whether a replica's reply counts toward the quorum.
   * @param version the write's version.
   * @param required acknowledgements needed (W).
   */
  constructor(
    replicas: readonly string[],
    isCounted: (nodeId: string) => boolean,
    readonly version: string,
    readonly required: number,
  ) {
    check(Number.isInteger(required) && required >= 1, `required must be a positive integer, got ${required}`);
    this.replicas = new Set(replicas);
    check(this.replicas.size === replicas.length, 'a replica is listed twice');
    this.counted = new Set(replicas.filter(isCounted));
    if (this.counted.size < required) this.currentState = 'failed';
  }

  /** The state; settles once. */
  get state(): TallyState {
    return this.currentState;
  }

  /** Replicas whose replies count. */
  get total(): number {
    return this.counted.size;
  }

  /** Why the tally failed at once, if it did: fewer counted replicas than required. */
  get tooFewReplicas(): boolean {
    return this.counted.size < this.required;
  }

  /** Replicas the write went to, counted or not. */
  get replicaCount(): number {
    return this.replicas.size;
  }

  /** Whether every replica, counted or not, has answered or failed. */
  get complete(): boolean {
    return this.answeredAll === this.replicas.size;
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
    if (order === 0) this.placed += 1;
    else this.superseded += 1;
    check(this.acks <= this.counted.size, 'more acknowledgements than counted replicas');
    return this.decide();
  }

  /** A replica failed, or did not answer in time. */
  fail(nodeId: string): TallyState {
    this.answer(nodeId);
    this.failedAll += 1;
    if (!this.counted.has(nodeId)) return this.currentState;
    this.failures += 1;
    return this.decide();
  }

  private answer(nodeId: string): void {
    check(this.replicas.has(nodeId), `reply from ${nodeId}, which is not a replica of this write`);
    check(!this.answered.has(nodeId), `replica ${nodeId} answered twice`);
    this.answered.add(nodeId);
    this.answeredAll += 1;
  }

  private decide(): TallyState {
    if (this.currentState !== 'pending') return this.currentState;
    if (this.acks >= this.required) this.currentState = 'done';
    else if (this.acks + this.failures === this.counted.size) this.currentState = 'failed';
    return this.currentState;
  }
}
