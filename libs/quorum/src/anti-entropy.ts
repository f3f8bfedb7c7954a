import { oldRingMembers, utf8ByteLength, type ClusterMap } from '@kv/protocol';
import { hashKey, HashRing, rangeContains, type HashRange } from '@kv/ring';
import { bucketParts, intersectRanges } from './key-index';
import type { RangeDigest, VersionLine } from './replica-service';
import type { Clock, Timers } from './time';
import type { Transport, WriteRequest } from './transport';

/** How the anti-entropy driver reaches the data nodes. Each call rejects when the node fails. */
export interface AntiEntropyPeers {
  /** The digests of some ranges on a node, with their buckets' digests when asked (`POST /internal/digests`). */
  digests(nodeId: string, ranges: readonly HashRange[], buckets: boolean): Promise<RangeDigest[]>;
  /**
   * The keys a node holds in some ranges with their versions (`POST /internal/versions`); with `tombstonesBeforeMs`,
   * only the tombstones whose version's ms is below it.
   */
  versions(nodeId: string, ranges: readonly HashRange[], tombstonesBeforeMs?: number): Promise<VersionLine[]>;
  /** Purges tombstones confirmed on every replica, under the settled map of `epoch` (`POST /internal/purge`). */
  purge(nodeId: string, epoch: number, entries: readonly (readonly [string, string])[]): Promise<number>;
}

/** Where a round stands, for `GET /cluster/repair`, metrics and logs. */
export interface RepairProgress {
  /** `idle` before the first round; `running`; `done` (every range compared); `failed` (some could not be). */
  readonly state: 'idle' | 'running' | 'done' | 'failed';
  /** Ranges of the ring compared so far in this round, and in all. */
  readonly rangesDone: number;
  readonly rangesTotal: number;
  /** Ranges skipped because fewer than two of their replicas answered, or a replica failed during the repair. */
  readonly rangesFailed: number;
  /** Keys whose replicas held different versions, and keys written to every replica that lacked their newest version. */
  readonly differences: number;
  readonly repaired: number;
  /** Tombstones purged (confirmed on every replica of their range). */
  readonly purged: number;
  /** Bytes (keys, values, versions) written to stale replicas. */
  readonly bytes: number;
  /** The part of the ring compared (the whole ring when absent). */
  readonly keyRange?: HashRange;
  /** Wall-clock ms at which the round started and ended. */
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** Why the round could not run (a membership change in progress, no map yet), when it did not. */
  readonly error?: string;
}

/** What the driver reports; each must be cheap and must not throw. */
export interface AntiEntropyEvents {
  roundStarted?(progress: RepairProgress): void;
  /** One range compared (and repaired, and its tombstones collected). */
  rangeCompared?(progress: RepairProgress, found: { differences: number; repaired: number; purged: number }): void;
  roundFinished?(progress: RepairProgress): void;
}

/** Options of {@link AntiEntropy}. */
export interface AntiEntropyOptions {
  peers: AntiEntropyPeers;
  transport: Transport;
  /** The wall clock: tombstones older than `tombstoneGraceMs` by it are collected. */
  clock: Clock;
  /** A monotonic clock, for the throttle (default `clock`). */
  monotonic?: Clock;
  timers: Timers;
  /** Deadline of one request to a replica, in ms. */
  timeoutMs: number;
  /** Bytes per second written to stale replicas, at most. */
  bytesPerS: number;
  /**
   * Differing keys repaired per second, at most (default {@link ANTI_ENTROPY_KEYS_PER_S_DEFAULT}): bounds the reads of
   * their newest versions and the writes of them, whatever their size.
   */
  keysPerS?: number;
  /** Pause between two ranges, in ms (keeps the digests' CPU off the foreground). */
  pauseMs: number;
  /** Tombstones older than this (by their version's ms) and confirmed on every replica are purged; 0: never. */
  tombstoneGraceMs: number;
  /**
   * Keys repaired together at most (default {@link REPAIR_BATCH_KEYS_MAX}): read in one batch from their holders,
   * then written in one batch to each replica that lacks them. Smaller at low key rates: a batch is about
   * {@link REPAIR_BATCH_MS} of `keysPerS`.
   */
  batchEntries?: number;
  /**
   * Test-only weakening: purges the old tombstones one replica lists without asking the others, to prove that the
   * checks notice a zombie.
   */
  unsafePurgeWithoutConfirmation?: boolean;
  events?: AntiEntropyEvents;
}

/** Default bound on the differing keys a round repairs per second (`ANTI_ENTROPY_KEYS_PER_S`). */
export const ANTI_ENTROPY_KEYS_PER_S_DEFAULT = 1000;
/** Keys repaired together at most: one batch of reads, then one batch of writes per stale replica. */
export const REPAIR_BATCH_KEYS_MAX = 64;
/**
 * A repair batch holds about this many ms of the key rate (and its writes about this many ms of the byte rate), so
 * that the work arrives in small steps spread evenly, not in bursts.
 */
export const REPAIR_BATCH_MS = 20;

/** The largest answer asked of `POST /internal/versions` at once. */
const VERSIONS_PER_REQUEST = 100_000;
/** Ranges (bucket parts) listed per request. */
const PARTS_PER_REQUEST = 1024;
/** Tombstones purged per request. */
const PURGES_PER_REQUEST = 1000;

/** Thrown when a round cannot run now (a membership change in progress). */
export class RepairRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepairRefusedError';
  }
}

/** One range of the ring and its replicas. */
export interface RingRange {
  readonly range: HashRange;
  readonly replicas: readonly string[];
}

/**
 * The ranges of a settled map's ring (one per token: the hashes it owns) with their replicas, restricted to `scope`
 * when given.
 */
export function ringRanges(map: ClusterMap, scope?: HashRange): RingRange[] {
  const ring = new HashRing(oldRingMembers(map), { vnodes: map.vnodes });
  const ranges: RingRange[] = [];
  const count = ring.tokenCount;
  for (let position = 0; position < count; position++) {
    const token = ring.tokenAt(position).token;
    const previous = ring.tokenAt((position + count - 1) % count).token;
    if (count > 1 && previous === token) continue;
    // Token t owns the hashes previous..t-1: as a range (previous - 1, t - 1].
    const range = { start: (previous + 0xffffffff) % 2 ** 32, end: (token + 0xffffffff) % 2 ** 32 };
    const replicas = ring.preferenceListOfHash(range.end, map.replicas);
    for (const part of scope === undefined ? [range] : intersectRanges(range, scope)) ranges.push({ range: part, replicas });
  }
  return ranges;
}

/**
 * Anti-entropy (docs/ARCHITECTURE.md, "Anti-entropy and tombstone collection"): compares the replicas of every range
 * of the ring by digest, narrows differing ranges to buckets, lists the keys of differing buckets, and writes the
 * newest version of each differing key to the replicas that lack it, as ordinary versioned writes (so two drivers at
 * once, or a driver racing client writes, cannot undo anything). Then collects the tombstones of each range that every
 * replica listed at the same version and that are older than the grace period. Throttled by a pause between ranges,
 * and the repairs by keys per second and bytes per second: the differing keys go in small batches (one batch of reads
 * from their holders, then one batch of writes per stale replica, one batch at a time), each started only when both
 * budgets allow it.
 */
export class AntiEntropy {
  private progressNow: RepairProgress = { state: 'idle', rangesDone: 0, rangesTotal: 0, rangesFailed: 0, differences: 0, repaired: 0, purged: 0, bytes: 0 };
  private running: Promise<RepairProgress> | undefined;
  private stopped = false;
  /** When the byte budget and the key budget allow the next repair work (monotonic ms). */
  private nextWriteMs = 0;
  private nextKeyMs = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly options: AntiEntropyOptions) {
    if (!(options.bytesPerS > 0)) throw new TypeError(`bytesPerS must be positive, got ${options.bytesPerS}`);
    if (options.keysPerS !== undefined && !(options.keysPerS > 0)) throw new TypeError(`keysPerS must be positive, got ${options.keysPerS}`);
    if (options.batchEntries !== undefined && !(Number.isInteger(options.batchEntries) && options.batchEntries > 0)) {
      throw new TypeError(`batchEntries must be a positive integer, got ${options.batchEntries}`);
    }
    if (!(options.pauseMs >= 0)) throw new TypeError(`pauseMs must be >= 0, got ${options.pauseMs}`);
    if (!(options.tombstoneGraceMs >= 0)) throw new TypeError(`tombstoneGraceMs must be >= 0, got ${options.tombstoneGraceMs}`);
  }

  /** The progress of the round running, or of the last one. */
  get progress(): RepairProgress {
    return this.progressNow;
  }

  /** Whether a round runs. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves once no round runs. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Makes the round in progress stop after its current range; later rounds do not start. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /**
   * Runs one round over the ranges of `map` (within `scope` when given), or joins the round running.
   * `currentEpoch` is read before each range: a newer map ends the round (the next one uses it).
   * @throws RepairRefusedError while `map` has a membership change in progress.
   */
  round(map: ClusterMap, currentEpoch: () => number, scope?: HashRange): Promise<RepairProgress> {
    if (this.running !== undefined) return this.running;
    if (map.transition !== null) {
      throw new RepairRefusedError(`membership change ${map.transition.id} is in progress: anti-entropy waits for it to complete`);
    }
    this.running = this.run(map, currentEpoch, scope).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(map: ClusterMap, currentEpoch: () => number, scope: HashRange | undefined): Promise<RepairProgress> {
    const ranges = ringRanges(map, scope);
    let progress: RepairProgress = {
      state: 'running',
      rangesDone: 0,
      rangesTotal: ranges.length,
      rangesFailed: 0,
      differences: 0,
      repaired: 0,
      purged: 0,
      bytes: 0,
      ...(scope === undefined ? {} : { keyRange: scope }),
      startedAt: this.options.clock.now(),
    };
    this.progressNow = progress;
    this.options.events?.roundStarted?.(progress);
    let error: string | undefined;
    for (let i = 0; i < ranges.length; i++) {
      if (this.stopped) {
        error = 'the coordinator is stopping';
        break;
      }
      if (currentEpoch() !== map.epoch) {
        error = `the cluster map changed (epoch ${currentEpoch()}): the next round compares the new ranges`;
        break;
      }
      if (i > 0) await this.pause(this.options.pauseMs);
      const found = await this.compare(map, ranges[i]);
      progress = {
        ...progress,
        rangesDone: progress.rangesDone + 1,
        rangesFailed: progress.rangesFailed + (found.failed ? 1 : 0),
        differences: progress.differences + found.differences,
        repaired: progress.repaired + found.repaired,
        purged: progress.purged + found.purged,
        bytes: progress.bytes + found.bytes,
      };
      this.progressNow = progress;
      this.options.events?.rangeCompared?.(progress, found);
    }
    progress = {
      ...progress,
      state: error === undefined && progress.rangesFailed === 0 ? 'done' : 'failed',
      finishedAt: this.options.clock.now(),
      ...(error === undefined ? {} : { error }),
    };
    this.progressNow = progress;
    this.options.events?.roundFinished?.(progress);
    return progress;
  }

  /** Compares, repairs and collects one range. */
  private async compare(
    map: ClusterMap,
    { range, replicas }: RingRange,
  ): Promise<{ failed: boolean; differences: number; repaired: number; purged: number; bytes: number }> {
    const { peers } = this.options;
    const found = { failed: false, differences: 0, repaired: 0, purged: 0, bytes: 0 };
    const answers = await Promise.allSettled(replicas.map((id) => peers.digests(id, [range], true)));
    const digests = new Map<string, RangeDigest>();
    answers.forEach((answer, i) => {
      if (answer.status === 'fulfilled' && answer.value.length === 1) digests.set(replicas[i], answer.value[0]);
    });
    const answered = replicas.filter((id) => digests.has(id));
    // Nothing is confirmed about a replica that did not answer: no tombstone of the range is collected.
    let complete = answered.length === replicas.length;
    if (answered.length < 2) return { ...found, failed: true };
    const first = digests.get(answered[0]) as RangeDigest;
    if (!answered.every((id) => (digests.get(id) as RangeDigest).digest === first.digest)) {
      const repaired = await this.repair(range, answered, digests);
      found.differences = repaired.differences;
      found.repaired = repaired.repaired;
      found.bytes = repaired.bytes;
      if (repaired.failed) complete = false;
    }
    if (!complete) found.failed = true;
    if (this.options.tombstoneGraceMs > 0 && (complete || this.options.unsafePurgeWithoutConfirmation === true)) {
      found.purged = await this.collect(map, range, this.options.unsafePurgeWithoutConfirmation === true ? answered : replicas).catch(() => {
        found.failed = true;
        return 0;
      });
    }
    return found;
  }

  /**
   * Lists the keys of the buckets whose digests differ, and writes each key's newest version where it lacks, in paced
   * batches: a batch's keys are read together from their holders, then written together to each replica lacking them.
   */
  private async repair(
    range: HashRange,
    replicas: readonly string[],
    digests: ReadonlyMap<string, RangeDigest>,
  ): Promise<{ failed: boolean; differences: number; repaired: number; bytes: number }> {
    const { peers, transport, timeoutMs } = this.options;
    const byBucket = new Map<number, Map<string, string>>();
    for (const id of replicas) {
      for (const bucket of digests.get(id)?.buckets ?? []) {
        let held = byBucket.get(bucket.bucket);
        if (held === undefined) byBucket.set(bucket.bucket, (held = new Map()));
        held.set(id, bucket.digest);
      }
    }
    const parts: HashRange[] = [];
    let differingBuckets = 0;
    for (const [bucket, held] of byBucket) {
      const values = replicas.map((id) => held.get(id));
      if (values.every((value) => value === values[0])) continue;
      differingBuckets += 1;
      parts.push(...bucketParts(range, bucket));
    }
    // Narrowed to the digest cells that differ when the differences are sparse: listing costs CPU per key listed on the
    // nodes and here, and a few differing keys would otherwise list every key of their buckets. When most buckets
    // differ, most cells do too, and asking for their digests would cost about what it saves.
    const cells = differingBuckets * 2 <= byBucket.size ? await this.differingCells(parts.flatMap(cellParts), replicas) : parts;
    if (cells === undefined) return { failed: true, differences: 0, repaired: 0, bytes: 0 };
    // Every replica's (key, version) pairs of the differing cells.
    const held = new Map<string, Map<string, string>>();
    for (const id of replicas) {
      const pairs = new Map<string, string>();
      for (let i = 0; i < cells.length; i += PARTS_PER_REQUEST) {
        let lines: VersionLine[];
        try {
          lines = await peers.versions(id, cells.slice(i, i + PARTS_PER_REQUEST));
        } catch {
          return { failed: true, differences: 0, repaired: 0, bytes: 0 };
        }
        for (const [key, version] of lines) if (rangeContains(range, hashKey(key))) pairs.set(key, version);
        if (lines.length >= VERSIONS_PER_REQUEST) break;
      }
      held.set(id, pairs);
    }
    const keys = new Set<string>();
    for (const pairs of held.values()) for (const key of pairs.keys()) keys.add(key);
    // Each differing key: the replica holding its newest version, and the replicas that hold an older one or none.
    const differing: { key: string; holder: string; lacking: string[] }[] = [];
    for (const key of keys) {
      let newest = '';
      let holder = '';
      for (const id of replicas) {
        const version = held.get(id)?.get(key);
        if (version !== undefined && version > newest) {
          newest = version;
          holder = id;
        }
      }
      const lacking = replicas.filter((id) => (held.get(id)?.get(key) ?? '') < newest);
      if (lacking.length > 0) differing.push({ key, holder, lacking });
    }
    let repaired = 0;
    let bytes = 0;
    let failed = false;
    const step = this.batchKeys();
    for (let i = 0; i < differing.length; i += step) {
      if (this.stopped) {
        // The rest of the range waits for the next round (the range counts as failed).
        failed = true;
        break;
      }
      const batch = differing.slice(i, i + step);
      await this.pace(batch.length);
      // Every read of the batch is asked in this turn: the transport sends them as one batch per holder. Each entry
      // as its holder has it now (perhaps newer still): versioned writes never undo anything.
      const entries = await Promise.all(batch.map(({ holder, key }) => transport.read(holder, key, timeoutMs).catch((error: unknown) => error as Error)));
      const writes = new Map<string, WriteRequest[]>();
      const written: { key: string; lacking: readonly string[] }[] = [];
      batch.forEach(({ key, lacking }, j) => {
        const entry = entries[j];
        if (entry instanceof Error) {
          failed = true;
          return;
        }
        if (entry === undefined) return;
        // With its expiry, if it has one: a value that expires must not be copied as one that never does.
        const request: WriteRequest =
          entry.expiresAt === undefined ? { key, value: entry.value, version: entry.version } : { key, value: entry.value, version: entry.version, expiresAt: entry.expiresAt };
        for (const id of lacking) {
          let list = writes.get(id);
          if (list === undefined) writes.set(id, (list = []));
          list.push(request);
        }
        written.push({ key, lacking });
      });
      const failedKeys = new Set<string>();
      for (const [id, requests] of writes) {
        for (const slice of this.byteSlices(requests)) {
          const sliceBytes = slice.reduce((sum, r) => sum + entryBytes(r), 0);
          await this.throttle(sliceBytes);
          const replies = transport.writeMany
            ? await transport.writeMany(id, slice, timeoutMs).catch((error: unknown) => slice.map(() => error as Error))
            : await Promise.all(slice.map((request) => transport.write(id, request, timeoutMs).catch((error: unknown) => error as Error)));
          replies.forEach((reply, j) => {
            if (reply instanceof Error) failedKeys.add(slice[j].key);
          });
          bytes += sliceBytes;
        }
      }
      for (const { key } of written) if (!failedKeys.has(key)) repaired += 1;
      if (failedKeys.size > 0) failed = true;
    }
    return { failed, differences: differing.length, repaired, bytes };
  }

  /**
   * The parts (each within one digest cell) whose digests differ between replicas; undefined when a replica did not
   * answer. A cell's digest is kept by the nodes, so asking for it costs them no hashing.
   */
  private async differingCells(cells: readonly HashRange[], replicas: readonly string[]): Promise<HashRange[] | undefined> {
    const differing: HashRange[] = [];
    for (let i = 0; i < cells.length; i += PARTS_PER_REQUEST) {
      const chunk = cells.slice(i, i + PARTS_PER_REQUEST);
      let answers: RangeDigest[][];
      try {
        answers = await Promise.all(replicas.map((id) => this.options.peers.digests(id, chunk, false)));
      } catch {
        return undefined;
      }
      if (answers.some((answer) => answer.length !== chunk.length)) return undefined;
      chunk.forEach((cell, j) => {
        if (!answers.every((answer) => answer[j].digest === answers[0][j].digest)) differing.push(cell);
      });
    }
    return differing;
  }

  /** Keys per repair batch: about {@link REPAIR_BATCH_MS} of the key rate, at most `batchEntries`. */
  private batchKeys(): number {
    const keysPerS = this.options.keysPerS ?? ANTI_ENTROPY_KEYS_PER_S_DEFAULT;
    return Math.max(1, Math.min(this.options.batchEntries ?? REPAIR_BATCH_KEYS_MAX, Math.ceil((keysPerS * REPAIR_BATCH_MS) / 1000)));
  }

  /**
   * The writes of one repair batch to one replica, cut so that each part holds about {@link REPAIR_BATCH_MS} of the
   * byte rate (one larger entry goes alone).
   */
  private byteSlices(requests: readonly WriteRequest[]): WriteRequest[][] {
    const cap = Math.max(1, (this.options.bytesPerS * REPAIR_BATCH_MS) / 1000);
    const slices: WriteRequest[][] = [];
    let slice: WriteRequest[] = [];
    let sliceBytes = 0;
    for (const request of requests) {
      const size = entryBytes(request);
      if (slice.length > 0 && sliceBytes + size > cap) {
        slices.push(slice);
        slice = [];
        sliceBytes = 0;
      }
      slice.push(request);
      sliceBytes += size;
    }
    if (slice.length > 0) slices.push(slice);
    return slices;
  }

  /**
   * Purges the tombstones of `range` older than the grace period that every replica lists at the same version: the
   * listing is the confirmation that each of them holds it, made after this round's repair of the range. Members that
   * are not replicas of the range may still hold an older copy of such a key (a range they owned before a membership
   * change): they are asked too, every one must answer, a key one of them holds at a newer version is left alone, and
   * the purge goes to them as well (a non-owner forgets any entry of the key up to that version), so that no copy older
   * than the tombstone survives anywhere to come back if the range returns to them.
   */
  private async collect(map: ClusterMap, range: HashRange, replicas: readonly string[]): Promise<number> {
    const { peers } = this.options;
    const beforeMs = this.options.clock.now() - this.options.tombstoneGraceMs;
    const lists = await Promise.all(replicas.map((id) => peers.versions(id, [range], beforeMs)));
    let confirmed: [string, string][];
    let targets: readonly string[] = replicas;
    if (this.options.unsafePurgeWithoutConfirmation === true) {
      const union = new Map<string, string>();
      for (const lines of lists) for (const [key, version] of lines) union.set(key, version);
      confirmed = [...union];
    } else {
      const common = new Map<string, string>(lists[0].map(([key, version]) => [key, version]));
      for (const lines of lists.slice(1)) {
        const here = new Map<string, string>(lines.map(([key, version]) => [key, version]));
        for (const [key, version] of common) if (here.get(key) !== version) common.delete(key);
      }
      const others = map.members.map((member) => member.id).filter((id) => !replicas.includes(id));
      if (common.size > 0 && others.length > 0) {
        const held = await Promise.all(others.map((id) => peers.versions(id, [range])));
        for (const lines of held) for (const [key, version] of lines) if (version > (common.get(key) ?? version)) common.delete(key);
        targets = [...replicas, ...others];
      }
      confirmed = [...common];
    }
    if (confirmed.length === 0) return 0;
    for (let i = 0; i < confirmed.length; i += PURGES_PER_REQUEST) {
      const slice = confirmed.slice(i, i + PURGES_PER_REQUEST);
      await Promise.all(targets.map((id) => peers.purge(id, map.epoch, slice)));
    }
    return confirmed.length;
  }

  private pause(ms: number): Promise<void> {
    if (ms < 1 || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = this.options.timers.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.options.timers.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Waits so that bytes written stay within `bytesPerS` on average. */
  private async throttle(bytes: number): Promise<void> {
    const now = this.monotonicNow();
    const start = Math.max(now, this.nextWriteMs);
    this.nextWriteMs = start + (bytes / this.options.bytesPerS) * 1000;
    await this.pause(start - now);
  }

  /**
   * Waits before a repair batch of `keys` keys until both budgets allow it: the key rate (`keysPerS`) and the byte
   * rate, whose debt from the writes before is paid first, so that reads do not run ahead of the writes they feed.
   */
  private async pace(keys: number): Promise<void> {
    const now = this.monotonicNow();
    const start = Math.max(now, this.nextKeyMs, this.nextWriteMs);
    this.nextKeyMs = start + (keys / (this.options.keysPerS ?? ANTI_ENTROPY_KEYS_PER_S_DEFAULT)) * 1000;
    await this.pause(start - now);
  }

  private monotonicNow(): number {
    return (this.options.monotonic ?? this.options.clock).now();
  }
}

/** Bytes of a repair write that count toward the byte rate: its key, value and version. */
function entryBytes(request: WriteRequest): number {
  return utf8ByteLength(request.key) + (request.value === null ? 0 : utf8ByteLength(request.value)) + request.version.length;
}

/** Hashes per digest cell of the data nodes' key index (2^16 cells over the ring). */
const CELL_SPAN = 2 ** 16;

/** A part of the ring that does not wrap, cut at the digest cells' bounds. */
function cellParts(part: HashRange): HashRange[] {
  const lo = (part.start + 1) % 2 ** 32;
  const hi = part.end;
  const cells: HashRange[] = [];
  for (let cell = Math.floor(lo / CELL_SPAN); cell <= Math.floor(hi / CELL_SPAN); cell++) {
    const cellLo = Math.max(lo, cell * CELL_SPAN);
    const cellHi = Math.min(hi, cell * CELL_SPAN + CELL_SPAN - 1);
    cells.push({ start: (cellLo + 0xffffffff) % 2 ** 32, end: cellHi });
  }
  return cells;
}
