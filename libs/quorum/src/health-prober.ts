import type { LiveCoordinator } from '@kv/protocol';
import type { NodeHealth } from './node-health';
import { PeriodicTask } from './periodic-task';
import type { Timers } from './time';

/** What a successful probe of a data node reports (its status answer, as far as the coordinator uses it). */
export interface ProbeAnswer {
  /** The identity of the node's data directory. */
  readonly incarnation: string;
  /** False while the node holds a new incarnation that no coordinator has refilled yet. */
  readonly filled: boolean;
  /** The coordinators the node heard from within their lease. */
  readonly coordinators: readonly LiveCoordinator[];
  /** The epoch of the cluster map the node stores, when it keeps one. */
  readonly epoch?: number;
  /** The node's `MAX_CLOCK_SKEW_MS`, when it says. */
  readonly maxClockSkewMs?: number;
  /** The node's `WAL_SYNC`, when it says. */
  readonly walSync?: 'always' | 'interval' | 'none';
  /** Live keys and tombstones the node holds, when it says. */
  readonly keys?: number;
  readonly tombstones?: number;
}

/** Probes one node; resolves with its answer when it is healthy, rejects otherwise (within about the probe deadline). */
export type Probe = (nodeId: string) => Promise<ProbeAnswer>;

/** Options of {@link HealthProber}. */
export interface HealthProberOptions {
  nodeIds: readonly string[];
  health: NodeHealth;
  probe: Probe;
  intervalMs: number;
  timers: Timers;
  /**
   * Receives every successful probe's answer before the node is reported up (the incarnation check of
   * `NodeMembership`); a rejection means the coordinator could not record what it learned.
   */
  observe?: (nodeId: string, answer: ProbeAnswer) => Promise<void>;
  /** Receives every successful probe's answer, first thing (e.g. the node's map epoch). */
  onAnswer?: (nodeId: string, answer: ProbeAnswer) => void;
  /** Called when `observe` failed (the node is then reported down until the next probe). */
  onObserveError?: (nodeId: string, error: unknown) => void;
}

/**
 * Probes every data node every `intervalMs` and reports the results to {@link NodeHealth}. Probes of one node never
 * overlap: a probe still running when its next turn comes is not duplicated.
 */
export class HealthProber {
  private readonly running = new Set<string>();
  private readonly task: PeriodicTask;
  private nodeIds: readonly string[];

  constructor(private readonly options: HealthProberOptions) {
    this.nodeIds = options.nodeIds;
    this.task = new PeriodicTask(options.timers, options.intervalMs, () => this.checkAll());
  }

  /** The nodes to probe from now on (a new cluster map). */
  setNodeIds(nodeIds: readonly string[]): void {
    this.nodeIds = [...nodeIds];
  }

  /** Probes every node once now, then every interval. */
  async start(): Promise<void> {
    await this.checkAll();
    this.task.start();
  }

  /** Stops probing and waits for the probes in flight. */
  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** Probes every node once (skipping those whose previous probe is still running). */
  async checkAll(): Promise<void> {
    await Promise.all(this.nodeIds.map((nodeId) => this.check(nodeId)));
  }

  /**
   * Probes one node now, off schedule (e.g. after it refused a request as another incarnation).
   * @returns its answer, or `undefined` when it failed (or a probe of it was already running).
   */
  async check(nodeId: string): Promise<ProbeAnswer | undefined> {
    if (this.running.has(nodeId)) return undefined;
    this.running.add(nodeId);
    const { health } = this.options;
    try {
      let answer: ProbeAnswer;
      try {
        answer = await this.options.probe(nodeId);
        this.options.onAnswer?.(nodeId, answer);
      } catch {
        health.report(nodeId, false);
        return undefined;
      }
      try {
        await this.options.observe?.(nodeId, answer);
      } catch (error) {
        // The coordinator could not record what it learned: treat the node as not answering, so it is tried last, and
        // learn it again at the next probe.
        this.options.onObserveError?.(nodeId, error);
        health.report(nodeId, false);
        return undefined;
      }
      health.report(nodeId, true);
      return answer;
    } finally {
      this.running.delete(nodeId);
    }
  }
}
