import { ClockFloor } from './clock-floor';
import { CoordinatorVersions } from './coordinator-versions';
import { HealthProber, type Probe } from './health-prober';
import { HintReplayer } from './hint-replayer';
import type { Hint, HintStore } from './hint-store';
import { NodeHealth, type NodeStatus } from './node-health';
import { NodeMembership, type NodeMembershipEvents, type NodeRecord } from './node-membership';
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

/** What a coordinator reports, for logs and metrics. Each must be cheap and must not throw. */
export interface CoordinatorEvents extends ReplicatorEvents, NodeMembershipEvents {
  /** A node went down or came back (health probes). */
  nodeStatusChanged?(status: NodeStatus): void;
  /** The clock floor could not be written: writes wait for it (safety holds, availability does not). */
  floorWriteFailed?(error: unknown): void;
  /** What a probe taught could not be recorded (the coordinator's own disk failed). */
  nodeStateNotRecorded?(nodeId: string, error: unknown): void;
  /** A hint was delivered to the replica that missed its write. */
  hintDelivered?(hint: Hint): void;
}

/** Options of {@link Coordinator.open}. */
export interface CoordinatorOptions {
  /** This coordinator's clock id (unique among coordinators). */
  clockId: string;
  /** The data nodes. */
  nodeIds: readonly string[];
  ring: PreferenceLists;
  /** How replicas are reached (the batching transport over HTTP in a proxy; the in-memory cluster in tests). */
  transport: Transport;
  /** Probes a node's health (its incarnation). */
  probe: Probe;
  /** Lists every entry a node holds, for refills. */
  entries: EntrySource;
  /** Tells the transport which incarnation a node must have. */
  expectIncarnation(nodeId: string, incarnation: string): void;
  /** Durable state: the clock floor, what is known of each node. */
  stable: StableStore;
  hints: HintStore;
  clock: Clock;
  timers: Timers;
  replicas?: number;
  writeQuorum?: number;
  readQuorum?: number;
  /** Deadline of one request to a replica, in ms. */
  timeoutMs?: number;
  /** Interval of the health probes, in ms (default {@link HEALTH_INTERVAL_MS_DEFAULT}). */
  healthIntervalMs?: number;
  events?: CoordinatorEvents;
  /**
   * Test-only weakenings, to prove that the checks notice: `unsafeClock` runs without the clock floor, does not follow
   * versions seen on replicas, and acknowledges writes found behind a newer version; `readRepair: 'background'`.
   */
  unsafe?: { unsafeClock?: boolean; readRepair?: ReadRepairMode; backgroundRepairDelayMs?: number };
}

/**
 * The coordinator core of a proxy, apart from any server: versions with the durable clock floor, health probes, the
 * lost-disk state machine with refills, hinted handoff, and the replicator that serves reads and writes. Durable state
 * goes to the injected {@link StableStore} and hint store, replicas are reached through the injected transport, and
 * time through the injected clock and timers; so the whole coordinator runs on the in-memory cluster and virtual time.
 */
export class Coordinator {
  readonly replicator: Replicator;
  readonly versions: CoordinatorVersions;
  readonly health: NodeHealth;
  readonly membership: NodeMembership;
  private readonly prober: HealthProber;
  private readonly replayer: HintReplayer;
  private readonly floorTask: PeriodicTask;
  private started = false;

  private constructor(options: CoordinatorOptions, versions: CoordinatorVersions) {
    const events = options.events ?? {};
    const timeoutMs = options.timeoutMs;
    this.versions = versions;
    this.health = new NodeHealth(options.nodeIds, { now: () => options.clock.now() });
    this.health.onChange((status) => events.nodeStatusChanged?.(status));
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
      supersededWrites: options.unsafe?.unsafeClock === true ? 'acknowledge' : 'retry',
      timers: options.timers,
      events,
    });
    const refiller = new Refiller({
      ring: options.ring,
      replicas: this.replicator.replicas,
      transport: options.transport,
      timeoutMs,
      source: options.entries,
    });
    this.membership = new NodeMembership({
      nodeIds: options.nodeIds,
      store: options.stable,
      health: this.health,
      refiller,
      expectIncarnation: options.expectIncarnation,
      clock: options.clock,
      timers: options.timers,
      events,
    });
    this.prober = new HealthProber({
      nodeIds: options.nodeIds,
      health: this.health,
      probe: options.probe,
      intervalMs: options.healthIntervalMs ?? HEALTH_INTERVAL_MS_DEFAULT,
      timers: options.timers,
      observe: (nodeId, answer) => this.membership.observe(nodeId, answer.incarnation),
      onObserveError: (nodeId, error) => events.nodeStateNotRecorded?.(nodeId, error),
    });
    this.replayer = new HintReplayer({
      hints: options.hints,
      transport: options.transport,
      health: this.health,
      timeoutMs,
      timers: options.timers,
      onDelivered: (hint) => events.hintDelivered?.(hint),
    });
    // Versions beyond the floor on disk wait for it (CoordinatorVersions.ready), so a failing disk stops writes, not
    // safety.
    this.floorTask = new PeriodicTask(options.timers, FLOOR_ADVANCE_INTERVAL_MS, () => versions.advanceFloor(), (error) =>
      events.floorWriteFailed?.(error),
    );
  }

  /**
   * Reads the durable state (clock floor, node records) and builds the coordinator; nothing runs until
   * {@link Coordinator.start}.
   * @throws Error on malformed durable state; the stable store's error on an I/O failure.
   */
  static async open(options: CoordinatorOptions): Promise<Coordinator> {
    const unsafeClock = options.unsafe?.unsafeClock === true;
    const floor = unsafeClock ? undefined : await ClockFloor.open(options.stable);
    const versions = new CoordinatorVersions({ clockId: options.clockId, clock: options.clock, floor, observeVersions: !unsafeClock });
    await versions.advanceFloor();
    const coordinator = new Coordinator(options, versions);
    await coordinator.membership.open();
    return coordinator;
  }

  /** Probes every node once, then starts the periodic work: probes, hint replay, the floor. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.prober.start();
    this.replayer.start();
    this.floorTask.start();
  }

  /** Probes a node now, off schedule (e.g. after it refused a request as another incarnation). */
  probeNow(nodeId: string): void {
    void this.prober.check(nodeId);
  }

  /** The state of a data node as this coordinator sees it. */
  stateOf(nodeId: string): NodeRecord['state'] {
    return this.membership.stateOf(nodeId);
  }

  /**
   * Stops the periodic work and waits for what runs: probes, refills, hint deliveries, the floor. Close the hint store
   * and the transport after this resolves, so that hints of writes still in flight are recorded.
   */
  async stop(): Promise<void> {
    await this.prober.stop();
    await this.floorTask.stop();
    await this.membership.stop();
    await this.replayer.stop();
  }
}

/** A clock shifted by `offsetMs` (test-only: a coordinator whose wall clock is stepped back or ahead). */
export function offsetClock(clock: Clock, offsetMs: number): Clock {
  return offsetMs === 0 ? clock : { now: () => clock.now() + offsetMs };
}
