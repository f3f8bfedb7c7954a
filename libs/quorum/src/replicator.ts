import { compareVersions, ErrorCode, isKvError, NODE_TIMEOUT_MS_DEFAULT, versionMs, type KvError } from '@kv/protocol';
import type { HintStore } from './hint-store';
import { ringPlacement, type Placement, type PreferenceLists, type WriteSet } from './placement';
import type { NodeHealth } from './node-health';
import { QuorumError } from './quorum-error';
import { ReadTally, type ReadReply } from './read-tally';
import { WriteTally } from './write-tally';
import { systemClock } from './system-clock';
import { RequestEndedError, type RequestScope } from './request-scope';
import type { Clock, Timers } from './time';
import type { ReplicaEntry, Transport, VersionSource, WriteReply, WriteRequest } from './transport';

export type { PreferenceLists } from './placement';

/** How a read brings stale replicas up to date. */
export type ReadRepairMode = 'blocking' | 'background';

/** Observers of the replicator's events, for metrics and logs; each must be cheap and must not throw. */
export interface ReplicatorEvents {
  /** A write or read missed its quorum. */
  quorumFailed?(kind: 'write' | 'read', acks: number, required: number): void;
  /** A read wrote the newest version back to `replicas` stale replicas. */
  readRepaired?(replicas: number): void;
  /** A replica missed a write and a hint was recorded for it. */
  hinted?(nodeId: string): void;
  /** Recording a hint failed (the hint is lost; read repair and anti-entropy remain). */
  hintFailed?(nodeId: string, error: unknown): void;
  /** A one-phase write found a newer version on every replica and was redone in two phases. */
  versionRetried?(key: string): void;
  /** A version seen on a replica was too far ahead of this coordinator's clock to follow (a clock misbehaves). */
  versionIgnored?(version: string): void;
}

/** Options of {@link Replicator}. */
export interface ReplicatorOptions {
  /** Where keys live: a fixed ring (N replicas per key), unless `placement` is given. */
  ring?: PreferenceLists;
  /** Where keys live, from a cluster map (see `mapPlacement`); replaced with {@link Replicator.setPlacement}. */
  placement?: Placement;
  transport: Transport;
  versions: VersionSource;
  /** Orders replicas for reads (up first); writes go to all replicas whatever their health. */
  health?: NodeHealth;
  /** Where hints for missed writes go; without one, missed writes wait for read repair. */
  hints?: HintStore;
  /** N: copies of each key (default 3). */
  replicas?: number;
  /** W: acknowledgements a write needs (default 2). */
  writeQuorum?: number;
  /** R: replies a read needs (default 2). */
  readQuorum?: number;
  /** Deadline of one request to a replica, in ms (default 1000). */
  timeoutMs?: number;
  /**
   * `blocking` (default): a read that saw stale replicas writes the newest version back until W replicas hold it,
   * before answering; this is what makes reads monotonic. `background` answers first and repairs later (after
   * `backgroundRepairDelayMs`, as a periodic repair would): reads may then go back in time. It exists to prove that
   * the tests catch that; do not use it in production.
   */
  readRepair?: ReadRepairMode;
  /**
   * What a write does when replicas hold a newer version than the one it was given: `refuse` (default) never
   * acknowledges a write that may sort before a write that completed first (see {@link Replicator.write});
   * `acknowledge` answers once W replicas hold its version or a newer one, in one phase, although reads may never
   * return it. `acknowledge` exists only to prove that the tests catch it.
   */
  supersededWrites?: 'refuse' | 'acknowledge';
  /**
   * Whether this coordinator knows that it is the only one serving the cluster (`CoordinatorPresence.alone`): writes
   * then take one phase, else two (see {@link Replicator.write}). Default: always (a replicator used on its own).
   * Answering true while another coordinator is live is unsafe; answering false costs one read round trip per write.
   */
  alone?: () => boolean;
  /**
   * Whether this coordinator may acknowledge a write now (default: always). A coordinator that was paused or cut off
   * for longer than half its lease must not: another one may have taken it for gone and written in one phase. Such a
   * write fails as an unknown outcome.
   */
  mayAcknowledge?: () => boolean;
  /** Refuses reads and writes while this coordinator may not serve (it joins the cluster); default: never. */
  admission?: () => KvError | undefined;
  /** A replica refused a request as of an older cluster map than its own: the caller fetches the newer one. */
  staleEpoch?: (nodeId: string, error: KvError) => void;
  /** Delay of the repairs of `readRepair: 'background'`, in ms (default 1000). */
  backgroundRepairDelayMs?: number;
  /** Timers of the delayed background repairs (default: the process's). */
  timers?: Timers;
  /**
   * The wall clock that decides whether a value read has expired (default: the process's): the coordinator's own,
   * never a replica's (docs/ARCHITECTURE.md, Expiring keys).
   */
  clock?: Clock;
  events?: ReplicatorEvents;
}

/**
 * When a written value expires: `ttlMs` after the ms of the version the write gets (so the expiry comes from the same
 * clock as the version), or at `expiresAt` (ms since the epoch). Neither: the value does not expire.
 */
export interface Expiry {
  ttlMs?: number;
  expiresAt?: number;
}

/** Per-request overrides; `ttlMs` or `expiresAt` make the value written expire (see {@link Expiry}). */
export interface WriteOptions extends Expiry {
  /** Acknowledgements this write needs, 1..N (default W). */
  w?: number;
  /** The client request's id, passed on to the replicas for their logs. */
  requestId?: string;
  /** The client request's deadline and cancellation: operations of a request that ended are not sent. */
  scope?: RequestScope;
}

/** Per-request overrides. */
export interface ReadOptions {
  /** Replies this read needs, 1..N (default R). */
  r?: number;
  /** The client request's id, passed on to the replicas for their logs. */
  requestId?: string;
  /** The client request's deadline and cancellation: operations of a request that ended are not sent. */
  scope?: RequestScope;
}

/** The outcome of an acknowledged write. */
export interface WriteResult {
  readonly version: string;
  /** Replicas that acknowledged before the answer (at least `w`). */
  readonly acks: number;
  /** When the value written expires (ms since the epoch), for a write with an expiry. */
  readonly expiresAt?: number;
}

/** The newest live entry of a key. */
export interface ReadResult {
  readonly value: string;
  readonly version: string;
  /** When the value expires (ms since the epoch), if it does. */
  readonly expiresAt?: number;
}

/** A write of {@link Replicator.writeMany}: `value` null writes a tombstone; an expiry makes a value expire. */
export interface ManyEntry extends Expiry {
  key: string;
  value: string | null;
}

/** Default N, W, R: 2 + 2 > 3, so every read quorum meets every write quorum. */
export const REPLICAS_DEFAULT = 3;
export const WRITE_QUORUM_DEFAULT = 2;
export const READ_QUORUM_DEFAULT = 2;
/** Default deadline of one replica request: the internal API's (`NODE_TIMEOUT_MS`). */
export const REPLICA_TIMEOUT_MS_DEFAULT = NODE_TIMEOUT_MS_DEFAULT;
/**
 * Keys remembered as having conflicted lately (a one-phase write found a newer version): their writes take two
 * phases. Enough for the hot keys of a workload; a forgotten key costs at most one more conflict.
 */
export const CONFLICT_KEYS_MAX = 10_000;
/**
 * Times a request is sent again after a replica refused it as of an older cluster map (`KV_STALE_EPOCH`), once the
 * newer map is in use: membership changes come one at a time, so one more map is usually all it takes.
 */
const STALE_EPOCH_RETRIES = 2;

/**
 * The coordinator's logic: strict quorums over a key's preference list, read failover, blocking read repair and
 * hinted handoff. It does no I/O of its own: replicas are reached through the injected {@link Transport}, versions
 * come from the injected {@link VersionSource}.
 *
 * Guarantees (with R + W > N and the default blocking read repair):
 * - a write resolves only once W replicas of the key's preference list acknowledged it (no stand-in nodes);
 * - a read returns the newest version among R replicas, and before answering makes sure W replicas hold it, so a
 *   later read never returns an older version than an earlier one did;
 * - a write that fails with {@link QuorumError} may still have been applied by some replicas: its outcome is unknown,
 *   and it may appear later (hints deliver it); once a read returned it, it stays.
 */
export class Replicator {
  private currentPlacement!: Placement;
  /** Requests waiting for a placement newer than an epoch (after a replica refused theirs as stale). */
  private placementWaiters: { epoch: number; resolve: (newer: boolean) => void }[] = [];
  private readonly transport: Transport;
  private readonly versions: VersionSource;
  private readonly health: NodeHealth | undefined;
  private readonly hints: HintStore | undefined;
  readonly replicas: number;
  readonly writeQuorum: number;
  readonly readQuorum: number;
  readonly timeoutMs: number;
  private readonly readRepair: ReadRepairMode;
  private readonly backgroundRepairDelayMs: number;
  private readonly supersededWrites: 'refuse' | 'acknowledge';
  private readonly alone: () => boolean;
  private readonly mayAcknowledge: () => boolean;
  private readonly admission: () => KvError | undefined;
  private readonly onStaleEpoch: (nodeId: string, error: KvError) => void;
  private readonly conflicts = new Set<string>();
  /** Replica writes and hint records not settled yet (see {@link Replicator.settled}). */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly events: ReplicatorEvents;

  /** @throws TypeError on nonsense settings (W or R outside 1..N, N < 1, timeout <= 0). */
  constructor(options: ReplicatorOptions) {
    this.transport = options.transport;
    this.versions = options.versions;
    this.health = options.health;
    this.hints = options.hints;
    this.replicas = options.replicas ?? REPLICAS_DEFAULT;
    if (!Number.isInteger(this.replicas) || this.replicas < 1) {
      throw new TypeError(`replicas must be an integer >= 1, got ${this.replicas}`);
    }
    this.writeQuorum = this.checkQuorum('writeQuorum', options.writeQuorum ?? Math.min(WRITE_QUORUM_DEFAULT, this.replicas));
    this.readQuorum = this.checkQuorum('readQuorum', options.readQuorum ?? Math.min(READ_QUORUM_DEFAULT, this.replicas));
    if (options.placement !== undefined) this.currentPlacement = options.placement;
    else if (options.ring !== undefined) this.currentPlacement = ringPlacement(options.ring, this.replicas);
    else throw new TypeError('a replicator needs a ring or a placement');
    this.timeoutMs = options.timeoutMs ?? REPLICA_TIMEOUT_MS_DEFAULT;
    if (!(this.timeoutMs > 0) || !Number.isFinite(this.timeoutMs)) {
      throw new TypeError(`timeoutMs must be a positive number, got ${this.timeoutMs}`);
    }
    this.readRepair = options.readRepair ?? 'blocking';
    if (this.readRepair !== 'blocking' && this.readRepair !== 'background') {
      throw new TypeError(`readRepair must be 'blocking' or 'background', got ${String(this.readRepair)}`);
    }
    this.events = options.events ?? {};
    this.backgroundRepairDelayMs = options.backgroundRepairDelayMs ?? 1000;
    this.supersededWrites = options.supersededWrites ?? 'refuse';
    this.alone = options.alone ?? (() => true);
    this.mayAcknowledge = options.mayAcknowledge ?? (() => true);
    this.admission = options.admission ?? (() => undefined);
    this.onStaleEpoch = options.staleEpoch ?? (() => undefined);
    this.timers = options.timers ?? systemClock;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Replaces the placement (a newer cluster map); requests already started keep the replicas they computed (a data node
   * of a newer epoch refuses them, see docs/ARCHITECTURE.md, The cluster map and membership changes).
   */
  setPlacement(placement: Placement): void {
    this.currentPlacement = placement;
    const waiting = this.placementWaiters;
    this.placementWaiters = waiting.filter((waiter) => waiter.epoch >= placement.epoch);
    for (const waiter of waiting) if (waiter.epoch < placement.epoch) waiter.resolve(true);
  }

  /**
   * Resolves true once the placement is newer than `epoch` (at once if it is already), false if none comes within the
   * node timeout: a replica refused a request of that epoch as stale, and the coordinator fetches the newer map.
   */
  private placementAfter(epoch: number): Promise<boolean> {
    if (this.currentPlacement.epoch > epoch) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { epoch, resolve };
      this.placementWaiters.push(waiter);
      this.timers.setTimeout(() => {
        const i = this.placementWaiters.indexOf(waiter);
        if (i < 0) return;
        this.placementWaiters.splice(i, 1);
        resolve(false);
      }, this.timeoutMs);
    });
  }

  /** Where keys live now. */
  get placement(): Placement {
    return this.currentPlacement;
  }

  /** The epoch of the cluster map the placement comes from (0: a fixed ring). */
  get epoch(): number {
    return this.currentPlacement.epoch;
  }

  /**
   * Stores `value` under `key` with a new version.
   * @throws QuorumError when fewer than `w` replicas acknowledged in time (the outcome is unknown).
   * @throws TypeError on a bad `w`.
   */
  set(key: string, value: string, options?: WriteOptions): Promise<WriteResult> {
    return this.write(key, value, options);
  }

  /**
   * Deletes `key` by writing a tombstone with a new version. Deleting a missing key succeeds (idempotent).
   * @throws QuorumError when fewer than `w` replicas acknowledged in time (the outcome is unknown).
   * @throws TypeError on a bad `w`.
   */
  delete(key: string, options?: WriteOptions): Promise<WriteResult> {
    return this.write(key, null, options);
  }

  /**
   * Writes `value` (`null`: a tombstone) under `key` with a new version, to all N replicas; resolves once `w` have
   * acknowledged, while the others finish in the background (a hint is recorded for each one that fails).
   *
   * The version is chosen so that the write sorts after every write and read that completed before it started, whatever
   * the coordinators' clocks say (docs/ARCHITECTURE.md, Several coordinators):
   * - **one phase** (alone, and no conflict on this key lately): the version comes from this coordinator's clock and
   *   the write is acknowledged only if `w` replicas hold exactly it. A replica holding a newer version means another
   *   coordinator's write may have completed first: the write is then redone in two phases if its version reached no
   *   replica at all, or fails as an unknown outcome otherwise (resending it under another version could make its
   *   value appear twice);
   * - **two phases** (other coordinators are active, or this key conflicted lately): the newest version of the key is
   *   read from a read quorum first, the clock moves past it, and the write is acknowledged once `w` replicas hold its
   *   version or a newer one (a newer one belongs to a concurrent write, which then follows this one).
   */
  async write(key: string, value: string | null, options?: WriteOptions): Promise<WriteResult> {
    const w = options?.w === undefined ? this.writeQuorum : this.checkQuorum('w', options.w);
    this.admit();
    const via: Via = options;
    if (this.supersededWrites === 'refuse' && this.needsTwoPhases(key)) return this.writeInTwoPhases(key, value, w, via, options);
    const request = writeRequestOf(key, value, this.versions.next(), options);
    const { tally, complete } = await this.writeToPlacement(request, w, via);
    const decision = this.decide(tally, false);
    if (decision === 'acknowledge') return resultOf(request, tally.acks);
    if (decision === 'fail') throw this.writeFailed(tally);
    if (decision === 'lapsed') throw this.lapsedWrite(tally);
    return this.afterConflict(tally, complete, key, value, w, via, options);
  }

  /**
   * Writes many keys at once (a bulk write): each entry with the semantics of {@link Replicator.write} (its own
   * version, W acknowledgements among its own replicas, hints for replicas that miss it), but sent to each node as
   * one group, so the cost per key is a fraction of a single write's. The keys must be distinct: writes of one key
   * would race. Each entry may carry its own expiry ({@link Expiry}).
   * @returns one result per entry, in order: a {@link WriteResult}, or the {@link QuorumError} of an entry that
   *   missed its quorum. Resolves once every entry is settled.
   * @throws TypeError on a bad `w` or a key given twice.
   */
  async writeMany(
    entries: readonly ManyEntry[],
    options?: WriteOptions,
  ): Promise<(WriteResult | QuorumError)[]> {
    const w = options?.w === undefined ? this.writeQuorum : this.checkQuorum('w', options.w);
    const n = entries.length;
    if (n === 0) return [];
    this.admit();
    const seen = new Set<string>();
    for (const { key } of entries) {
      if (seen.has(key)) throw new TypeError(`writeMany: key ${JSON.stringify(key)} is given twice`);
      seen.add(key);
    }
    const twoPhases = this.supersededWrites === 'refuse' && entries.some(({ key }) => this.needsTwoPhases(key));
    const results: (WriteResult | QuorumError | undefined)[] = new Array(n);
    const replicasOf = entries.map(({ key }) => this.currentPlacement.writeSet(key));
    if (twoPhases) {
      // Phase one of every entry at once: the transport batches the reads per node.
      const newest = await Promise.all(
        entries.map(({ key }) => this.newestVersion(key, options).catch((error: unknown) => asQuorumError(error, w))),
      );
      newest.forEach((outcome, i) => {
        if (outcome instanceof QuorumError) results[i] = outcome;
        else if (outcome !== undefined && !this.versions.observe(outcome)) results[i] = this.aheadOfClock(outcome, w);
      });
    }
    const requests: (WriteRequest | undefined)[] = entries.map((entry, i) =>
      results[i] === undefined ? writeRequestOf(entry.key, entry.value, this.versions.next(), entry) : undefined,
    );
    const byNode = new Map<string, number[]>();
    const sending: number[] = [];
    let shared = true;
    for (let i = 0; i < n; i++) {
      if (requests[i] === undefined) continue;
      if (sending.length > 0 && shared && !sameMembers(replicasOf[i].targets, replicasOf[sending[0]].targets)) shared = false;
      sending.push(i);
      for (const nodeId of replicasOf[i].targets) {
        let indexes = byNode.get(nodeId);
        if (indexes === undefined) {
          indexes = [];
          byNode.set(nodeId, indexes);
        }
        indexes.push(i);
      }
    }
    const counted = this.countedPredicate();
    const tallies = requests.map((request, i) =>
      request === undefined ? undefined : new WriteTally(replicasOf[i].targets, counted, request.version, w, replicasOf[i].groups),
    );
    const everyReply = requests.map(() => deferred());
    let unsettled = sending.length;
    if (unsettled === 0) return results as (WriteResult | QuorumError)[];

    return new Promise((resolve) => {
      const settle = (i: number, result: WriteResult | QuorumError): void => {
        results[i] = result;
        unsettled -= 1;
        if (unsettled === 0) resolve(results as (WriteResult | QuorumError)[]);
      };
      const decided = (i: number): void => {
        const tally = tallies[i] as WriteTally;
        const decision = this.decide(tally, twoPhases);
        if (decision === 'acknowledge') settle(i, resultOf(requests[i] as WriteRequest, tally.acks));
        else if (decision === 'fail') settle(i, this.writeFailed(tally));
        else if (decision === 'lapsed') settle(i, this.lapsedWrite(tally));
        else {
          const { key, value } = entries[i];
          this.afterConflict(tally, everyReply[i].promise, key, value, w, options, entries[i]).then(
            (result) => settle(i, result),
            (error: unknown) => settle(i, asQuorumError(error, w)),
          );
        }
      };
      const onReply = (i: number, nodeId: string, reply: WriteReply | Error): void => {
        const tally = tallies[i] as WriteTally;
        const before = tally.state;
        if (reply instanceof Error) {
          if (!(reply instanceof RequestEndedError)) this.recordHint(nodeId, requests[i] as WriteRequest);
          tally.fail(nodeId);
        } else {
          tally.ack(nodeId, reply.version);
        }
        if (tally.complete) everyReply[i].resolve();
        if (before === 'pending' && tally.state !== 'pending') decided(i);
      };
      for (const i of sending) if ((tallies[i] as WriteTally).state === 'failed') decided(i);
      for (const [nodeId, indexes] of byNode) {
        // With one replica set for every key (three nodes), every node gets the same array: serialized once.
        const group = shared && indexes.length === sending.length && sending.length === n
          ? (requests as WriteRequest[])
          : indexes.map((i) => requests[i] as WriteRequest);
        const sent = this.track(
          this.transport.writeMany
            ? this.transport.writeMany(nodeId, group, this.timeoutMs, options?.requestId, options?.scope)
            : Promise.all(group.map((request) => this.transport.write(nodeId, request, this.timeoutMs, options?.requestId, options?.scope).catch((error: unknown) => asError(error)))),
        );
        sent.then(
          (replies) => {
            for (let j = 0; j < indexes.length; j++) onReply(indexes[j], nodeId, replies[j]);
          },
          (error: unknown) => {
            const reason = asError(error);
            for (const i of indexes) onReply(i, nodeId, reason);
          },
        );
      }
    });
  }

  /**
   * Reads `key`: asks R replicas (healthy first, primary first among them), failing over to the next replica on an
   * error or timeout, and returns the newest version; `undefined` when there is none, it is a tombstone, or a value
   * whose `expiresAt` is at or before this coordinator's clock (the replicas' clocks do not decide).
   * Stale replicas among those asked are repaired before answering (see {@link ReplicatorOptions.readRepair}).
   * @throws QuorumError when fewer than `r` replicas answered, or the newest version could not be brought to W
   *   replicas.
   * @throws TypeError on a bad `r`.
   */
  async get(key: string, options?: ReadOptions): Promise<ReadResult | undefined> {
    const entry = await this.read(key, options);
    if (entry === undefined || entry.value === null) return undefined;
    const expiresAt = entry.expiresAt;
    if (expiresAt === undefined) return { value: entry.value, version: entry.version };
    return expiresAt <= this.clock.now() ? undefined : { value: entry.value, version: entry.version, expiresAt };
  }

  /**
   * Like {@link Replicator.get}, but returns tombstones as entries with `value: null`, and values as they are, expired
   * or not (with their `expiresAt`). At an equal version a value wins over a tombstone (which can only be that value's
   * expiry on a replica): then this coordinator's clock decides, not the replica's.
   */
  async read(key: string, options?: ReadOptions): Promise<ReplicaEntry | undefined> {
    const r = options?.r === undefined ? this.readQuorum : this.checkQuorum('r', options.r);
    this.admit();
    const { order, replies } = await this.readFromPlacement(key, r, options);

    let newest: ReplicaEntry | undefined;
    for (const reply of replies) {
      const entry = reply.entry;
      if (entry === undefined) continue;
      if (newest === undefined) newest = entry;
      else {
        const order = compareVersions(entry.version, newest.version);
        if (order > 0 || (order === 0 && newest.value === null && entry.value !== null)) newest = entry;
      }
    }
    if (newest === undefined) return undefined;
    if (!this.versions.observe(newest.version)) this.events.versionIgnored?.(newest.version);

    const stale: string[] = [];
    let holders = 0;
    for (const reply of replies) {
      if (reply.entry !== undefined && compareVersions(reply.entry.version, newest.version) === 0) holders += 1;
      else stale.push(reply.nodeId);
    }
    if (stale.length === 0) return newest;

    this.events.readRepaired?.(stale.length);
    const asked = new Set(replies.map((reply) => reply.nodeId));
    // Stale replicas that answered come first; replicas not asked are used only if those fail.
    const targets = [...stale, ...order.filter((id) => !asked.has(id))];
    // The same entry, expiry included: a repaired copy of an expiring value expires with it.
    const request: WriteRequest = { key, value: newest.value, version: newest.version, expiresAt: newest.expiresAt };
    const writeSet = this.currentPlacement.writeSet(key);
    if (writeSet.groups.length > 1 && this.readRepair === 'blocking') {
      // During a membership change the newest version must reach a write quorum of the old owners and one of the new
      // (as a write would), or a reader of the other ring could miss what this read returned.
      const { tally } = await this.writeToReplicas(writeSet, request, this.writeQuorum, options);
      if (tally.state !== 'done') {
        this.events.quorumFailed?.('read', tally.acks, tally.required);
        throw new QuorumError('read', tally.acks, tally.required, 'the newest version could not be written back to a write quorum of the old and the new owners');
      }
      return newest;
    }
    if (this.readRepair === 'background') {
      this.timers.setTimeout(() => {
        for (const nodeId of stale) this.repairInBackground(nodeId, request);
      }, this.backgroundRepairDelayMs);
      return newest;
    }
    const required = Math.min(this.writeQuorum, order.length);
    if (holders < required) await this.repair(targets, request, holders, required);
    else for (const nodeId of stale) this.repairInBackground(nodeId, request);
    return newest;
  }

  /**
   * What a settled write tally means: `acknowledge`, `fail` (fewer than W acknowledgements: unknown outcome), or
   * `conflict` (one phase only: W acknowledged, but some hold a newer version than this write's, so it may sort
   * before a write that completed first).
   */
  private decide(tally: WriteTally, twoPhases: boolean): 'acknowledge' | 'fail' | 'conflict' | 'lapsed' {
    if (tally.state === 'failed') return 'fail';
    if (!this.mayAcknowledge()) return 'lapsed';
    // Two phases: the version is past every write that completed before; a newer one is a concurrent write.
    if (twoPhases || this.supersededWrites === 'acknowledge') return 'acknowledge';
    // One phase: W replicas held exactly this version, so none of them held a newer one that completed earlier (a
    // write quorum and this one share a replica).
    return tally.placedEverywhere ? 'acknowledge' : 'conflict';
  }

  /**
   * A one-phase write found newer versions: once every replica has answered, redo it in two phases if its version
   * reached none of them (it cannot have been seen), else report it as an unknown outcome.
   */
  private async afterConflict(
    tally: WriteTally,
    complete: Promise<void>,
    key: string,
    value: string | null,
    w: number,
    via: Via,
    expiry: Expiry | undefined,
  ): Promise<WriteResult> {
    this.noteConflict(key);
    if (tally.newestSeen !== undefined && !this.versions.observe(tally.newestSeen)) this.events.versionIgnored?.(tally.newestSeen);
    await complete;
    if (tally.placedAnywhere === 0 && tally.failedAll === 0) {
      this.events.versionRetried?.(key);
      return this.writeInTwoPhases(key, value, w, via, expiry);
    }
    this.events.quorumFailed?.('write', tally.placed, w);
    throw new QuorumError(
      'write',
      tally.placed,
      w,
      'a newer write of this key through another coordinator reached the replicas first, and this one may be visible already',
    );
  }

  /** A write in two phases: the newest version of the key from a read quorum first, then a version past it. */
  private async writeInTwoPhases(
    key: string,
    value: string | null,
    w: number,
    via: Via,
    expiry: Expiry | undefined,
  ): Promise<WriteResult> {
    const newest = await this.newestVersion(key, via);
    if (newest !== undefined && !this.versions.observe(newest)) throw this.aheadOfClock(newest, w);
    const request = writeRequestOf(key, value, this.versions.next(), expiry);
    if (newest !== undefined && compareVersions(request.version, newest) <= 0) throw this.aheadOfClock(newest, w);
    const { tally } = await this.writeToPlacement(request, w, via);
    const decision = this.decide(tally, true);
    if (decision === 'fail') throw this.writeFailed(tally);
    if (decision === 'lapsed') throw this.lapsedWrite(tally);
    return resultOf(request, tally.acks);
  }

  /** A write this coordinator may not acknowledge: it was paused or cut off for longer than half its lease. */
  private lapsedWrite(tally: WriteTally): QuorumError {
    this.events.quorumFailed?.('write', tally.acks, tally.required);
    return new QuorumError('write', 0, tally.required, "this coordinator's lease lapsed while the write ran (it was paused or cut off)");
  }

  /** @throws the admission's error when this coordinator may not serve now. */
  private admit(): void {
    const refused = this.admission();
    if (refused !== undefined) throw refused;
  }

  /** The newest version (tombstones included) a read quorum of the key's counted replicas holds. */
  private async newestVersion(key: string, via: Via): Promise<string | undefined> {
    const { replies } = await this.readFromPlacement(key, this.readQuorum, via);
    let newest: string | undefined;
    for (const reply of replies) {
      if (reply.entry !== undefined && (newest === undefined || compareVersions(reply.entry.version, newest) > 0)) newest = reply.entry.version;
    }
    return newest;
  }

  /** A key's version this coordinator's clock cannot pass: it is further ahead of its wall clock than allowed. */
  private aheadOfClock(version: string, w: number): QuorumError {
    this.events.versionIgnored?.(version);
    this.events.quorumFailed?.('write', 0, w);
    return new QuorumError('write', 0, w, `the key holds version ${version}, further ahead of this coordinator's clock than it may follow`);
  }

  /** Whether writes of `key` take two phases: other coordinators are active, or the key conflicted lately. */
  private needsTwoPhases(key: string): boolean {
    return !this.alone() || this.conflicts.has(key);
  }

  /** Remembers a key that conflicted, in a bounded set (oldest forgotten first). */
  private noteConflict(key: string): void {
    this.conflicts.delete(key);
    this.conflicts.add(key);
    if (this.conflicts.size > CONFLICT_KEYS_MAX) this.conflicts.delete(this.conflicts.values().next().value as string);
  }

  /** The order in which a key's replicas are read: counted ones only, healthy first, primary first among them. */
  private readOrder(preference: readonly string[]): readonly string[] {
    const health = this.health;
    if (health === undefined) return preference;
    const order = health.order(preference);
    // Replicas excluded from quorums are not asked: what they hold may be older than an acknowledged write.
    return health.allCounted ? order : order.filter((nodeId) => health.isCounted(nodeId));
  }

  private checkQuorum(name: string, value: number): number {
    if (!Number.isInteger(value) || value < 1 || value > this.replicas) {
      throw new TypeError(`${name} must be an integer in 1..${this.replicas}, got ${value}`);
    }
    return value;
  }

  /** Whether a replica's answers count toward quorums (not while it is refilled after a lost disk). */
  private countedPredicate(): (nodeId: string) => boolean {
    const health = this.health;
    return health === undefined || health.allCounted ? () => true : (nodeId) => health.isCounted(nodeId);
  }

  /** The error of a write tally that failed, reported to the events. */
  private writeFailed(tally: WriteTally): QuorumError {
    this.events.quorumFailed?.('write', tally.acks, tally.required);
    if (!tally.tooFewReplicas) return new QuorumError('write', tally.acks, tally.required);
    return new QuorumError('write', 0, tally.required, `only ${tally.total} replicas count toward quorums for this key`);
  }

  /**
   * Sends the write to every replica; resolves with its tally once it settled (`w` acknowledged, or that became
   * impossible once every counted replica answered or timed out), and `complete` once every replica answered. Replicas
   * that fail get a hint, also after the answer.
   */
  private writeToReplicas(
    writeSet: WriteSet,
    request: WriteRequest,
    w: number,
    via: Via,
  ): Promise<{ tally: WriteTally; complete: Promise<void>; staleEpoch: boolean }> {
    const replicas = writeSet.targets;
    const tally = new WriteTally(replicas, this.countedPredicate(), request.version, w, writeSet.groups);
    const everyReply = deferred();
    let staleEpoch = false;
    return new Promise((resolve) => {
      const settle = (): void => resolve({ tally, complete: everyReply.promise, staleEpoch });
      if (tally.state === 'failed') settle();
      for (const nodeId of replicas) {
        this.track(this.transport.write(nodeId, request, this.timeoutMs, via?.requestId, via?.scope)).then(
          (reply) => {
            const pending = tally.state === 'pending';
            if (tally.ack(nodeId, reply.version) !== 'pending' && pending) settle();
            if (tally.complete) everyReply.resolve();
          },
          (error: unknown) => {
            if (isKvError(error, ErrorCode.StaleEpoch)) {
              staleEpoch = true;
              this.onStaleEpoch(nodeId, error);
            }
            // A write its request stopped before sending reached no replica: no hint (the work stops).
            if (!(error instanceof RequestEndedError)) this.recordHint(nodeId, request);
            const pending = tally.state === 'pending';
            if (tally.fail(nodeId) !== 'pending' && pending) settle();
            if (tally.complete) everyReply.resolve();
          },
        );
      }
    });
  }

  /**
   * Writes to the replicas of `writeSet`; when the write fails and a replica refused it as of an older cluster map
   * than its own (`KV_STALE_EPOCH`: it applied nothing), writes the same version again to the key's replicas in the
   * newer map once the coordinator has it. Writing one version twice is harmless: replicas that hold it acknowledge.
   */
  private async writeToPlacement(
    request: WriteRequest,
    w: number,
    via: Via,
  ): Promise<{ tally: WriteTally; complete: Promise<void> }> {
    for (let attempt = 0; ; attempt++) {
      const { epoch } = this.currentPlacement;
      const sent = await this.writeToReplicas(this.currentPlacement.writeSet(request.key), request, w, via);
      if (sent.tally.state !== 'failed' || !sent.staleEpoch || attempt >= STALE_EPOCH_RETRIES || !(await this.placementAfter(epoch))) {
        return sent;
      }
    }
  }

  /**
   * Reads `key` from `r` of its replicas (see {@link Replicator.readFromReplicas}); when that fails and a replica
   * refused as of an older cluster map than its own, reads again from the key's replicas in the newer map once the
   * coordinator has it.
   * @returns the replies, and the order the replicas were asked in.
   */
  private async readFromPlacement(key: string, r: number, via: Via): Promise<{ order: readonly string[]; replies: ReadReply[] }> {
    for (let attempt = 0; ; attempt++) {
      const { epoch } = this.currentPlacement;
      const order = this.readOrder(this.currentPlacement.readSet(key));
      const stale = { seen: false };
      try {
        return { order, replies: await this.readFromReplicas(order, key, r, via, stale) };
      } catch (error) {
        if (!stale.seen || attempt >= STALE_EPOCH_RETRIES || !(await this.placementAfter(epoch))) throw error;
      }
    }
  }

  /**
   * Reads from the first `r` replicas of `order`, moving on to the next one on each failure; `stale.seen` tells
   * whether a replica refused as of an older cluster map than its own.
   */
  private readFromReplicas(
    order: readonly string[],
    key: string,
    r: number,
    via: Via,
    stale?: { seen: boolean },
  ): Promise<ReadReply[]> {
    const tally = new ReadTally(order, r);
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        if (tally.state === 'done') {
          resolve(tally.replies);
        } else {
          this.events.quorumFailed?.('read', tally.replies.length, r);
          reject(new QuorumError('read', tally.replies.length, r));
        }
      };
      const ask = (nodeIds: readonly string[]): void => {
        for (const nodeId of nodeIds) {
          this.transport.read(nodeId, key, this.timeoutMs, via?.requestId, via?.scope).then(
            (entry) => {
              const pending = tally.state === 'pending';
              if (tally.reply(nodeId, entry).state !== 'pending' && pending) settle();
            },
            (error: unknown) => {
              if (isKvError(error, ErrorCode.StaleEpoch)) {
                if (stale !== undefined) stale.seen = true;
                this.onStaleEpoch(nodeId, error);
              }
              const pending = tally.state === 'pending';
              const step = tally.fail(nodeId);
              if (step.state !== 'pending') {
                if (pending) settle();
              } else {
                ask(step.ask);
              }
            },
          );
        }
      };
      if (tally.state === 'failed') {
        settle();
        return;
      }
      ask(tally.start());
    });
  }

  /**
   * Writes the newest version to `targets` in order, as many at a time as are still missing, until `required`
   * replicas hold it (`holders` already do).
   * @throws QuorumError when the targets run out first.
   */
  private async repair(targets: readonly string[], request: WriteRequest, holders: number, required: number): Promise<void> {
    let acks = holders;
    let next = 0;
    while (acks < required) {
      const batch = targets.slice(next, next + (required - acks));
      next += batch.length;
      if (batch.length === 0) {
        this.events.quorumFailed?.('read', acks, required);
        throw new QuorumError('read', acks, required, `the newest version is held by ${acks} replicas only`);
      }
      const outcomes = await Promise.allSettled(batch.map((nodeId) => this.track(this.transport.write(nodeId, request, this.timeoutMs))));
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') acks += 1;
        else this.recordHint(batch[i], request);
      });
    }
    // Targets not needed for the quorum still get the newest version, without waiting.
    for (const nodeId of targets.slice(next)) this.repairInBackground(nodeId, request);
  }

  private repairInBackground(nodeId: string, request: WriteRequest): void {
    this.track(this.transport.write(nodeId, request, this.timeoutMs)).catch(() => this.recordHint(nodeId, request));
  }

  private recordHint(nodeId: string, request: WriteRequest): void {
    if (this.hints === undefined) return;
    this.events.hinted?.(nodeId);
    const { key, value, version, expiresAt } = request;
    this.track(this.hints.add(expiresAt === undefined ? { nodeId, key, value, version } : { nodeId, key, value, version, expiresAt })).catch((error: unknown) =>
      this.events.hintFailed?.(nodeId, error),
    );
  }

  /**
   * Resolves once every write sent to a replica so far has settled and the hints of those that failed were handed to
   * the hint store and recorded: what a coordinator waits for at shutdown, after its servers stopped taking requests
   * and before it closes its node clients and its hint store, so that no hint of a write in flight is lost. Writes
   * settle within the replica timeout.
   */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Counts `operation` among the work {@link Replicator.settled} waits for; returns it unchanged. */
  private track<T>(operation: Promise<T>): Promise<T> {
    const done = operation.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(done);
    // Deleted after the handlers of `operation` registered by the caller ran (and recorded their hints).
    void done.then(() => this.inFlight.delete(done));
    return operation;
  }
}

/**
 * The write of `value` under `key` at `version`, expiring as `expiry` says: `ttlMs` counts from the version's ms, the
 * coordinator's clock when it issued the version. Tombstones never expire. Without an expiry, the object has the
 * same three fields as ever (the hot path of plain writes is unchanged).
 */
function writeRequestOf(key: string, value: string | null, version: string, expiry: Expiry | undefined): WriteRequest {
  if (value === null || expiry === undefined) return { key, value, version };
  const { ttlMs, expiresAt } = expiry;
  if (expiresAt !== undefined) return { key, value, version, expiresAt };
  if (ttlMs !== undefined) return { key, value, version, expiresAt: versionMs(version) + ttlMs };
  return { key, value, version };
}

/** The answer of an acknowledged write, with its expiry when it has one. */
function resultOf(request: WriteRequest, acks: number): WriteResult {
  return request.expiresAt === undefined ? { version: request.version, acks } : { version: request.version, acks, expiresAt: request.expiresAt };
}

/** Where a replica request comes from: the client request's id (for the nodes' logs) and its scope. */
type Via = { readonly requestId?: string; readonly scope?: RequestScope } | undefined;

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (const id of a) if (!b.includes(id)) return false;
  return true;
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

function asQuorumError(thrown: unknown, w: number): QuorumError {
  return thrown instanceof QuorumError ? thrown : new QuorumError('write', 0, w, String(thrown));
}

/** A promise and its resolver. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
