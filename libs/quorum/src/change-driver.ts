import type { ClusterMap, StreamProgress } from '@kv/protocol';
import type { HashRange } from '@kv/ring';
import { nextPhase, streamTasks, type StreamTask } from './cluster-change';
import type { MapProposer } from './map-proposer';
import type { ListedEntry } from './refiller';
import type { Clock, Timers } from './time';
import type { Transport, WriteRequest } from './transport';

/** How the driver reaches the data nodes for streaming. Each call rejects when the node fails. */
export interface StreamPeers {
  /** The entries (tombstones included) a node holds in some hash ranges (`GET /internal/entries?ranges=`). */
  rangeEntries(nodeId: string, ranges: readonly HashRange[]): AsyncIterable<ListedEntry>;
  /** The ranges of `change` a node has received in full, with the entries and bytes recorded (`GET /internal/stream`). */
  streamProgress(nodeId: string, change: string): Promise<StreamProgress>;
  /**
   * Records on a node that it received ranges `indexes` of `change` in full, and the entries and bytes written to it
   * for them (`POST /internal/stream`).
   */
  recordStreamed(nodeId: string, change: string, indexes: readonly number[], keys: number, bytes: number): Promise<void>;
}

/** Progress of the change a driver works on, for `GET /cluster`, metrics and logs. */
export interface ChangeProgress {
  readonly change: string;
  readonly epoch: number;
  readonly phase: 'copy' | 'read-new';
  /** (range, node gaining it) pairs copied, and in all. */
  readonly rangesDone: number;
  readonly rangesTotal: number;
  /** Entries and bytes (keys and values, UTF-8) written to gaining nodes, as recorded there (by any driver). */
  readonly keysStreamed: number;
  readonly bytesStreamed: number;
}

/** What a driver reports; each must be cheap and must not throw. */
export interface ChangeDriverEvents {
  /** Ranges were copied in full to a node gaining them (and recorded there), with the entries and bytes written. */
  rangesStreamed?(target: string, indexes: readonly number[], keys: number, bytes: number, progress: ChangeProgress): void;
  /** A map of the change was chosen (the next phase, or the change's end). */
  phaseCommitted?(map: ClusterMap): void;
}

/** Options of {@link ChangeDriver}. */
export interface ChangeDriverOptions {
  proposer: MapProposer;
  peers: StreamPeers;
  transport: Transport;
  /**
   * This coordinator's W: a range is read from at least N − W + 1 of its old owners (every write quorum meets them),
   * with the smaller of this W and the map's.
   */
  writeQuorum: number;
  /** Bytes per second written to gaining nodes, at most (`STREAM_BYTES_PER_S`). */
  bytesPerS: number;
  clock: Clock;
  timers: Timers;
  /** Deadline of one batch written to a gaining node, in ms. */
  timeoutMs: number;
  /** Entries per batch written to a gaining node (default 256). */
  batchEntries?: number;
  /** Ranges copied to a gaining node by one request to each old owner, and recorded together (default 64). */
  rangesPerRound?: number;
  /**
   * Whether the joining members count toward quorums (a probe saw them and marked them filled): the change moves to
   * `read-new` only then, so that reads do not skip the nodes meant to serve them (default: always).
   */
  joinersCounted?: (ids: readonly string[]) => boolean;
  /** Test-only weakening: moves through the phases without streaming, to prove that the tests notice. */
  unsafeSkipStreaming?: boolean;
  events?: ChangeDriverEvents;
}

/** Ranges copied per round by default: one request per old owner and one record on the gaining node for all of them. */
const RANGES_PER_ROUND_DEFAULT = 64;

/** Thrown when a range cannot be copied now (too few old owners answer, or the gaining node fails); retried later. */
export class StreamError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamError';
  }
}

/**
 * Drives a membership change to its end (docs/ARCHITECTURE.md, The cluster map and membership changes): in `copy`,
 * streams every range that gains an owner from its old owners to the new ones (skipping ranges the gaining node has
 * recorded as received, so a driver that takes over resumes), then proposes `read-new`, then the final map. Writes to
 * gaining nodes are ordinary versioned writes, so copying a range twice, or while the cluster serves, is harmless.
 */
export class ChangeDriver {
  private progressNow: ChangeProgress | undefined;
  private nextWriteMs = 0;
  private stopped = false;
  /** Ends the throttle's wait early (on stop). */
  private wake: (() => void) | undefined;

  constructor(private readonly options: ChangeDriverOptions) {
    if (!(options.bytesPerS > 0)) throw new TypeError(`bytesPerS must be positive, got ${options.bytesPerS}`);
  }

  /**
   * Makes the drive in progress stop at its next step (a round of ranges, a phase): what it copied and recorded stays,
   * and the next driver resumes from there. Later drives stop at once.
   */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** The progress of the change last driven or observed (compare its `change` with the map's transition). */
  get progress(): ChangeProgress | undefined {
    return this.progressNow;
  }

  /**
   * Drives the change of `map` until a map without change is chosen, or until it must wait for the joining nodes to
   * be counted; `adopt` is called with every map chosen or learned on the way (the caller switches its placement to it).
   * @returns the map reached.
   * @throws StreamError, NoMajorityError: the change stays where it is, and a later call resumes it.
   */
  async drive(map: ClusterMap, adopt: (map: ClusterMap) => void): Promise<ClusterMap> {
    let current = map;
    while (current.transition !== null) {
      this.checkStopped();
      if (current.transition.phase === 'copy') {
        await this.stream(current);
        // Not yet seen by a probe and counted: the next turn goes on from here.
        if (this.options.joinersCounted?.(current.transition.add) === false) return current;
      }
      this.checkStopped();
      const outcome = await this.options.proposer.propose(current, nextPhase(current));
      current = outcome.map;
      adopt(current);
      this.options.events?.phaseCommitted?.(current);
    }
    return current;
  }

  /**
   * Reads the progress of the change of `map` from what its gaining nodes recorded, without copying anything: what a
   * coordinator that does not drive the change shows.
   * @throws StreamError when a gaining node does not answer.
   */
  async observe(map: ClusterMap): Promise<ChangeProgress | undefined> {
    const transition = map.transition;
    if (transition === null) return undefined;
    const tasks = streamTasks(map);
    let rangesDone = 0;
    let rangesTotal = 0;
    let keysStreamed = 0;
    let bytesStreamed = 0;
    for (const target of new Set(tasks.flatMap((task) => task.targets))) {
      let recorded: StreamProgress;
      try {
        recorded = await this.options.peers.streamProgress(target, transition.id);
      } catch (error) {
        throw new StreamError(`cannot read the streaming progress of ${target}`, { cause: error });
      }
      const done = new Set(recorded.ranges);
      for (const task of tasks) {
        if (!task.targets.includes(target)) continue;
        rangesTotal += 1;
        if (done.has(task.index)) rangesDone += 1;
      }
      keysStreamed += recorded.keys;
      bytesStreamed += recorded.bytes;
    }
    this.progressNow = { change: transition.id, epoch: map.epoch, phase: transition.phase, rangesDone, rangesTotal, keysStreamed, bytesStreamed };
    return this.progressNow;
  }

  /** Copies every range of the change that a gaining node has not recorded yet. */
  private async stream(map: ClusterMap): Promise<void> {
    const transition = map.transition;
    if (transition === null || this.options.unsafeSkipStreaming === true) return;
    const tasks = streamTasks(map);
    const targets = new Set(tasks.flatMap((task) => task.targets));
    const done = new Map<string, Set<number>>();
    let keysStreamed = 0;
    let bytesStreamed = 0;
    for (const target of targets) {
      try {
        const recorded = await this.options.peers.streamProgress(target, transition.id);
        done.set(target, new Set(recorded.ranges));
        keysStreamed += recorded.keys;
        bytesStreamed += recorded.bytes;
      } catch (error) {
        throw new StreamError(`cannot read the streaming progress of ${target}`, { cause: error });
      }
    }
    let rangesDone = 0;
    let rangesTotal = 0;
    for (const task of tasks) {
      for (const target of task.targets) {
        rangesTotal += 1;
        if (done.get(target)?.has(task.index)) rangesDone += 1;
      }
    }
    const report = (): ChangeProgress => {
      this.progressNow = { change: transition.id, epoch: map.epoch, phase: transition.phase, rangesDone, rangesTotal, keysStreamed, bytesStreamed };
      return this.progressNow;
    };
    report();
    const perRound = this.options.rangesPerRound ?? RANGES_PER_ROUND_DEFAULT;
    for (const target of targets) {
      const pending = tasks.filter((task) => task.targets.includes(target) && !done.get(target)?.has(task.index));
      for (let i = 0; i < pending.length; i += perRound) {
        this.checkStopped();
        const round = await this.copyRanges(map, pending.slice(i, i + perRound), target, (keys, bytes) => {
          keysStreamed += keys;
          bytesStreamed += bytes;
          report();
        });
        const indexes = round.copied.map((task) => task.index);
        if (indexes.length > 0) {
          try {
            await this.options.peers.recordStreamed(target, transition.id, indexes, round.keys, round.bytes);
          } catch (error) {
            throw new StreamError(`${target} did not record ${indexes.length} ranges`, { cause: error });
          }
          rangesDone += indexes.length;
          this.options.events?.rangesStreamed?.(target, indexes, round.keys, round.bytes, report());
        }
        if (round.failure !== undefined) throw round.failure;
      }
    }
  }

  /**
   * Copies some ranges to one gaining node, asking each of their old owners once for all the ranges it holds. A range
   * is copied when at least N − W + 1 of its old owners were read to the end, so that every write acknowledged by a
   * write quorum of the old owners is among what was copied.
   * @returns the ranges copied, the entries and bytes written, and why the others were not (if any was not).
   * @throws StreamError when a write to the gaining node fails: then nothing of the round counts as copied.
   */
  private async copyRanges(
    map: ClusterMap,
    tasks: readonly StreamTask[],
    target: string,
    onWritten: (keys: number, bytes: number) => void,
  ): Promise<{ copied: StreamTask[]; keys: number; bytes: number; failure?: StreamError }> {
    // The smaller of the map's W and this coordinator's: the more old owners are read, the safer.
    const needed = map.replicas - Math.min(map.writeQuorum, this.options.writeQuorum) + 1;
    const complete = new Map<StreamTask, number>(tasks.map((task) => [task, 0]));
    const sources = [...new Set(tasks.flatMap((task) => task.sources))].filter((id) => id !== target);
    let keys = 0;
    let bytes = 0;
    const failures = new Map<string, unknown>();
    const satisfied = (task: StreamTask): boolean =>
      (complete.get(task) ?? 0) >= Math.min(needed, task.sources.filter((id) => id !== target).length);
    for (const source of sources) {
      // Each range is read from N − W + 1 of its old owners, not more: the others would only copy the same entries again.
      const held = tasks.filter((task) => task.sources.includes(source) && !satisfied(task));
      if (held.length === 0) continue;
      try {
        let batch: WriteRequest[] = [];
        let batchBytes = 0;
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          await this.throttle(batchBytes);
          this.checkStopped();
          await this.writeBatch(target, batch);
          keys += batch.length;
          bytes += batchBytes;
          onWritten(batch.length, batchBytes);
          batch = [];
          batchBytes = 0;
        };
        const ranges = held.map((task) => task.range);
        for await (const [key, version, value, expiresAt] of this.options.peers.rangeEntries(source, ranges)) {
          batch.push(expiresAt === undefined ? { key, value, version } : { key, value, version, expiresAt });
          batchBytes += Buffer.byteLength(key) + (value === null ? 0 : Buffer.byteLength(value)) + version.length;
          if (batch.length >= (this.options.batchEntries ?? 256)) await flush();
        }
        await flush();
        for (const task of held) complete.set(task, (complete.get(task) ?? 0) + 1);
      } catch (error) {
        // A write to the target that failed fails the round: the target must not be recorded as holding its ranges.
        if (error instanceof StreamError) throw error;
        failures.set(source, error);
      }
    }
    const copied: StreamTask[] = [];
    let failure: StreamError | undefined;
    for (const task of tasks) {
      const owners = task.sources.filter((id) => id !== target).length;
      const read = complete.get(task) ?? 0;
      if (satisfied(task)) {
        copied.push(task);
      } else if (failure === undefined) {
        const cause = task.sources.map((id) => failures.get(id)).find((error) => error !== undefined);
        failure = new StreamError(`range ${task.index}: ${read} of its ${owners} old owners could be read, ${needed} are needed`, { cause });
      }
    }
    return { copied, keys, bytes, failure };
  }

  private checkStopped(): void {
    if (this.stopped) throw new StreamError('the coordinator is stopping: the change resumes with the next driver');
  }

  private async writeBatch(target: string, batch: readonly WriteRequest[]): Promise<void> {
    const { transport, timeoutMs } = this.options;
    const replies = transport.writeMany
      ? await transport.writeMany(target, batch, timeoutMs).catch((error: unknown) => batch.map(() => error as Error))
      : await Promise.all(batch.map((request) => transport.write(target, request, timeoutMs).catch((error: unknown) => error as Error)));
    const failed = replies.find((reply): reply is Error => reply instanceof Error);
    if (failed !== undefined) throw new StreamError(`writing to ${target} failed: ${failed.message}`, { cause: failed });
  }

  /** Waits so that bytes written stay within `bytesPerS` on average. */
  private async throttle(bytes: number): Promise<void> {
    const now = this.options.clock.now();
    const start = Math.max(now, this.nextWriteMs);
    this.nextWriteMs = start + (bytes / this.options.bytesPerS) * 1000;
    const waitMs = start - now;
    if (waitMs < 1 || this.stopped) return;
    await new Promise<void>((resolve) => {
      const timer = this.options.timers.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, waitMs);
      this.wake = () => {
        this.options.timers.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
