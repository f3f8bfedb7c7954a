import { compareVersions, NODE_TIMEOUT_MS_DEFAULT } from '@kv/protocol';
import type { HintStore } from './hint-store';
import type { NodeHealth } from './node-health';
import { QuorumError } from './quorum-error';
import { ReadTally, type ReadReply } from './read-tally';
import { WriteTally } from './write-tally';
import { systemClock } from './system-clock';
import type { Timers } from './time';
import type { ReplicaEntry, Transport, VersionSource, WriteReply, WriteRequest } from './transport';

/** The part of a hash ring the replicator needs: a key's preference list (replicas, primary first). */
export interface PreferenceLists {
  preferenceList(key: string, n: number): string[];
}

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
  /** A write was retried with a newer version because a replica held a newer one than the coordinator issued. */
  versionRetried?(key: string): void;
}

/** Options of {@link Replicator}. */
export interface ReplicatorOptions {
  ring: PreferenceLists;
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
   * What a write does when replicas hold a newer version than the one it was given (a clock behind): `retry` (default)
   * retries with a version past it and fails if it cannot get past; `acknowledge` answers as if it had been applied,
   * although reads will not return it. `acknowledge` exists only to prove that the tests catch it.
   */
  supersededWrites?: 'retry' | 'acknowledge';
  /** Delay of the repairs of `readRepair: 'background'`, in ms (default 1000). */
  backgroundRepairDelayMs?: number;
  /** Timers of the delayed background repairs (default: the process's). */
  timers?: Timers;
  events?: ReplicatorEvents;
}

/** Per-request overrides. */
export interface WriteOptions {
  /** Acknowledgements this write needs, 1..N (default W). */
  w?: number;
  /** The client request's id, passed on to the replicas for their logs. */
  requestId?: string;
}

/** Per-request overrides. */
export interface ReadOptions {
  /** Replies this read needs, 1..N (default R). */
  r?: number;
  /** The client request's id, passed on to the replicas for their logs. */
  requestId?: string;
}

/** The outcome of an acknowledged write. */
export interface WriteResult {
  readonly version: string;
  /** Replicas that acknowledged before the answer (at least `w`). */
  readonly acks: number;
}

/** The newest live entry of a key. */
export interface ReadResult {
  readonly value: string;
  readonly version: string;
}

/** Default N, W, R: 2 + 2 > 3, so every read quorum meets every write quorum. */
export const REPLICAS_DEFAULT = 3;
export const WRITE_QUORUM_DEFAULT = 2;
export const READ_QUORUM_DEFAULT = 2;
/** Default deadline of one replica request: the internal API's (`NODE_TIMEOUT_MS`). */
export const REPLICA_TIMEOUT_MS_DEFAULT = NODE_TIMEOUT_MS_DEFAULT;
/**
 * Attempts of a write whose version a replica already exceeded (possible only if clocks misbehave or several
 * coordinators race); each attempt takes a version after the newest one seen.
 */
export const WRITE_ATTEMPTS_MAX = 3;

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
  private ring: PreferenceLists;
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
  private readonly supersededWrites: 'retry' | 'acknowledge';
  private readonly timers: Timers;
  private readonly events: ReplicatorEvents;

  /** @throws TypeError on nonsense settings (W or R outside 1..N, N < 1, timeout <= 0). */
  constructor(options: ReplicatorOptions) {
    this.ring = options.ring;
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
    this.supersededWrites = options.supersededWrites ?? 'retry';
    this.timers = options.timers ?? systemClock;
  }

  /** Replaces the ring (membership change); requests already started keep the preference lists they computed. */
  setRing(ring: PreferenceLists): void {
    this.ring = ring;
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
   */
  async write(key: string, value: string | null, options?: WriteOptions): Promise<WriteResult> {
    const w = options?.w === undefined ? this.writeQuorum : this.checkQuorum('w', options.w);
    const replicas = this.ring.preferenceList(key, this.replicas);
    for (let attempt = 1; ; attempt++) {
      const request: WriteRequest = { key, value, version: this.versions.next() };
      const outcome = await this.writeToReplicas(replicas, request, w, options?.requestId);
      const newerSeen = outcome.newestSeen;
      if (newerSeen === undefined || this.supersededWrites === 'acknowledge' || this.versions.covers?.(newerSeen)) {
        return { version: request.version, acks: outcome.acks };
      }
      if (attempt >= WRITE_ATTEMPTS_MAX) {
        // Acknowledging would hide this write behind a version it cannot pass (a clock far ahead wrote it): a later
        // read would not return it. Report the write as failed; its outcome is unknown to the client as usual.
        this.events.quorumFailed?.('write', 0, w);
        throw new QuorumError('write', 0, w, `replicas hold a newer version (${newerSeen}) that this coordinator's clock cannot pass`);
      }
      // A replica held a newer version than the one just issued: this write would be invisible. Observing that
      // version makes the next one sort after it.
      this.versions.observe(newerSeen);
      this.events.versionRetried?.(key);
    }
  }

  /**
   * Writes many keys at once (a bulk write): each entry with the semantics of {@link Replicator.write} (its own
   * version, W acknowledgements among its own replicas, hints for replicas that miss it), but sent to each node as
   * one group, so the cost per key is a fraction of a single write's. The keys must be distinct: writes of one key
   * would race.
   * @returns one result per entry, in order: a {@link WriteResult}, or the {@link QuorumError} of an entry that
   *   missed its quorum. Resolves once every entry is settled.
   * @throws TypeError on a bad `w` or a key given twice.
   */
  async writeMany(
    entries: readonly { key: string; value: string | null }[],
    options?: WriteOptions,
  ): Promise<(WriteResult | QuorumError)[]> {
    const w = options?.w === undefined ? this.writeQuorum : this.checkQuorum('w', options.w);
    const n = entries.length;
    if (n === 0) return [];
    const requests: WriteRequest[] = new Array(n);
    const replicasOf: string[][] = new Array(n);
    const byNode = new Map<string, number[]>();
    let shared = true;
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const { key, value } = entries[i];
      if (seen.has(key)) throw new TypeError(`writeMany: key ${JSON.stringify(key)} is given twice`);
      seen.add(key);
      requests[i] = { key, value, version: this.versions.next() };
      const replicas = this.ring.preferenceList(key, this.replicas);
      replicasOf[i] = replicas;
      if (i > 0 && shared && !sameMembers(replicas, replicasOf[0])) shared = false;
      for (const nodeId of replicas) {
        let indexes = byNode.get(nodeId);
        if (indexes === undefined) {
          indexes = [];
          byNode.set(nodeId, indexes);
        }
        indexes.push(i);
      }
    }
    const counted = this.countedPredicate();
    const tallies = requests.map((request, i) => new WriteTally(replicasOf[i], counted, request.version, w));
    const results: (WriteResult | QuorumError | undefined)[] = new Array(n);
    let unsettled = n;

    return new Promise((resolve) => {
      const settle = (i: number, result: WriteResult | QuorumError): void => {
        results[i] = result;
        unsettled -= 1;
        if (unsettled === 0) resolve(results as (WriteResult | QuorumError)[]);
      };
      const decided = (i: number): void => {
        const tally = tallies[i];
        if (tally.state === 'failed') {
          settle(i, this.writeFailed(tally));
          return;
        }
        const seen = tally.newestSeen;
        if (seen === undefined || this.supersededWrites === 'acknowledge' || this.versions.covers?.(seen)) {
          settle(i, { version: tally.version, acks: tally.acks });
          return;
        }
        // Rare (clocks): redo this one key on the single-key path, which retries with a newer version.
        this.write(requests[i].key, requests[i].value, options).then(
          (result) => settle(i, result),
          (error: unknown) => settle(i, error instanceof QuorumError ? error : new QuorumError('write', 0, w, String(error))),
        );
      };
      const onReply = (i: number, nodeId: string, reply: WriteReply | Error): void => {
        const tally = tallies[i];
        const before = tally.state;
        if (reply instanceof Error) {
          this.recordHint(nodeId, requests[i]);
          tally.fail(nodeId);
        } else {
          tally.ack(nodeId, reply.version);
        }
        if (before === 'pending' && tally.state !== 'pending') decided(i);
      };
      for (let i = 0; i < n; i++) if (tallies[i].state === 'failed') decided(i);
      if (unsettled === 0) return;
      for (const [nodeId, indexes] of byNode) {
        // With one replica set for every key (three nodes), every node gets the same array: serialized once.
        const group = shared && indexes.length === n ? requests : indexes.map((i) => requests[i]);
        const sent = this.transport.writeMany
          ? this.transport.writeMany(nodeId, group, this.timeoutMs, options?.requestId)
          : Promise.all(group.map((request) => this.transport.write(nodeId, request, this.timeoutMs, options?.requestId).catch((error: Error) => error)));
        sent.then(
          (replies) => {
            for (let j = 0; j < indexes.length; j++) onReply(indexes[j], nodeId, replies[j]);
          },
          (error: unknown) => {
            const reason = error instanceof Error ? error : new Error(String(error));
            for (const i of indexes) onReply(i, nodeId, reason);
          },
        );
      }
    });
  }

  /**
   * Reads `key`: asks R replicas (healthy first, primary first among them), failing over to the next replica on an
   * error or timeout, and returns the newest version; `undefined` when there is none or it is a tombstone.
   * Stale replicas among those asked are repaired before answering (see {@link ReplicatorOptions.readRepair}).
   * @throws QuorumError when fewer than `r` replicas answered, or the newest version could not be brought to W
   *   replicas.
   * @throws TypeError on a bad `r`.
   */
  async get(key: string, options?: ReadOptions): Promise<ReadResult | undefined> {
    const entry = await this.read(key, options);
    return entry === undefined || entry.value === null ? undefined : { value: entry.value, version: entry.version };
  }

  /** Like {@link Replicator.get}, but returns tombstones as entries with `value: null`. */
  async read(key: string, options?: ReadOptions): Promise<ReplicaEntry | undefined> {
    const r = options?.r === undefined ? this.readQuorum : this.checkQuorum('r', options.r);
    const preference = this.ring.preferenceList(key, this.replicas);
    const health = this.health;
    let order = health === undefined ? preference : health.order(preference);
    // Replicas excluded from quorums are not asked: what they hold may be older than an acknowledged write.
    if (health !== undefined && !health.allCounted) order = order.filter((nodeId) => health.isCounted(nodeId));
    const replies = await this.readFromReplicas(order, key, r, options?.requestId);

    let newest: ReplicaEntry | undefined;
    for (const reply of replies) {
      if (reply.entry !== undefined && (newest === undefined || compareVersions(reply.entry.version, newest.version) > 0)) newest = reply.entry;
    }
    if (newest === undefined) return undefined;
    this.versions.observe(newest.version);

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
    const request: WriteRequest = { key, value: newest.value, version: newest.version };
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
   * Sends the write to every replica; resolves once `w` acknowledged. When that became impossible, rejects once every
   * counted replica answered or timed out, so that the error reports how many replicas did take the write. Replicas
   * that fail get a hint, also after the answer.
   */
  private writeToReplicas(replicas: readonly string[], request: WriteRequest, w: number, requestId: string | undefined): Promise<WriteTally> {
    const tally = new WriteTally(replicas, this.countedPredicate(), request.version, w);
    if (tally.state === 'failed') return Promise.reject(this.writeFailed(tally));
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        if (tally.state === 'done') resolve(tally);
        else reject(this.writeFailed(tally));
      };
      for (const nodeId of replicas) {
        this.transport.write(nodeId, request, this.timeoutMs, requestId).then(
          (reply) => {
            const pending = tally.state === 'pending';
            if (tally.ack(nodeId, reply.version) !== 'pending' && pending) settle();
          },
          () => {
            this.recordHint(nodeId, request);
            const pending = tally.state === 'pending';
            if (tally.fail(nodeId) !== 'pending' && pending) settle();
          },
        );
      }
    });
  }

  /** Reads from the first `r` replicas of `order`, moving on to the next one on each failure. */
  private readFromReplicas(order: readonly string[], key: string, r: number, requestId: string | undefined): Promise<ReadReply[]> {
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
          this.transport.read(nodeId, key, this.timeoutMs, requestId).then(
            (entry) => {
              const pending = tally.state === 'pending';
              if (tally.reply(nodeId, entry).state !== 'pending' && pending) settle();
            },
            () => {
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
      const outcomes = await Promise.allSettled(batch.map((nodeId) => this.transport.write(nodeId, request, this.timeoutMs)));
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') acks += 1;
        else this.recordHint(batch[i], request);
      });
    }
    // Targets not needed for the quorum still get the newest version, without waiting.
    for (const nodeId of targets.slice(next)) this.repairInBackground(nodeId, request);
  }

  private repairInBackground(nodeId: string, request: WriteRequest): void {
    this.transport.write(nodeId, request, this.timeoutMs).catch(() => this.recordHint(nodeId, request));
  }

  private recordHint(nodeId: string, request: WriteRequest): void {
    if (this.hints === undefined) return;
    this.events.hinted?.(nodeId);
    this.hints
      .add({ nodeId, key: request.key, value: request.value, version: request.version })
      .catch((error: unknown) => this.events.hintFailed?.(nodeId, error));
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (const id of a) if (!b.includes(id)) return false;
  return true;
}
