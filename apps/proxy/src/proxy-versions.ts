import { HybridClock, decodeVersion, isVersion } from '@kv/protocol';
import type { VersionSource } from '@kv/quorum';
import type { ClockFloor } from './clock-floor';

/** Versions issued while the durable floor is at least this far ahead of them need no wait for the floor. */
export const FLOOR_HEADROOM_MS = 1000;

/** Options of {@link ProxyVersions}. */
export interface ProxyVersionsOptions {
  proxyId: string;
  /** The durable floor; `undefined` runs without one (test-only: a restart may then issue older versions). */
  floor: ClockFloor | undefined;
  /** Added to the wall clock (test-only: a clock stepped back or forward). */
  clockOffsetMs?: number;
  /** Whether versions seen on replicas advance the clock (off only to prove that tests notice). */
  observeVersions?: boolean;
}

/**
 * The proxy's version source: a hybrid logical clock that never issues a version below the durable clock floor, and
 * that moves past versions seen on replicas. Callers of a write first await {@link ProxyVersions.ready} (usually a
 * no-op) so that every version they are about to issue is covered by the floor on disk.
 */
export class ProxyVersions implements VersionSource {
  private readonly clock: HybridClock;
  private readonly floor: ClockFloor | undefined;
  private readonly observeVersions: boolean;
  private readonly wall: { now(): number };

  constructor(options: ProxyVersionsOptions) {
    const offset = options.clockOffsetMs ?? 0;
    this.wall = { now: () => Date.now() + offset };
    this.floor = options.floor;
    this.clock = new HybridClock({ clock: this.wall, clockId: options.proxyId, floorMs: options.floor?.floorMs ?? 0 });
    this.observeVersions = options.observeVersions ?? true;
  }

  next(): string {
    return this.clock.next();
  }

  observe(version: string): void {
    if (this.observeVersions) this.clock.observe(version);
  }

  covers(version: string): boolean {
    const last = this.clock.last;
    if (last === undefined || !isVersion(version)) return false;
    const seen = decodeVersion(version);
    return seen.ms < last.ms || (seen.ms === last.ms && seen.counter <= last.counter);
  }

  /**
   * Resolves once the versions issued in the next moments are covered by the floor on disk; `undefined` (no wait) when
   * they already are, which is the case whenever {@link ProxyVersions.advanceFloor} runs regularly.
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
    return Math.max(this.wall.now(), this.clock.lastMs, this.clock.floorMs);
  }
}
