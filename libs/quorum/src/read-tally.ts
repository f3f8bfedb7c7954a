import { compareVersions } from '@kv/protocol';
import { check, type TallyState } from './tally';
import type { ReplicaEntry } from './transport';

/** One replica's answer to a read: what it holds for the key (`undefined`: nothing). */
export interface ReadReply {
  readonly nodeId: string;
  readonly entry: ReplicaEntry | undefined;
}

/** What the caller does after feeding a reply or a failure to a {@link ReadTally}. */
export interface ReadStep {
  readonly state: TallyState;
  /** Replicas to ask now (failover: one for each failure, while replicas are left). */
  readonly ask: readonly string[];
}

/**
 * The decision of one read with failover, as replies come in, one at a time: a pure state machine with no I/O and no
 * time. It asks the first `required` replicas of `order` (healthy ones first), and for each one that fails, the next
 * one not asked yet. It is `done` once `required` replicas answered, `failed` once the replicas ran out with fewer
 * answers.
 *
 * Invariants (asserted): only replicas it asked may answer, each once; at most `required` answers count (one arriving
 * after `done` is ignored); the state leaves `pending` once.
 */
export class ReadTally {
  private next = 0;
  private inFlight = 0;
  private readonly asked = new Set<string>();
  private readonly settled = new Set<string>();
  private currentState: TallyState = 'pending';
  /** Answers received while pending, in arrival order. */
  readonly replies: ReadReply[] = [];

  constructor(
    private readonly order: readonly string[],
    readonly required: number,
  ) {
    check(Number.isInteger(required) && required >= 1, `required must be a positive integer, got ${required}`);
    check(new Set(order).size === order.length, 'a replica is listed twice');
    if (order.length < required) this.currentState = 'failed';
  }

  get state(): TallyState {
    return this.currentState;
  }

  /** The replicas to ask first (none when the tally failed at once for lack of replicas). */
  start(): readonly string[] {
    check(this.next === 0, 'start called twice');
    if (this.currentState !== 'pending') return [];
    return this.take(this.required);
  }

  /** A replica answered. */
  reply(nodeId: string, entry: ReplicaEntry | undefined): ReadStep {
    this.settle(nodeId);
    if (this.currentState !== 'pending') return { state: this.currentState, ask: [] };
    this.replies.push({ nodeId, entry });
    if (this.replies.length >= this.required) this.currentState = 'done';
    else if (this.inFlight === 0 && this.next >= this.order.length) this.currentState = 'failed';
    return { state: this.currentState, ask: [] };
  }

  /** A replica failed or did not answer in time: the next replica is asked in its place, if one is left. */
  fail(nodeId: string): ReadStep {
    this.settle(nodeId);
    if (this.currentState !== 'pending') return { state: this.currentState, ask: [] };
    if (this.next < this.order.length) return { state: this.currentState, ask: this.take(1) };
    if (this.inFlight === 0) this.currentState = 'failed';
    return { state: this.currentState, ask: [] };
  }

  /** The newest entry among the answers (tombstones included), or `undefined` when no replica holds the key. */
  newest(): ReplicaEntry | undefined {
    let newest: ReplicaEntry | undefined;
    for (const reply of this.replies) {
      if (reply.entry !== undefined && (newest === undefined || compareVersions(reply.entry.version, newest.version) > 0)) newest = reply.entry;
    }
    return newest;
  }

  /** Replicas asked so far. */
  get askedNodes(): ReadonlySet<string> {
    return this.asked;
  }

  private take(count: number): string[] {
    const taken = this.order.slice(this.next, this.next + count);
    this.next += taken.length;
    this.inFlight += taken.length;
    for (const id of taken) this.asked.add(id);
    return taken;
  }

  private settle(nodeId: string): void {
    check(this.asked.has(nodeId), `answer from ${nodeId}, which was not asked`);
    check(!this.settled.has(nodeId), `replica ${nodeId} answered twice`);
    this.settled.add(nodeId);
    this.inFlight -= 1;
  }
}
