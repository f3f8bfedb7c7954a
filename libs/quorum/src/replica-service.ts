import {
  ErrorCode,
  KvError,
  isInvalidOp,
  oldRingMembers,
  versionMs,
  type Ballot,
  type ClusterMap,
  type InternalEntryLine,
  type InternalOpResult,
  type LiveCoordinator,
  type PaxosReply,
  type ParsedInternalOp,
  type StreamProgress,
} from '@kv/protocol';
import { HashRing, type HashRange } from '@kv/ring';
import { CoordinatorRegistry, parseCoordinatorClaim } from './coordinator-registry';
import { EXPIRY_SWEEP_MAX_DEFAULT, ExpirySweeper } from './expiry-sweeper';
import { KeyIndex, type BucketDigest, type PartDigest } from './key-index';
import { EMPTY_ACCEPTOR_STATE, MapAcceptor, type AcceptorState } from './map-acceptor';
import { applyReplicaOps, type ReplicaStore } from './replica-ops';
import type { Clock } from './time';

/** Default bound on how far ahead of a data node's clock a version may be: far beyond NTP's skew, small enough. */
export const MAX_CLOCK_SKEW_MS_DEFAULT = 60_000;

/** Options of {@link ReplicaService}. */
export interface ReplicaServiceOptions {
  nodeId: string;
  store: ReplicaStore;
  /** The identity of the node's data directory. */
  incarnation: string;
  /** Whether a coordinator has refilled this incarnation (false for a new one: it may lack acknowledged writes). */
  filled: boolean;
  /** Records durably that this incarnation was refilled. */
  recordFilled(incarnation: string): Promise<void>;
  /** The node's wall clock, for bounding versions. */
  wall: Clock;
  /** A monotonic clock, for coordinators' leases. */
  monotonic: Clock;
  /** Versions further ahead of `wall` are refused (default {@link MAX_CLOCK_SKEW_MS_DEFAULT}). */
  maxClockSkewMs?: number;
  /**
   * Every key the store holds, tombstones included, to index them at start (and to find the expiring values the
   * store recovered: they wait for their conversion to tombstones, see {@link ReplicaService.sweepExpired}).
   */
  keys: Iterable<string>;
  /** Expired values converted to tombstones per sweep at most (default {@link EXPIRY_SWEEP_MAX_DEFAULT}). */
  expirySweepMax?: number;
  /** The stored cluster map and Paxos state (default: none yet). */
  mapState?: AcceptorState;
  /** Makes the map and Paxos state durable (before the node answers). */
  persistMap(state: AcceptorState): Promise<void>;
  /** The streaming progress stored (default: none). */
  streamProgress?: StreamProgress | null;
  /** Makes the streaming progress durable. */
  persistStream(progress: StreamProgress): Promise<void>;
  /**
   * Whether the index keeps the range digests up to date as writes apply (default true). Only false to measure what
   * they cost (`TEST_RANGE_DIGESTS=off`): the node then answers every digest as that of nothing.
   */
  rangeDigests?: boolean;
}

/** A range's digest on one node, with its buckets' digests when asked (see `KeyIndex`). */
export interface RangeDigest extends PartDigest {
  readonly buckets?: BucketDigest[];
}

/** One key a node holds: `[key, version, 1 for a tombstone else 0]`. */
export type VersionLine = [key: string, version: string, tombstone: 0 | 1];

/** What a data node tells a coordinator's probe. */
export interface ReplicaStatus {
  nodeId: string;
  incarnation: string;
  filled: boolean;
  coordinators: LiveCoordinator[];
  maxClockSkewMs: number;
  /** The epoch of the stored cluster map (0: none yet). */
  epoch: number;
}

/**
 * A data node's logic apart from any server, shared by the data node app and the in-memory cluster of the tests: the
 * registry of coordinators and their leases, the bound on versions from the future, whether this incarnation was
 * refilled, and the application of internal batches (`applyReplicaOps`).
 */
export class ReplicaService {
  readonly registry: CoordinatorRegistry;
  readonly acceptor: MapAcceptor;
  readonly index: KeyIndex;
  /** The expiring values this node holds, waiting to become tombstones. */
  readonly expiry: ExpirySweeper;
  private filledNow: boolean;
  private stream: StreamProgress | null;
  private streamWrites: Promise<void> = Promise.resolve();
  readonly maxClockSkewMs: number;
  /** The ring of the stored map, for purges (which keys this node is a replica of). */
  private ring: { epoch: number; ring: HashRing } | undefined;

  constructor(private readonly options: ReplicaServiceOptions) {
    this.registry = new CoordinatorRegistry(options.monotonic);
    this.index = new KeyIndex({ digests: options.rangeDigests ?? true });
    this.acceptor = new MapAcceptor(options.mapState ?? EMPTY_ACCEPTOR_STATE, options.persistMap);
    this.stream = options.streamProgress ?? null;
    this.filledNow = options.filled;
    this.maxClockSkewMs = options.maxClockSkewMs ?? MAX_CLOCK_SKEW_MS_DEFAULT;
    if (!Number.isInteger(this.maxClockSkewMs) || this.maxClockSkewMs < 1) {
      throw new TypeError(`maxClockSkewMs must be a positive integer, got ${this.maxClockSkewMs}`);
    }
    this.expiry = new ExpirySweeper(options.store, this.maxClockSkewMs, options.expirySweepMax ?? EXPIRY_SWEEP_MAX_DEFAULT);
    for (const key of options.keys) {
      const entry = options.store.getEntry(key);
      this.index.record(key, entry?.version);
      if (entry !== undefined && entry.value !== null && entry.expiresAt !== undefined) this.expiry.note(key, entry.version, entry.expiresAt);
    }
  }

  /**
   * Turns the values that expired more than `MAX_CLOCK_SKEW_MS` ago (on this node's clock) into tombstones at their
   * own version, a bounded number per call (see {@link ExpirySweeper}); the data node calls it every
   * `EXPIRY_SWEEP_INTERVAL_MS_DEFAULT`. Resolves with the number converted, once durable.
   */
  sweepExpired(): Promise<number> {
    return this.expiry.sweep(this.options.wall.now());
  }

  /** Values this node holds that expired by its clock and are not tombstones yet (not live: `/health` omits them). */
  expiredKeys(): number {
    return this.expiry.expiredBy(this.options.wall.now());
  }

  get incarnation(): string {
    return this.options.incarnation;
  }

  get filled(): boolean {
    return this.filledNow;
  }

  /**
   * Admits a request by the coordinator named in its `x-kv-coordinator` header (none: a tool, not a coordinator, is
   * admitted). A registration is admitted unless another incarnation of the clock id is live.
   * @throws KvError `KV_BAD_REQUEST` for a malformed header, `KV_DUPLICATE_COORDINATOR`, `KV_COORDINATOR_LAPSED`.
   */
  admit(header: string | string[] | undefined, register = false): void {
    let claim;
    try {
      claim = parseCoordinatorClaim(header);
    } catch (error) {
      throw new KvError(ErrorCode.BadRequest, (error as Error).message);
    }
    if (claim === undefined) return;
    const admission = this.registry.admit(claim, register);
    if (admission === 'duplicate') {
      throw new KvError(
        ErrorCode.DuplicateCoordinator,
        `another running coordinator uses the clock id ${claim.clockId} (another incarnation of it is live on node ${this.options.nodeId})`,
      );
    }
    if (admission === 'lapsed') {
      throw new KvError(
        ErrorCode.CoordinatorLapsed,
        `coordinator ${claim.clockId} is not registered on node ${this.options.nodeId}, or its lease lapsed: register again`,
      );
    }
  }

  /**
   * Refuses a request made under an older cluster map than this node's (`x-kv-epoch`): the coordinator must take the
   * newer map and redo the operation. A request without an epoch (a tool) passes.
   * @throws KvError `KV_BAD_REQUEST` for a malformed epoch, `KV_STALE_EPOCH`.
   */
  admitEpoch(header: string | string[] | undefined): void {
    if (header === undefined) return;
    const epoch = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : Number.NaN;
    if (Number.isNaN(epoch)) throw new KvError(ErrorCode.BadRequest, 'x-kv-epoch must be a non-negative integer');
    if (epoch < this.acceptor.epoch) {
      throw new KvError(ErrorCode.StaleEpoch, `node ${this.options.nodeId} has the cluster map of epoch ${this.acceptor.epoch}, newer than ${epoch}`);
    }
  }

  /** Applies one decoded internal batch (see `applyReplicaOps`), refusing versions too far in the future. */
  async apply(ops: readonly ParsedInternalOp[]): Promise<InternalOpResult[]> {
    const results = await applyReplicaOps(this.options.store, ops, { versionMsMax: this.options.wall.now() + this.maxClockSkewMs });
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (!isInvalidOp(op) && op[0] !== 'g') {
        const result = results[i];
        // What the store holds once the write is durable: the last such look at a key is the latest state.
        if (Array.isArray(result) && result[0] === 1) {
          this.index.record(op[1], this.options.store.getEntry(op[1])?.version);
          if (op[0] === 's') this.expiry.note(op[1], op[3], op[4]);
          else this.expiry.note(op[1], op[2], undefined);
        }
      }
    }
    return results;
  }

  /**
   * The digests of the (key, version) pairs this node holds in each of `ranges` (tombstones included), with the
   * digest of each bucket of the range when `buckets` (`POST /internal/digests`).
   */
  digests(ranges: readonly HashRange[], buckets: boolean): RangeDigest[] {
    return ranges.map((range) => ({ ...this.index.digest(range), ...(buckets ? { buckets: this.index.bucketDigests(range) } : {}) }));
  }

  /**
   * The (key, version, tombstone) triples this node holds in `ranges` (`POST /internal/versions`), at most `limit`;
   * with `tombstonesBeforeMs`, only the tombstones whose version's ms is below it.
   */
  versions(ranges: readonly HashRange[], limit: number, tombstonesBeforeMs?: number): VersionLine[] {
    const lines: VersionLine[] = [];
    for (const range of ranges) {
      for (const key of this.index.keysIn(range)) {
        if (lines.length >= limit) return lines;
        const entry = this.options.store.getEntry(key);
        if (entry === undefined) continue;
        const tombstone = entry.value === null;
        if (tombstonesBeforeMs !== undefined && (!tombstone || versionMs(entry.version) >= tombstonesBeforeMs)) continue;
        lines.push([key, entry.version, tombstone ? 1 : 0]);
      }
    }
    return lines;
  }

  /**
   * Purges tombstones that a coordinator confirmed on every replica of their range (`POST /internal/purge`): each
   * `[key, version]` is forgotten if what this node holds is a tombstone at most that version or, on a node that is not
   * a replica of the key under its map, any entry at most that version (a copy kept from a range it owned before). Refused unless this node
   * holds the cluster map of `epoch` with no membership change in progress, so that "every replica" means the replicas
   * the coordinator compared.
   * @returns how many were purged.
   * @throws KvError `KV_STALE_EPOCH` when the node's map is of another epoch or is changing membership.
   */
  async purge(epoch: number, entries: readonly (readonly [key: string, version: string])[]): Promise<number> {
    this.checkPurgeEpoch(epoch);
    const store = this.options.store;
    const owners = this.ownersOf(this.acceptor.map as ClusterMap);
    let purged = 0;
    await Promise.all(
      entries.map(async ([key, version]) => {
        const held = store.getEntry(key);
        // A replica of the key forgets only its tombstone; a node that is not one forgets any older copy it kept.
        if (held === undefined || held.version > version || (held.value !== null && owners(key).includes(this.options.nodeId))) return;
        if (await store.purge(key, version)) purged += 1;
        this.index.record(key, store.getEntry(key)?.version);
      }),
    );
    return purged;
  }

  /** The replicas of a key under `map` (its ring is built once per epoch). */
  private ownersOf(map: ClusterMap): (key: string) => string[] {
    if (this.ring === undefined || this.ring.epoch !== map.epoch) {
      this.ring = { epoch: map.epoch, ring: new HashRing(oldRingMembers(map), { vnodes: map.vnodes }) };
    }
    const { ring } = this.ring;
    return (key) => ring.preferenceList(key, map.replicas);
  }

  private checkPurgeEpoch(epoch: number): void {
    const map = this.acceptor.map;
    if (map === null || map.epoch !== epoch || map.transition !== null) {
      const now = map === null ? 'no cluster map' : `the cluster map of epoch ${map.epoch}${map.transition === null ? '' : ' with a membership change in progress'}`;
      throw new KvError(ErrorCode.StaleEpoch, `node ${this.options.nodeId} has ${now}, not the settled map of epoch ${epoch}: tombstones are purged only under one settled map`);
    }
  }

  /** Every entry (tombstones included) whose key hashes into one of `ranges`, as `[key, version, value]`. */
  *entriesIn(ranges: readonly HashRange[]): IterableIterator<InternalEntryLine> {
    for (const range of ranges) {
      for (const key of this.index.keysIn(range)) {
        const entry = this.options.store.getEntry(key);
        if (entry === undefined) continue;
        yield entry.value === null || entry.expiresAt === undefined ? [key, entry.version, entry.value] : [key, entry.version, entry.value, entry.expiresAt];
      }
    }
  }

  /** The ranges of `change` this node has received in full. */
  streamProgress(change: string): StreamProgress {
    const stream = this.stream;
    return stream !== null && stream.change === change
      ? { change, ranges: [...stream.ranges], keys: stream.keys, bytes: stream.bytes }
      : { change, ranges: [], keys: 0, bytes: 0 };
  }

  /**
   * Records durably that ranges `ranges` of `change` were received in full, with the entries and bytes written for
   * them (added to what is recorded); only the latest change is kept.
   */
  recordStream(change: string, ranges: readonly number[], keys = 0, bytes = 0): Promise<StreamProgress> {
    const next = this.streamWrites.then(async () => {
      const current = this.streamProgress(change);
      for (const range of ranges) if (!current.ranges.includes(range)) current.ranges.push(range);
      current.keys += keys;
      current.bytes += bytes;
      await this.options.persistStream(current);
      this.stream = current;
      return this.streamProgress(change);
    });
    this.streamWrites = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  /** The stored cluster map, or null. */
  get map(): ClusterMap | null {
    return this.acceptor.map;
  }

  /** Paxos phase one (see `MapAcceptor`). */
  prepare(epoch: number, ballot: Ballot): Promise<PaxosReply> {
    return this.acceptor.prepare(epoch, ballot);
  }

  /** Paxos phase two (see `MapAcceptor`). */
  accept(ballot: Ballot, map: ClusterMap): Promise<PaxosReply> {
    return this.acceptor.accept(ballot, map);
  }

  /** A chosen map (see `MapAcceptor`); resolves with the epoch now stored. */
  commit(map: ClusterMap): Promise<number> {
    return this.acceptor.commit(map);
  }

  /** What a coordinator's probe learns. */
  status(): ReplicaStatus {
    return {
      nodeId: this.options.nodeId,
      incarnation: this.options.incarnation,
      filled: this.filledNow,
      coordinators: this.registry.live(),
      maxClockSkewMs: this.maxClockSkewMs,
      epoch: this.acceptor.epoch,
    };
  }

  /**
   * Records that a coordinator refilled `incarnation` (durably first): the node counts toward quorums again.
   * @throws KvError `KV_NODE_CHANGED` when it is not this node's incarnation.
   */
  async markFilled(incarnation: string): Promise<void> {
    if (incarnation !== this.options.incarnation) {
      throw new KvError(ErrorCode.NodeChanged, `node ${this.options.nodeId} is incarnation ${this.options.incarnation}, not ${incarnation}`);
    }
    if (this.filledNow) return;
    await this.options.recordFilled(incarnation);
    this.filledNow = true;
  }
}
