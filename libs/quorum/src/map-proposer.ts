import { compareBallots, validateClusterMap, type Ballot, type ClusterMap, type PaxosReply } from '@kv/protocol';
import type { Timers } from './time';

/** How a proposer reaches the data nodes' map acceptors (`/internal/map*`). Each call rejects when the node fails. */
export interface MapPeers {
  /** The map the node stores, or null before the cluster was seeded. */
  readMap(nodeId: string): Promise<ClusterMap | null>;
  prepare(nodeId: string, epoch: number, ballot: Ballot): Promise<PaxosReply>;
  accept(nodeId: string, ballot: Ballot, map: ClusterMap): Promise<PaxosReply>;
  /** Resolves with the epoch the node stores afterwards. */
  commit(nodeId: string, map: ClusterMap): Promise<number>;
}

/** What a proposal came to. */
export type ProposalOutcome =
  /** The proposed map was chosen (and committed to the members that answered). */
  | { readonly outcome: 'chosen'; readonly map: ClusterMap }
  /** Another map was chosen for that epoch, or a later epoch is known: `map` is the newest one learned. */
  | { readonly outcome: 'lost'; readonly map: ClusterMap };

/** Options of {@link MapProposer}. */
export interface MapProposerOptions {
  /** This proposer's id (a proxy's clock id): breaks ties between ballots. */
  proposerId: string;
  peers: MapPeers;
  timers: Timers;
  /** Rounds tried before giving up (default 8). */
  attemptsMax?: number;
  /** Random source for the back-off between rounds (default Math.random). */
  random?: () => number;
}

/** Thrown when no majority of the acceptors answered in the rounds allowed. */
export class NoMajorityError extends Error {
  constructor(
    readonly epoch: number,
    readonly answered: number,
    readonly acceptors: number,
  ) {
    super(`no majority of the ${acceptors} members answered for the cluster map of epoch ${epoch} (${answered} did)`);
    this.name = 'NoMajorityError';
  }
}

/**
 * Proposes cluster maps: single-decree Paxos for each epoch among the members of the map before it (docs/ARCHITECTURE.md,
 * The cluster map and membership changes). Any proxy may propose; for one epoch at most one map is ever chosen, and a
 * proposer that learns of another (or of a later epoch) reports it rather than overriding it.
 */
export class MapProposer {
  private round = 0;

  constructor(private readonly options: MapProposerOptions) {}

  /**
   * Proposes `proposed` (its `epoch` must be `current.epoch + 1`, or 1 with `current` null: seeding a new cluster
   * among `seedIds`). First brings every acceptor that lacks `current` up to it. Commits the chosen map to every member
   * of `current` and of the chosen map that answers.
   * @throws NoMajorityError when a majority of the acceptors did not answer in the rounds allowed.
   */
  async propose(current: ClusterMap | null, proposed: ClusterMap, seedIds: readonly string[] = []): Promise<ProposalOutcome> {
    const epoch = proposed.epoch;
    if (epoch !== (current?.epoch ?? 0) + 1) throw new TypeError(`a proposal for epoch ${epoch} must follow epoch ${current?.epoch ?? 0}`);
    const acceptors = current === null ? [...seedIds] : current.members.map((member) => member.id);
    if (acceptors.length === 0) throw new TypeError('no acceptors');
    const majority = Math.floor(acceptors.length / 2) + 1;
    const attemptsMax = this.options.attemptsMax ?? 8;
    let answered = 0;
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      if (attempt > 0) await this.backOff(attempt);
      this.round += 1;
      const ballot: Ballot = { round: this.round, proposer: this.options.proposerId };
      const promises = await this.everyOf(acceptors, (id) => this.options.peers.prepare(id, epoch, ballot));
      const learned = this.learned(promises);
      if (learned !== undefined) return this.learn(learned, current, proposed);
      await this.catchUp(promises, acceptors, current);
      this.noteRefusals(promises);
      const oks = promises.filter((reply): reply is Extract<PaxosReply, { outcome: 'ok' }> => reply?.outcome === 'ok');
      answered = promises.filter((reply) => reply !== undefined).length;
      if (oks.length < majority) continue;
      let value = proposed;
      let highest: Ballot | undefined;
      for (const ok of oks) {
        if (ok.accepted !== null && (highest === undefined || compareBallots(ok.accepted.ballot, highest) > 0)) {
          highest = ok.accepted.ballot;
          value = ok.accepted.map;
        }
      }
      const accepts = await this.everyOf(acceptors, (id) => this.options.peers.accept(id, ballot, value));
      const learnedLate = this.learned(accepts);
      if (learnedLate !== undefined) return this.learn(learnedLate, current, proposed);
      this.noteRefusals(accepts);
      if (accepts.filter((reply) => reply?.outcome === 'ok').length < majority) continue;
      await this.commitEverywhere(value, current);
      return sameMap(value, proposed) ? { outcome: 'chosen', map: value } : { outcome: 'lost', map: value };
    }
    throw new NoMajorityError(epoch, answered, acceptors.length);
  }

  /**
   * Tells every member of `map` (and of `previous`) that `map` is chosen; resolves with the ids that stored it.
   * A node that fails is left behind: it learns the map later (its epoch in a probe, or a proposal's catch-up).
   */
  async commitEverywhere(map: ClusterMap, previous: ClusterMap | null): Promise<string[]> {
    const ids = new Set(map.members.map((member) => member.id));
    for (const member of previous?.members ?? []) ids.add(member.id);
    const outcomes = await Promise.allSettled([...ids].map((id) => this.options.peers.commit(id, map)));
    return [...ids].filter((_, i) => {
      const outcome = outcomes[i];
      return outcome.status === 'fulfilled' && outcome.value >= map.epoch;
    });
  }

  /** A reply naming a committed map of the epoch proposed or later: the proposal lost to it. */
  private learned(replies: readonly (PaxosReply | undefined)[]): ClusterMap | undefined {
    let newest: ClusterMap | undefined;
    for (const reply of replies) {
      if (reply?.outcome === 'committed' && (newest === undefined || reply.map.epoch > newest.epoch)) newest = reply.map;
    }
    return newest;
  }

  /** A committed map learned instead: the proposal's own (another proposer completed it), or another. */
  private async learn(map: ClusterMap, current: ClusterMap | null, proposed: ClusterMap): Promise<ProposalOutcome> {
    await this.commitEverywhere(map, current);
    return map.epoch === proposed.epoch && sameMap(map, proposed) ? { outcome: 'chosen', map } : { outcome: 'lost', map };
  }

  /** Acceptors that lack the map before the proposed epoch are given it, so that they take part in the next round. */
  private async catchUp(replies: readonly (PaxosReply | undefined)[], acceptors: readonly string[], current: ClusterMap | null): Promise<void> {
    if (current === null) return;
    const behind = acceptors.filter((_, i) => replies[i]?.outcome === 'behind');
    await Promise.allSettled(behind.map((id) => this.options.peers.commit(id, current)));
  }

  /** A refusal names the ballot promised: the next round starts above it. */
  private noteRefusals(replies: readonly (PaxosReply | undefined)[]): void {
    for (const reply of replies) if (reply?.outcome === 'refused' && reply.promised.round >= this.round) this.round = reply.promised.round;
  }

  /** Calls every acceptor at once; a failure is `undefined`. */
  private async everyOf(ids: readonly string[], call: (id: string) => Promise<PaxosReply>): Promise<(PaxosReply | undefined)[]> {
    const outcomes = await Promise.allSettled(ids.map((id) => call(id)));
    return outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : undefined));
  }

  /** Random back-off that grows with the attempts, so that duelling proposers let one of them finish. */
  private backOff(attempt: number): Promise<void> {
    const random = this.options.random ?? Math.random;
    const ms = Math.round((20 + random() * 80) * Math.min(attempt, 5));
    return new Promise((resolve) => this.options.timers.setTimeout(resolve, ms));
  }
}

/** Whether two maps are the same (the proposer's own value came back, or another's). */
export function sameMap(a: ClusterMap, b: ClusterMap): boolean {
  return JSON.stringify(validateClusterMap(a)) === JSON.stringify(validateClusterMap(b));
}
