import { ErrorCode, isKvError, KvError, NODE_TIMEOUT_MS_DEFAULT, type ClusterMap } from '@kv/protocol';
import type { HashRange } from '@kv/ring';
import { AntiEntropy, RepairRefusedError, type AntiEntropyEvents, type AntiEntropyPeers, type RepairProgress } from './anti-entropy';
import { ChangeDriver, type ChangeProgress, type StreamPeers } from './change-driver';
import { planChange, startChange, type ChangePlan, type ChangeRequest } from './cluster-change';
import { ClusterMapKeeper } from './cluster-map-keeper';
import { MapProposer, NoMajorityError, type MapPeers } from './map-proposer';
import { mapPlacement } from './placement';
import { ClockFloor } from './clock-floor';
import { CoordinatorPresence, type DuplicateCoordinatorError, type Register } from './coordinator-presence';
import type { CoordinatorClaim } from './coordinator-registry';
import { CoordinatorVersions } from './coordinator-versions';
import { HealthProber, type Probe } from './health-prober';
import { HintReplayer } from './hint-replayer';
import type { Hint, HintStore } from './hint-store';
import { NodeHealth, type NodeStatus } from './node-health';
import { NodeMembership, type NodeMembershipEvents, type NodeState } from './node-membership';
import { PeriodicTask } from './periodic-task';
import { Refiller, type EntrySource } from './refiller';
import { Replicator, type PreferenceLists, type ReadRepairMode, type ReplicatorEvents } from './replicator';
import type { StableStore } from './stable-store';
import type { Clock, Timers } from './time';
import type { Transport } from './transport';

/** How often the clock floor is pushed ahead, off the request path. */
export const FLOOR_ADVANCE_INTERVAL_MS = 1000;
/** Default interval of the health probes. */
export const HEALTH_INTERVAL_MS_DEFAULT = 1000;
/** Shortest lease of a coordinator, in ms: long enough that a busy process renews it, short enough to recover fast. */
export const COORDINATOR_LEASE_MS_FLOOR = 2000;

/**
 * The lease a coordinator asks for: at least three probe intervals (so that a probe or two may fail without it
 * lapsing), and at least {@link COORDINATOR_LEASE_MS_FLOOR}.
 */
export function coordinatorLeaseMs(healthIntervalMs: number): number {
  return Math.max(COORDINATOR_LEASE_MS_FLOOR, 3 * healthIntervalMs);
}

/** What a coordinator reports, for logs and metrics. Each must be cheap and must not throw. */
export interface CoordinatorEvents extends ReplicatorEvents, NodeMembershipEvents, AntiEntropyEvents {
  /** A hint older than the tombstone grace (minus the clock skew) was dropped, not delivered. */
  hintExpired?(hint: Hint): void;
  /** A node went down or came back (health probes). */
  nodeStatusChanged?(status: NodeStatus): void;
  /**
   * The clock floor could not be written: writes beyond the floor on disk are refused (safety holds, availability does
   * not). Called once when the periodic write starts failing, not at every attempt.
   */
  floorWriteFailed?(error: unknown): void;
  /** The clock floor was written again after {@link CoordinatorEvents.floorWriteFailed}: writes are served again. */
  floorWritten?(): void;
  /** What a probe taught could not be recorded. */
  nodeStateNotRecorded?(nodeId: string, error: unknown): void;
  /** A hint was delivered to the replica that missed its write. */
  hintDelivered?(hint: Hint): void;
  /** Hints for a node that left the cluster map were discarded (its ranges were streamed to their new owners). */
  hintsDiscarded?(nodeId: string, hints: number): void;
  /** This coordinator joined the cluster's registry (and waited `waitedMs` for the others to learn of it). */
  joined?(others: readonly string[], waitedMs: number): void;
  /** A data node hears from another live coordinator with this clock id. */
  duplicateSeen?(nodeId: string): void;
  /** This coordinator's lease lapsed on a data node; it registers again. */
  leaseLapsed?(): void;
  /** A newer cluster map is in use. */
  mapAdopted?(map: ClusterMap): void;
  /** A data node's `MAX_CLOCK_SKEW_MS` differs from this coordinator's (reported once per node and value). */
  skewSettingDiffers?(nodeId: string, nodeMs: number, ownMs: number): void;
  /**
   * A data node acknowledges writes before they are fsynced (`WAL_SYNC` `interval` or `none`): reported once per node
   * and mode, and again if it changes.
   */
  weakSync?(nodeId: string, mode: 'interval' | 'none'): void;
  /** The cluster map's N, W or R differ from this coordinator's (which it goes on counting quorums with). */
  quorumsDiffer?(map: ClusterMap, own: { replicas: number; writeQuorum: number; readQuorum: number }): void;
  /** Driving a membership change stopped short (it is resumed at the next turn). */
  changeStalled?(error: unknown): void;
  /** Ranges of a membership change were copied to a node gaining them, with the change's progress. */
  rangesStreamed?(target: string, ranges: number, keys: number, bytes: number, progress: ChangeProgress): void;
  /**
   * Another running coordinator took this clock id while this one was away, and stayed: this one no longer serves
   * and should exit.
   */
  clockIdTaken?(error: DuplicateCoordinatorError): void;
}

/** Options of {@link Coordinator.open}. */
export interface CoordinatorOptions {
  /** This coordinator's clock id, process incarnation and lease, sent with every internal request. */
  claim: CoordinatorClaim;
  /** The data nodes. */
  nodeIds: readonly string[];
  ring: PreferenceLists;
  /** How replicas are reached (the batching transport over HTTP in a proxy; the in-memory cluster in tests). */
  transport: Transport;
  /** Probes a node's status (incarnation, filled, live coordinators); renews this coordinator's lease there. */
  probe: Probe;
  /** Registers this coordinator with a node. */
  register: Register;
  /** Tells a node that its refill is complete. */
  markFilled(nodeId: string, incarnation: string): Promise<void>;
  /** Lists every entry a node holds, for refills. */
  entries: EntrySource;
  /** Tells the transport which incarnation a node must have. */
  expectIncarnation(nodeId: string, incarnation: string): void;
  /** Durable state: the clock floor. */
  stable: StableStore;
  hints: HintStore;
  /** The wall clock, for versions. */
  clock: Clock;
  /** A monotonic clock, for leases (default: `clock`). */
  monotonic?: Clock;
  timers: Timers;
  replicas?: number;
  writeQuorum?: number;
  readQuorum?: number;
  /** Deadline of one request to a replica, in ms (default `NODE_TIMEOUT_MS_DEFAULT`, 1000). */
  timeoutMs?: number;
  /** How far ahead of the wall clock a version seen on a replica may be and still be followed, in ms. */
  versionDriftMsMax?: number;
  /** This coordinator's `MAX_CLOCK_SKEW_MS`, compared with what each data node reports (a mismatch is reported once). */
  maxClockSkewMs?: number;
  /** Interval of the health probes, in ms (default {@link HEALTH_INTERVAL_MS_DEFAULT}). */
  healthIntervalMs?: number;
  events?: CoordinatorEvents;
  /**
   * Test-only weakenings, to prove that the checks notice: `unsafeClock` runs without the clock floor, does not follow
   * versions seen on replicas, and acknowledges writes found behind a newer version; `readRepair: 'background'`;
   * `assumeAlone` writes in one phase even when other coordinators are live.
   */
  unsafe?: {
    unsafeClock?: boolean;
    readRepair?: ReadRepairMode;
    backgroundRepairDelayMs?: number;
    assumeAlone?: boolean;
    /** Membership changes move through their phases without streaming. */
    skipStreaming?: boolean;
    /** Anti-entropy purges old tombstones without confirming them on every replica. */
    purgeWithoutConfirmation?: boolean;
  };
  /** Anti-entropy and tombstone collection (needs `clusterMap`): without it, neither runs. */
  antiEntropy?: AntiEntropySettings;
  /**
   * The cluster map (docs/ARCHITECTURE.md, The cluster map and membership changes). When given, the members and
   * where keys live come from the map the data nodes hold, `nodeIds` and `ring` only seed a brand-new cluster, and
   * membership can change at run time. Without it the members are fixed.
   */
  clusterMap?: ClusterMapOptions;
}

/** How a coordinator keeps the cluster map and changes membership. */
export interface ClusterMapOptions {
  /** The map acceptors and the streaming endpoints of the data nodes. */
  peers: MapPeers & StreamPeers;
  /** The map of a brand-new cluster (epoch 1), from the configuration. */
  seed: ClusterMap;
  /** Called with each newer map before it is used: reach its members (new URLs), send its epoch. */
  membersChanged(map: ClusterMap): void;
  /** Asks a node that is not a member yet who it is and what it holds (a change adding it). */
  probeNew(url: string): Promise<{ nodeId: string; keys: number }>;
  /** What a member holds, for a dry run's estimates. */
  holdings(nodeId: string): Promise<{ keys: number; bytes: number }>;
  /** Streaming rate, bytes per second (`STREAM_BYTES_PER_S`). */
  streamBytesPerS: number;
  /** Ranges copied and recorded together (default 64): fewer show progress in finer steps. */
  streamRangesPerRound?: number;
  /** Random source (change ids, back-offs); default Math.random. */
  random?: () => number;
}

/** How a coordinator runs anti-entropy (docs/ARCHITECTURE.md, "Anti-entropy and tombstone collection"). */
export interface AntiEntropySettings {
  /** The digest, listing and purge endpoints of the data nodes. */
  peers: AntiEntropyPeers;
  /** A round every this many ms while this coordinator is the driver (`ANTI_ENTROPY_INTERVAL_MS`); 0: only on demand. */
  intervalMs: number;
  /** Bytes per second written to stale replicas (`ANTI_ENTROPY_BYTES_PER_S`). */
  bytesPerS: number;
  /** Differing keys repaired per second (`ANTI_ENTROPY_KEYS_PER_S`; default `ANTI_ENTROPY_KEYS_PER_S_DEFAULT`). */
  keysPerS?: number;
  /** Pause between two ranges, in ms (`ANTI_ENTROPY_PAUSE_MS`). */
  pauseMs: number;
  /**
   * Tombstones older than this and confirmed on every replica are purged, and hints older than this minus
   * `maxClockSkewMs` are dropped (`TOMBSTONE_GRACE_MS`); 0: tombstones are kept and hints never expire.
   */
  tombstoneGraceMs: number;
}

/** What a change request came to: a dry run's plan, or the epoch the change started at. */
export type ChangeAnswer = { readonly dryRun: true; readonly plan: ChangePlan } | { readonly dryRun: false; readonly epoch: number; readonly change: string };

/**
 * The coordinator core of a proxy, apart from any server: versions with the durable clock floor, the registry of
 * coordinators with leases (one-phase writes while alone, two phases otherwise), health probes, nodes that lost their
 * data and their refills, hinted handoff, and the replicator that serves reads and writes. Durable state goes to the
 * injected {@link StableStore} and hint store, replicas are reached through the injected transport, and time through
 * the injected clocks and timers; so the whole coordinator runs on the in-memory cluster and virtual time.
 */
export class Coordinator {
  readonly replicator: Replicator;
  readonly versions: CoordinatorVersions;
  readonly health: NodeHealth;
  readonly membership: NodeMembership;
  readonly presence: CoordinatorPresence;
  private readonly prober: HealthProber;
  private readonly replayer: HintReplayer;
  private readonly floorTask: PeriodicTask;
  private started = false;
  private joinedPromise: Promise<void> | undefined;
  private readonly keeper: ClusterMapKeeper | undefined;
  private readonly proposer: MapProposer | undefined;
  private readonly driver: ChangeDriver | undefined;
  private readonly changeTask: PeriodicTask | undefined;
  private driving: Promise<unknown> | undefined;
  private readonly antiEntropy: AntiEntropy | undefined;
  private readonly antiEntropyTask: PeriodicTask | undefined;
  /** The `MAX_CLOCK_SKEW_MS` of each node already reported as differing from this coordinator's. */
  private readonly skewReported = new Map<string, number>();
  /** Each node's `WAL_SYNC` as its latest probe answer reported it. */
  private readonly syncModes = new Map<string, 'always' | 'interval' | 'none'>();
  /** Each node's live keys and tombstones as its latest probe answer reported them. */
  private readonly holdings = new Map<string, { keys: number; tombstones?: number }>();
  private readonly mapOptions: ClusterMapOptions | undefined;

  private constructor(
    private readonly options: CoordinatorOptions,
    versions: CoordinatorVersions,
  ) {
    const events = options.events ?? {};
    const timeoutMs = options.timeoutMs ?? NODE_TIMEOUT_MS_DEFAULT;
    const monotonic = options.monotonic ?? options.clock;
    this.versions = versions;
    this.health = new NodeHealth(options.nodeIds, { now: () => options.clock.now() });
    this.health.onChange((status) => events.nodeStatusChanged?.(status));
    this.presence = new CoordinatorPresence({
      claim: options.claim,
      nodeIds: options.nodeIds,
      register: (nodeId) => options.register(nodeId),
      monotonic,
      timers: options.timers,
      events: { joined: events.joined, duplicateSeen: events.duplicateSeen, lapsed: events.leaseLapsed, clockIdTaken: events.clockIdTaken },
    });
    const assumeAlone = options.unsafe?.assumeAlone === true;
    this.replicator = new Replicator({
      ring: options.ring,
      transport: options.transport,
      versions,
      health: this.health,
      hints: options.hints,
      replicas: options.replicas,
      writeQuorum: options.writeQuorum,
      readQuorum: options.readQuorum,
      timeoutMs,
      readRepair: options.unsafe?.readRepair,
      backgroundRepairDelayMs: options.unsafe?.backgroundRepairDelayMs,
      supersededWrites: options.unsafe?.unsafeClock === true ? 'acknowledge' : 'refuse',
      alone: assumeAlone ? () => true : () => this.presence.alone(),
      mayAcknowledge: assumeAlone ? () => true : () => this.presence.fresh(),
      admission: () => (this.presence.joined ? undefined : notJoined()),
      staleEpoch: (nodeId, error) => this.noteRefusal(nodeId, error),
      timers: options.timers,
      clock: options.clock,
      events,
    });
    const refiller = new Refiller({
      // A node refilled is given every key whose writes go to it (during a change: as an old or a new owner).
      ring: options.clusterMap === undefined ? options.ring : { preferenceList: (key) => [...this.replicator.placement.writeSet(key).targets] },
      replicas: this.replicator.replicas,
      transport: options.transport,
      timeoutMs,
      source: options.entries,
    });
    this.membership = new NodeMembership({
      nodeIds: options.nodeIds,
      health: this.health,
      joinsEmpty: (nodeId) => {
        const transition = this.keeper?.map?.transition;
        return transition !== undefined && transition !== null && transition.phase === 'copy' && transition.add.includes(nodeId);
      },
      refiller,
      expectIncarnation: options.expectIncarnation,
      markFilled: options.markFilled,
      clock: options.clock,
      timers: options.timers,
      events,
    });
    this.prober = new HealthProber({
      nodeIds: options.nodeIds,
      health: this.health,
      probe: async (nodeId) => {
        const sentMs = monotonic.now();
        try {
          const answer = await options.probe(nodeId);
          this.presence.observe(nodeId, sentMs, answer.coordinators);
          this.compareSkewSetting(nodeId, answer.maxClockSkewMs);
          this.noteSyncMode(nodeId, answer.walSync);
          if (answer.keys !== undefined) this.holdings.set(nodeId, { keys: answer.keys, tombstones: answer.tombstones });
          return answer;
        } catch (error) {
          this.noteRefusal(nodeId, error);
          throw error;
        }
      },
      intervalMs: options.healthIntervalMs ?? HEALTH_INTERVAL_MS_DEFAULT,
      timers: options.timers,
      observe: async (nodeId, answer) => this.membership.observe(nodeId, answer),
      onObserveError: (nodeId, error) => events.nodeStateNotRecorded?.(nodeId, error),
      onAnswer: (nodeId, answer) => {
        if (answer.epoch !== undefined) this.keeper?.observeEpoch(nodeId, answer.epoch);
      },
    });
    this.replayer = new HintReplayer({
      hints: options.hints,
      transport: options.transport,
      health: this.health,
      timeoutMs,
      timers: options.timers,
      onDelivered: (hint) => events.hintDelivered?.(hint),
      isMember: (nodeId) => this.keeper?.map?.members.some((member) => member.id === nodeId) ?? true,
      onDiscarded: (nodeId, hints) => events.hintsDiscarded?.(nodeId, hints),
      ...(options.antiEntropy !== undefined && options.antiEntropy.tombstoneGraceMs > 0
        ? {
            maxAgeMs: options.antiEntropy.tombstoneGraceMs - (options.maxClockSkewMs ?? 0),
            clock: options.clock,
            onExpired: (hint: Hint) => events.hintExpired?.(hint),
          }
        : {}),
    });
    // Versions beyond the floor on disk wait for it (CoordinatorVersions.ready), so a failing disk stops writes, not
    // safety.
    let floorFailing = false;
    this.floorTask = new PeriodicTask(
      options.timers,
      FLOOR_ADVANCE_INTERVAL_MS,
      async () => {
        await versions.advanceFloor();
        if (floorFailing) {
          floorFailing = false;
          events.floorWritten?.();
        }
      },
      (error) => {
        if (!floorFailing) events.floorWriteFailed?.(error);
        floorFailing = true;
      },
    );
    const mapOptions = options.clusterMap;
    this.mapOptions = mapOptions;
    if (mapOptions !== undefined) {
      const proposer = new MapProposer({ proposerId: options.claim.clockId, peers: mapOptions.peers, timers: options.timers, random: mapOptions.random });
      this.proposer = proposer;
      const keeper = new ClusterMapKeeper({ seedIds: options.nodeIds, seed: mapOptions.seed, peers: mapOptions.peers, proposer, timers: options.timers });
      this.keeper = keeper;
      keeper.onChange((map) => this.useMap(map));
      this.driver = new ChangeDriver({
        proposer,
        peers: mapOptions.peers,
        transport: options.transport,
        writeQuorum: options.writeQuorum ?? 2,
        bytesPerS: mapOptions.streamBytesPerS,
        rangesPerRound: mapOptions.streamRangesPerRound,
        clock: monotonic,
        timers: options.timers,
        timeoutMs,
        unsafeSkipStreaming: options.unsafe?.skipStreaming,
        joinersCounted: (ids) =>
          ids.every((id) => this.membership.incarnationOf(id) !== undefined && this.membership.stateOf(id) === 'ready' && this.health.isCounted(id)),
        events: {
          rangesStreamed: (target, indexes, keys, bytes, progress) => events.rangesStreamed?.(target, indexes.length, keys, bytes, progress),
        },
      });
      this.changeTask = new PeriodicTask(options.timers, options.healthIntervalMs ?? HEALTH_INTERVAL_MS_DEFAULT, async () => this.driveChange());
      const settings = options.antiEntropy;
      if (settings !== undefined) {
        this.antiEntropy = new AntiEntropy({
          peers: settings.peers,
          transport: options.transport,
          clock: options.clock,
          monotonic,
          timers: options.timers,
          timeoutMs,
          bytesPerS: settings.bytesPerS,
          keysPerS: settings.keysPerS,
          pauseMs: settings.pauseMs,
          tombstoneGraceMs: settings.tombstoneGraceMs,
          unsafePurgeWithoutConfirmation: options.unsafe?.purgeWithoutConfirmation,
          events: { roundStarted: events.roundStarted, rangeCompared: events.rangeCompared, roundFinished: events.roundFinished },
        });
        if (settings.intervalMs > 0) this.antiEntropyTask = new PeriodicTask(options.timers, settings.intervalMs, async () => this.scheduledRepair());
      }
    }
  }

  /** The cluster map in use (undefined without one, or before it is loaded). */
  get map(): ClusterMap | undefined {
    return this.keeper?.map;
  }

  /**
   * The progress of the membership change in progress: live when this coordinator drives it, else as the gaining
   * nodes recorded it (read every health interval); undefined without a change, or before it was read.
   */
  get changeProgress(): ChangeProgress | undefined {
    const progress = this.driver?.progress;
    const transition = this.keeper?.map?.transition;
    return progress !== undefined && transition !== null && transition !== undefined && progress.change === transition.id ? progress : undefined;
  }

  /**
   * Plans (`dryRun`) or starts a membership change: validated against the map in use, then proposed as the next epoch;
   * the driver (the live coordinator with the smallest clock id) streams and completes it in the background.
   * @throws KvError `KV_CHANGE_REFUSED` (nothing to do, an unknown or duplicate id, a node that does not answer or is
   *   not the node named, fewer than N members left), `KV_CHANGE_IN_PROGRESS` (another change runs, or won the epoch),
   *   `KV_NOT_READY` (no map yet), `KV_UNAVAILABLE` (no majority of the members answered).
   */
  async changeMembership(request: ChangeRequest, dryRun: boolean): Promise<ChangeAnswer> {
    const mapOptions = this.mapOptions;
    const keeper = this.keeper;
    const proposer = this.proposer;
    if (mapOptions === undefined || keeper === undefined || proposer === undefined) {
      throw new KvError(ErrorCode.ChangeRefused, 'this coordinator runs with fixed members (no cluster map)');
    }
    const map = keeper.map;
    if (map === undefined) throw notJoined();
    startChange(map, request, 'check');
    for (const { id, url } of request.add) {
      let answer: { nodeId: string; keys: number };
      try {
        answer = await mapOptions.probeNew(url);
      } catch (error) {
        throw new KvError(ErrorCode.ChangeRefused, `node ${id} at ${url} does not answer: ${(error as Error).message}`);
      }
      if (answer.nodeId !== id) throw new KvError(ErrorCode.ChangeRefused, `${url} is node ${answer.nodeId}, not ${id}`);
    }
    if (dryRun) {
      const holdings = new Map<string, { keys: number; bytes: number }>();
      await Promise.all(
        map.members.map(async (member) => {
          const held = await mapOptions.holdings(member.id).catch(() => undefined);
          if (held !== undefined) holdings.set(member.id, held);
        }),
      );
      return { dryRun: true, plan: planChange(map, request, holdings) };
    }
    const random = mapOptions.random ?? Math.random;
    const changeId = `c${map.epoch + 1}-${Math.floor(random() * 0xffffffff).toString(16).padStart(8, '0')}`;
    const proposed = startChange(map, request, changeId);
    let outcome;
    try {
      outcome = await proposer.propose(map, proposed);
    } catch (error) {
      if (!(error instanceof NoMajorityError)) throw error;
      // Some members may have accepted it: another proposer for this epoch could still complete it.
      throw new KvError(ErrorCode.QuorumFailed, `${error.message}; the change may still take effect: look at GET /cluster before sending it again`, {
        cause: error,
        details: { acks: error.answered, required: Math.floor(error.acceptors / 2) + 1 },
      });
    }
    keeper.adopt(outcome.map);
    if (outcome.outcome === 'lost') {
      throw new KvError(ErrorCode.ChangeInProgress, `another change took epoch ${outcome.map.epoch} first; look at the cluster and try again`);
    }
    void this.driveChange();
    return { dryRun: false, epoch: outcome.map.epoch, change: changeId };
  }

  /** The progress of the anti-entropy round running, or of the last one (undefined without anti-entropy). */
  get repairProgress(): RepairProgress | undefined {
    return this.antiEntropy?.progress;
  }

  /**
   * Starts an anti-entropy round now over the whole ring or `scope` (any coordinator may, driver or not: repairs are
   * versioned writes), or joins the round running. Resolves once it has started, with `done`, its end.
   * @throws KvError `KV_CHANGE_REFUSED` without anti-entropy, `KV_NOT_READY` before the map is loaded,
   *   `KV_CHANGE_IN_PROGRESS` while a membership change runs.
   */
  repair(scope?: HashRange): { started: boolean; done: Promise<RepairProgress> } {
    const antiEntropy = this.antiEntropy;
    if (antiEntropy === undefined) throw new KvError(ErrorCode.ChangeRefused, 'this coordinator runs without anti-entropy (no cluster map)');
    const map = this.keeper?.map;
    if (map === undefined || !this.presence.joined) throw notJoined();
    const started = !antiEntropy.busy;
    try {
      return { started, done: antiEntropy.round(map, () => this.keeper?.map?.epoch ?? 0, scope) };
    } catch (error) {
      if (error instanceof RepairRefusedError) throw new KvError(ErrorCode.ChangeInProgress, error.message);
      throw error;
    }
  }

  /** The scheduled round: only by the driver, and not while a membership change runs (the next turn comes anyway). */
  private async scheduledRepair(): Promise<void> {
    const map = this.keeper?.map;
    const antiEntropy = this.antiEntropy;
    if (antiEntropy === undefined || map === undefined || map.transition !== null || !this.presence.joined || !this.isDriver() || antiEntropy.busy) return;
    await antiEntropy.round(map, () => this.keeper?.map?.epoch ?? 0);
  }

  /** Switches to a newer map: its members are probed and registered with, and keys are placed by it. */
  private useMap(map: ClusterMap): void {
    this.mapOptions?.membersChanged(map);
    const ids = map.members.map((member) => member.id);
    const tracked = new Set(this.health.statusAll().map((status) => status.id));
    for (const id of ids) if (!tracked.has(id)) this.health.add(id);
    for (const { id } of this.health.statusAll()) if (!ids.includes(id)) this.health.remove(id);
    this.prober.setNodeIds(ids);
    this.presence.setNodeIds(ids);
    this.membership.setNodeIds(ids);
    this.replicator.setPlacement(mapPlacement(map));
    this.options.events?.mapAdopted?.(map);
    const { replicator } = this;
    if (map.replicas !== replicator.replicas || map.writeQuorum !== replicator.writeQuorum || map.readQuorum !== replicator.readQuorum) {
      this.options.events?.quorumsDiffer?.(map, { replicas: replicator.replicas, writeQuorum: replicator.writeQuorum, readQuorum: replicator.readQuorum });
    }
    for (const id of ids) if (this.membership.stateOf(id) === 'refilling') this.probeNow(id);
  }

  /**
   * A data node's `WAL_SYNC` as it last reported it (undefined before it answered a probe, or when it does not say):
   * shown in `/cluster`, so weaker durability is never invisible.
   */
  syncModeOf(nodeId: string): 'always' | 'interval' | 'none' | undefined {
    return this.syncModes.get(nodeId);
  }

  /** A data node's live keys and tombstones as it last reported them (undefined before it answered a probe). */
  holdingsOf(nodeId: string): { keys: number; tombstones?: number } | undefined {
    return this.holdings.get(nodeId);
  }

  /** Records a node's `WAL_SYNC`, and reports a weak one when it first appears or changes. */
  private noteSyncMode(nodeId: string, mode: 'always' | 'interval' | 'none' | undefined): void {
    if (mode === undefined) return;
    const before = this.syncModes.get(nodeId);
    this.syncModes.set(nodeId, mode);
    if (mode !== 'always' && mode !== before) this.options.events?.weakSync?.(nodeId, mode);
  }

  /** Reports a data node whose `MAX_CLOCK_SKEW_MS` differs from this coordinator's, once per node and value. */
  private compareSkewSetting(nodeId: string, nodeMs: number | undefined): void {
    const own = this.options.maxClockSkewMs;
    if (own === undefined || nodeMs === undefined || nodeMs === own || this.skewReported.get(nodeId) === nodeMs) return;
    this.skewReported.set(nodeId, nodeMs);
    this.options.events?.skewSettingDiffers?.(nodeId, nodeMs, own);
  }

  /** Whether this coordinator drives membership changes: the live one with the smallest clock id. */
  private isDriver(): boolean {
    const own = this.presence.claim.clockId;
    return this.presence.otherIds().every((other) => own < other);
  }

  /** Drives the change in progress, if any and if this coordinator is the driver; one drive at a time. */
  private async driveChange(): Promise<void> {
    const map = this.keeper?.map;
    const driver = this.driver;
    if (map === undefined || map.transition === null || driver === undefined || this.driving !== undefined) return;
    if (!this.presence.joined || !this.isDriver()) {
      // Another coordinator drives it: what the gaining nodes recorded is the progress to show.
      await driver.observe(map).catch(() => undefined);
      return;
    }
    const keeper = this.keeper as ClusterMapKeeper;
    this.driving = driver
      .drive(map, (next) => keeper.adopt(next))
      .catch((error: unknown) => this.options.events?.changeStalled?.(error))
      .finally(() => {
        this.driving = undefined;
      });
    await this.driving;
  }

  /**
   * Reads the durable state (the clock floor) and builds the coordinator; nothing runs until {@link Coordinator.start}.
   * @throws Error on a malformed floor; the stable store's error on an I/O failure.
   */
  static async open(options: CoordinatorOptions): Promise<Coordinator> {
    const unsafeClock = options.unsafe?.unsafeClock === true;
    const floor = unsafeClock ? undefined : await ClockFloor.open(options.stable);
    const versions = new CoordinatorVersions({
      clockId: options.claim.clockId,
      clock: options.clock,
      floor,
      observeVersions: !unsafeClock,
      driftMsMax: options.versionDriftMsMax,
    });
    await versions.advanceFloor();
    return new Coordinator(options, versions);
  }

  /**
   * Registers with the data nodes (in the background: see {@link Coordinator.joined}), probes every node once, then
   * starts the periodic work: probes, hint replay, the floor.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const keeper = this.keeper;
    this.joinedPromise = keeper === undefined ? this.presence.join() : keeper.load().then(() => this.presence.join());
    this.joinedPromise.catch(() => undefined);
    await this.prober.start();
    this.replayer.start();
    this.floorTask.start();
    this.changeTask?.start();
    this.antiEntropyTask?.start();
  }

  /**
   * Resolves once this coordinator has joined the cluster's registry and may serve; rejects with
   * `DuplicateCoordinatorError` when another running coordinator uses its clock id.
   */
  joined(): Promise<void> {
    if (this.joinedPromise === undefined) throw new TypeError('start the coordinator first');
    return this.joinedPromise;
  }

  /** Probes a node now, off schedule (e.g. after it refused a request as another incarnation). */
  probeNow(nodeId: string): void {
    void this.prober.check(nodeId);
  }

  /**
   * Takes note of a request a node refused: another incarnation (probe it now), a lapsed lease (register again), or
   * this clock id registered by another process meanwhile (stop serving, register again, give up if it stays).
   */
  noteRefusal(nodeId: string, error: unknown): void {
    if (isKvError(error, ErrorCode.NodeChanged)) this.probeNow(nodeId);
    else if (isKvError(error, ErrorCode.CoordinatorLapsed)) this.presence.lapsed();
    else if (isKvError(error, ErrorCode.DuplicateCoordinator)) this.presence.duplicate();
    else if (isKvError(error, ErrorCode.StaleEpoch)) this.keeper?.observeEpoch(nodeId, this.keeper.epoch + 1);
  }

  /** The state of a data node as this coordinator sees it. */
  stateOf(nodeId: string): NodeState {
    return this.membership.stateOf(nodeId);
  }

  /**
   * Stops the periodic work and waits for what runs: probes, refills, hint deliveries, the floor. Close the hint store
   * and the transport after this resolves, so that hints of writes still in flight are recorded.
   */
  async stop(): Promise<void> {
    this.presence.stop();
    this.keeper?.stop();
    this.driver?.stop();
    this.antiEntropy?.stop();
    await this.antiEntropyTask?.stop();
    await this.antiEntropy?.idle();
    await this.changeTask?.stop();
    await this.driving;
    await this.prober.stop();
    await this.floorTask.stop();
    await this.membership.stop();
    await this.replayer.stop();
  }
}

function notJoined(): KvError {
  return new KvError(ErrorCode.NotReady, 'this proxy has not joined the cluster yet (it registers with the data nodes): retry shortly');
}

/** A clock shifted by `offsetMs` (test-only: a coordinator whose wall clock is stepped back or ahead). */
export function offsetClock(clock: Clock, offsetMs: number): Clock {
  return offsetMs === 0 ? clock : { now: () => clock.now() + offsetMs };
}
