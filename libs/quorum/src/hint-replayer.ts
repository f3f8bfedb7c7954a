import { NODE_TIMEOUT_MS_DEFAULT, versionMs } from '@kv/protocol';
import type { Hint, HintStore } from './hint-store';
import type { NodeHealth } from './node-health';
import { systemClock } from './system-clock';
import type { Clock, Timers } from './time';
import type { Transport } from './transport';

/** Options of {@link HintReplayer}. */
export interface HintReplayerOptions {
  hints: HintStore;
  transport: Transport;
  /** Nodes believed down are skipped until a probe brings them back. */
  health?: NodeHealth;
  /** Deadline of one delivery, in ms (default `NODE_TIMEOUT_MS_DEFAULT` of `@kv/protocol`). */
  timeoutMs?: number;
  /** Hints sent to a node at once (default {@link HINT_BATCH_MAX_DEFAULT}). */
  batchMax?: number;
  /** Batches per node per round, so that one large backlog does not starve the others (default 16). */
  batchesPerRoundMax?: number;
  /** Pause between rounds, in ms (default {@link HINT_REPLAY_INTERVAL_MS_DEFAULT}). */
  intervalMs?: number;
  timers?: Timers;
  /** Called after each delivered hint (metrics). */
  onDelivered?(hint: Hint): void;
  /**
   * Whether a node is in the cluster map (default: every node is). Hints for a node that left it are discarded: its
   * ranges were streamed to their new owners from the others, and no write needs it any more.
   */
  isMember?(nodeId: string): boolean;
  /** Hints for a node that left the cluster map were discarded. */
  onDiscarded?(nodeId: string, hints: number): void;
  /**
   * Hints whose version is older than this (by its ms, on `clock`) are dropped, not delivered: a tombstone they could
   * overwrite may have been purged (TOMBSTONE_GRACE_MS minus MAX_CLOCK_SKEW_MS). Default: none is too old.
   */
  maxAgeMs?: number;
  /** The wall clock the age of hints is measured on (needed with `maxAgeMs`). */
  clock?: Clock;
  /** A hint too old to deliver was dropped. */
  onExpired?(hint: Hint): void;
}

/** Hints sent to one node at once: one batch of the batching transport. */
export const HINT_BATCH_MAX_DEFAULT = 256;
/** Rounds start this often: a node that came back gets its missed writes within about this delay. */
export const HINT_REPLAY_INTERVAL_MS_DEFAULT = 500;

/** What one round did. */
export interface ReplayRound {
  delivered: number;
  failed: number;
  /** Hints dropped as too old to deliver (see `maxAgeMs`). */
  expired?: number;
}

/**
 * Delivers hints (hinted handoff): every round, for each node with pending hints that is believed up, resends its
 * missed writes, oldest first, and removes each one the node acknowledged. A node that fails a delivery is left
 * until the next round. Delivery is a versioned write, so a hint older than what the node holds is harmless.
 */
export class HintReplayer {
  private readonly hints: HintStore;
  private readonly transport: Transport;
  private readonly health: NodeHealth | undefined;
  private readonly timeoutMs: number;
  private readonly batchMax: number;
  private readonly batchesPerRoundMax: number;
  private readonly intervalMs: number;
  private readonly timers: Timers;
  private readonly onDelivered: ((hint: Hint) => void) | undefined;
  private readonly isMember: (nodeId: string) => boolean;
  private readonly onDiscarded: ((nodeId: string, hints: number) => void) | undefined;
  private readonly maxAgeMs: number | undefined;
  private readonly clock: Clock | undefined;
  private readonly onExpired: ((hint: Hint) => void) | undefined;
  private timer: unknown;
  private running: Promise<ReplayRound> | undefined;
  private stopped = true;

  constructor(options: HintReplayerOptions) {
    this.hints = options.hints;
    this.transport = options.transport;
    this.health = options.health;
    this.timeoutMs = options.timeoutMs ?? NODE_TIMEOUT_MS_DEFAULT;
    this.batchMax = options.batchMax ?? HINT_BATCH_MAX_DEFAULT;
    this.batchesPerRoundMax = options.batchesPerRoundMax ?? 16;
    this.intervalMs = options.intervalMs ?? HINT_REPLAY_INTERVAL_MS_DEFAULT;
    this.timers = options.timers ?? systemClock;
    this.onDelivered = options.onDelivered;
    this.isMember = options.isMember ?? (() => true);
    this.onDiscarded = options.onDiscarded;
    this.maxAgeMs = options.maxAgeMs;
    this.clock = options.clock;
    this.onExpired = options.onExpired;
    if (this.maxAgeMs !== undefined && this.clock === undefined) throw new TypeError('maxAgeMs needs a clock');
    for (const [name, value] of [
      ['timeoutMs', this.timeoutMs],
      ['batchMax', this.batchMax],
      ['batchesPerRoundMax', this.batchesPerRoundMax],
      ['intervalMs', this.intervalMs],
    ] as const) {
      if (!(value > 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a positive number, got ${value}`);
    }
  }

  /** Runs one round now (or joins the one running). */
  replayOnce(): Promise<ReplayRound> {
    if (this.running === undefined) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Starts rounds every `intervalMs`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.scheduleNext();
  }

  /** Stops scheduling rounds and waits for the current one. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.replayOnce()
        .catch(() => undefined)
        .finally(() => this.scheduleNext());
    }, this.intervalMs);
  }

  private async round(): Promise<ReplayRound> {
    const result: ReplayRound = { delivered: 0, failed: 0 };
    for (const nodeId of this.hints.nodes().filter((id) => !this.isMember(id))) await this.discard(nodeId);
    const nodes = this.hints.nodes().filter((nodeId) => this.health?.isUp(nodeId) ?? true);
    await Promise.all(nodes.map((nodeId) => this.deliverTo(nodeId, result)));
    return result;
  }

  private async discard(nodeId: string): Promise<void> {
    let discarded = 0;
    for (let pending = this.hints.pending(nodeId, this.batchMax); pending.length > 0; pending = this.hints.pending(nodeId, this.batchMax)) {
      await Promise.all(pending.map((hint) => this.hints.remove(hint)));
      discarded += pending.length;
    }
    if (discarded > 0) this.onDiscarded?.(nodeId, discarded);
  }

  private async deliverTo(nodeId: string, result: ReplayRound): Promise<void> {
    for (let batch = 0; batch < this.batchesPerRoundMax; batch++) {
      let pending = this.hints.pending(nodeId, this.batchMax);
      if (pending.length === 0) return;
      if (this.maxAgeMs !== undefined && this.clock !== undefined) {
        const oldestMs = this.clock.now() - this.maxAgeMs;
        const expired = pending.filter((hint) => versionMs(hint.version) < oldestMs);
        if (expired.length > 0) {
          await Promise.all(expired.map((hint) => this.hints.remove(hint)));
          for (const hint of expired) this.onExpired?.(hint);
          result.expired = (result.expired ?? 0) + expired.length;
          pending = pending.filter((hint) => !expired.includes(hint));
          if (pending.length === 0) continue;
        }
      }
      const outcomes = await Promise.allSettled(
        pending.map((hint) =>
          this.transport.write(nodeId, { key: hint.key, value: hint.value, version: hint.version, expiresAt: hint.expiresAt }, this.timeoutMs),
        ),
      );
      let failedHere = 0;
      const removals: Promise<void>[] = [];
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') {
          result.delivered += 1;
          removals.push(this.hints.remove(pending[i]));
          this.onDelivered?.(pending[i]);
        } else {
          failedHere += 1;
        }
      });
      await Promise.all(removals);
      result.failed += failedHere;
      if (failedHere > 0) return;
    }
  }
}
