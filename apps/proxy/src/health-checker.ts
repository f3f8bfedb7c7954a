import type { NodeHealthResponse } from '@kv/protocol';
import type { NodeHealth } from '@kv/quorum';

/** Probes one node; resolves with its health answer when it is healthy, rejects otherwise. */
export type Probe = (nodeId: string) => Promise<NodeHealthResponse>;

/** Receives every successful probe's answer before the node is reported up (e.g. to check its incarnation). */
export type ProbeObserver = (nodeId: string, answer: NodeHealthResponse) => Promise<void>;

/**
 * Probes every data node's `/health` every `intervalMs` and reports the results to {@link NodeHealth}. Probes of one
 * node never overlap: a probe still running when its next turn comes is not duplicated.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<string>();

  constructor(
    private readonly nodeIds: readonly string[],
    private readonly health: NodeHealth,
    private readonly probe: Probe,
    private readonly intervalMs: number,
    private readonly observe?: ProbeObserver,
    private readonly onObserveError?: (nodeId: string, error: unknown) => void,
  ) {}

  /** Probes every node once now, then every interval. */
  start(): Promise<void> {
    this.timer = setInterval(() => void this.checkAll(), this.intervalMs);
    this.timer.unref();
    return this.checkAll();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Probes every node once (skipping those whose previous probe is still running). */
  async checkAll(): Promise<void> {
    await Promise.all(this.nodeIds.map((nodeId) => this.check(nodeId)));
  }

  /** Probes one node now, off schedule (e.g. after it refused a request as another incarnation). */
  async check(nodeId: string): Promise<void> {
    if (this.running.has(nodeId)) return;
    this.running.add(nodeId);
    try {
      let answer: NodeHealthResponse;
      try {
        answer = await this.probe(nodeId);
      } catch {
        this.health.report(nodeId, false);
        return;
      }
      try {
        await this.observe?.(nodeId, answer);
      } catch (error) {
        // The proxy could not record what it learned (its own disk failed): treat the node as not answering, so it
        // is tried last, and learn it again at the next probe.
        this.onObserveError?.(nodeId, error);
        this.health.report(nodeId, false);
        return;
      }
      this.health.report(nodeId, true);
    } finally {
      this.running.delete(nodeId);
    }
  }
}
