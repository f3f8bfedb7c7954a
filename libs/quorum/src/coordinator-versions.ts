import { HybridClock } from '@kv/protocol';
import type { ClockFloor } from './clock-floor';
import type { Clock } from './time';
import type { VersionSource } from './transport';

/** Versions issued while the durable floor is at least this far ahead of them need no wait for the floor. */
export const FLOOR_HEADROOM_MS = 1000;

/** Options of {@link CoordinatorVersions}. */
export interface CoordinatorVersionsOptions {
  /** This coordinator's clock id, the last field of its versions (unique among coordinators). */
  clockId: string;
  /** The wall clock. */
  clock: Clock;
  /** The durable floor; `undefined` runs without one (test-only: a restart may then issue older versions). */
  floor: ClockFloor | undefined;
  /** Whether versions seen on replicas advance the clock (default true; off only to prove that tests notice). */
  observeVersions?: boolean;
  /**
   * Observed versions further ahead of the wall clock are not followed (default `HLC_DRIFT_MS_MAX_DEFAULT` of
   * `@kv/protocol`); set it above the data nodes' `MAX_CLOCK_SKEW_MS`, so that every version a node accepts can be passed.
   */
  driftMsMax?: number;
}

/**
 * A coordinator's version source: a hybrid logical clock that never issues a version below the durable clock floor,
 * and that moves past versions seen on replicas. Callers of a write first await {@link CoordinatorVersions.ready}
 * (usually a no-op) so that every version they are about to issue is covered by the floor on disk.
 */
export class CoordinatorVersions implements VersionSource {
  private readonly hlc: HybridClock;
  private readonly floor: ClockFloor | undefined;
  private readonly observeVersions: boolean;
  private readonly clock: Clock;
  readonly clockId: string;

  constructor(options: CoordinatorVersionsOptions) {
    this.clock = options.clock;
    this.floor = options.floor;
    this.clockId = options.clockId;
    this.hlc = new HybridClock({ clock: this.clock, clockId: options.clockId, floorMs: options.floor?.floorMs ?? 0, driftMsMax: options.driftMsMax });
    this.observeVersions = options.observeVersions ?? true;
  }

  next(): string {
    return this.hlc.next();
  }

  /**
   * Moves the clock past `version` (the HLC receive rule), unless it is further ahead of the wall clock than
   * `driftMsMax`: then it is ignored and the answer is false.
   */
  observe(version: string): boolean {
    return this.observeVersions ? this.hlc.observe(version) : true;
  }

  /**
   * Resolves once the versions issued in the next moments are covered by the floor on disk; `undefined` (no wait) when
   * they already are, which is the case whenever {@link CoordinatorVersions.advanceFloor} runs regularly.
   */
  ready(): Promise<void> | undefined {
    if (this.floor === undefined) return undefined;
    const issuingMs = this.issuingMs();
    if (this.floor.covers(issuingMs + FLOOR_HEADROOM_MS)) return undefined;
    return this.floor.ensureAbove(issuingMs);
  }

  /** Pushes the floor ahead when the clock comes near it (called every second or so, off the request path). */
  advanceFloor(): Promise<void> {
    if (this.floor === undefined) return Promise.resolve();
    return this.floor.ensureAbove(this.issuingMs());
  }

  /**
   * The ms of the next version: at least the wall clock, the newest version issued or observed, and the clock's own
   * floor (which a clock stepped back issues at).
   */
  private issuingMs(): number {
    return Math.max(this.clock.now(), this.hlc.lastMs, this.hlc.floorMs);
  }
}
