import { compareBallots, validateClusterMap, type Ballot, type ClusterMap, type PaxosReply } from '@kv/protocol';

/** What a data node keeps of the cluster map, durably: the map it stores, and its Paxos state for the next epoch. */
export interface AcceptorState {
  /** The newest committed map it learned (null before the cluster was seeded). */
  committed: ClusterMap | null;
  /** The highest ballot promised, for the epoch after `committed`. */
  promised: { epoch: number; ballot: Ballot } | null;
  /** The map accepted, with its ballot, for the epoch after `committed`. */
  accepted: { ballot: Ballot; map: ClusterMap } | null;
}

/** The state of a node that never saw a map. */
export const EMPTY_ACCEPTOR_STATE: AcceptorState = { committed: null, promised: null, accepted: null };

/**
 * A data node's part in deciding cluster maps: a single-decree Paxos acceptor per epoch, and the store of the newest
 * committed map (docs/ARCHITECTURE.md, The cluster map and membership changes). Every change of its state is made
 * durable (`persist`) before it answers, so a restarted node never breaks a promise.
 *
 * Calls are serialized: each waits for the previous one's write.
 */
export class MapAcceptor {
  private state: AcceptorState;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    initial: AcceptorState,
    private readonly persist: (state: AcceptorState) => Promise<void>,
  ) {
    this.state = initial;
  }

  /** The newest committed map, or null. */
  get map(): ClusterMap | null {
    return this.state.committed;
  }

  /** The epoch of the newest committed map (0 before the cluster was seeded). */
  get epoch(): number {
    return this.state.committed?.epoch ?? 0;
  }

  /** Phase one: promises `ballot` for `epoch` unless it promised a higher one or already knows that epoch's map. */
  prepare(epoch: number, ballot: Ballot): Promise<PaxosReply> {
    return this.serialize(async () => {
      const committed = this.state.committed;
      if (committed !== null && committed.epoch >= epoch) return { outcome: 'committed', map: committed };
      if (epoch !== this.epoch + 1) return this.behind(epoch);
      const promised = this.promisedFor(epoch);
      if (promised !== null && compareBallots(ballot, promised) < 0) return { outcome: 'refused', promised };
      await this.write({ ...this.state, promised: { epoch, ballot } });
      const accepted = this.state.accepted !== null && this.state.accepted.map.epoch === epoch ? this.state.accepted : null;
      return { outcome: 'ok', accepted };
    });
  }

  /** Phase two: accepts `map` under `ballot` unless it promised a higher ballot or already knows that epoch's map. */
  accept(ballot: Ballot, map: ClusterMap): Promise<PaxosReply> {
    const checked = validateClusterMap(map);
    return this.serialize(async () => {
      const committed = this.state.committed;
      if (committed !== null && committed.epoch >= checked.epoch) return { outcome: 'committed', map: committed };
      if (checked.epoch !== this.epoch + 1) return this.behind(checked.epoch);
      const promised = this.promisedFor(checked.epoch);
      if (promised !== null && compareBallots(ballot, promised) < 0) return { outcome: 'refused', promised };
      await this.write({ ...this.state, promised: { epoch: checked.epoch, ballot }, accepted: { ballot, map: checked } });
      return { outcome: 'ok', accepted: null };
    });
  }

  /** A chosen map: stored when newer than the one held (its Paxos state for older epochs is dropped). */
  commit(map: ClusterMap): Promise<number> {
    const checked = validateClusterMap(map);
    return this.serialize(async () => {
      if (checked.epoch > this.epoch) {
        const keepPromise = this.state.promised !== null && this.state.promised.epoch > checked.epoch;
        const keepAccepted = this.state.accepted !== null && this.state.accepted.map.epoch > checked.epoch;
        await this.write({
          committed: checked,
          promised: keepPromise ? this.state.promised : null,
          accepted: keepAccepted ? this.state.accepted : null,
        });
      }
      return this.epoch;
    });
  }

  private promisedFor(epoch: number): Ballot | null {
    return this.state.promised !== null && this.state.promised.epoch === epoch ? this.state.promised.ballot : null;
  }

  /** A proposal for an epoch beyond the next one: this node lacks the maps in between; the proposer gives it one. */
  private behind(epoch: number): PaxosReply {
    void epoch;
    return { outcome: 'behind', epoch: this.epoch };
  }

  private async write(next: AcceptorState): Promise<void> {
    await this.persist(next);
    this.state = next;
  }

  private serialize<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
