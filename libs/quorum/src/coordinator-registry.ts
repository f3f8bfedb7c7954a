import type { LiveCoordinator } from '@kv/protocol';
import type { Clock } from './time';

/** A coordinator as it presents itself on every internal request (`x-kv-coordinator`). */
export interface CoordinatorClaim {
  readonly clockId: string;
  /** Random per process start: two processes with one clock id differ here. */
  readonly incarnation: string;
  readonly leaseMs: number;
}

/** What a data node does with a request from a coordinator. */
export type Admission = 'admitted' | 'duplicate' | 'lapsed';

/** Shortest and longest lease a coordinator may ask for, in ms: at least a few probes, at most a few minutes. */
export const COORDINATOR_LEASE_MS_MIN = 100;
export const COORDINATOR_LEASE_MS_MAX = 300_000;
/** Coordinators remembered at most by one data node (live or lapsed); beyond it the longest silent are forgotten. */
export const COORDINATORS_MAX = 1024;

const CLAIM_PATTERN = /^([a-z0-9_-]{1,16});([0-9a-f]{8,32});(\d{1,9})$/;

/**
 * Parses `x-kv-coordinator: <clock id>;<incarnation>;<lease ms>`.
 * @returns `undefined` when the header is absent; the claim when it is well formed.
 * @throws TypeError (the caller answers 400) when it is malformed or the lease is out of bounds.
 */
export function parseCoordinatorClaim(header: string | string[] | undefined): CoordinatorClaim | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? CLAIM_PATTERN.exec(header) : null;
  if (match === null) throw new TypeError('x-kv-coordinator must be <clock id>;<incarnation: 8..32 hex>;<lease ms>');
  const leaseMs = Number(match[3]);
  if (leaseMs < COORDINATOR_LEASE_MS_MIN || leaseMs > COORDINATOR_LEASE_MS_MAX) {
    throw new TypeError(`a coordinator's lease must be ${COORDINATOR_LEASE_MS_MIN}..${COORDINATOR_LEASE_MS_MAX} ms, got ${leaseMs}`);
  }
  return { clockId: match[1], incarnation: match[2], leaseMs };
}

/** The header value of a claim. */
export function formatCoordinatorClaim(claim: CoordinatorClaim): string {
  return `${claim.clockId};${claim.incarnation};${claim.leaseMs}`;
}

interface Entry {
  incarnation: string;
  leaseMs: number;
  lastSeenMs: number;
}

/**
 * The data node's side of coordinator leases (docs/ARCHITECTURE.md, Several coordinators): which coordinators it
 * heard from within their lease. Pure: time comes from the injected clock, which must be monotonic (leases are
 * durations, and a wall clock may be stepped).
 *
 * Rules, per request that carries a claim:
 * - a request carrying a live clock id with another incarnation is refused (`duplicate`);
 * - a request of a coordinator whose lease lapsed here is refused (`lapsed`: it was paused or cut off for longer than
 *   its lease, and must register again, and wait, before it writes), unless it is a registration;
 * - a request of a coordinator this node does not know (it registered before this node restarted) is admitted: what
 *   fences a paused coordinator is first its own clock (it does not acknowledge writes once its view is stale), and
 *   the nodes that did not restart;
 * - an admitted request renews the lease.
 */
export class CoordinatorRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly monotonic: Clock) {}

  /** Admits (or refuses) a request carrying `claim`; `register` for a registration. */
  admit(claim: CoordinatorClaim, register: boolean): Admission {
    const now = this.monotonic.now();
    const entry = this.entries.get(claim.clockId);
    const live = entry !== undefined && now - entry.lastSeenMs <= entry.leaseMs;
    if (live && entry.incarnation !== claim.incarnation) return 'duplicate';
    if (!register && entry !== undefined && !live) return 'lapsed';
    this.entries.delete(claim.clockId);
    this.entries.set(claim.clockId, { incarnation: claim.incarnation, leaseMs: claim.leaseMs, lastSeenMs: now });
    if (this.entries.size > COORDINATORS_MAX) this.entries.delete(this.entries.keys().next().value as string);
    return 'admitted';
  }

  /** Coordinators heard from within their lease. */
  live(): LiveCoordinator[] {
    const now = this.monotonic.now();
    const live: LiveCoordinator[] = [];
    for (const [id, entry] of this.entries) {
      const seenMsAgo = now - entry.lastSeenMs;
      if (seenMsAgo <= entry.leaseMs) live.push({ id, leaseMs: entry.leaseMs, seenMsAgo: Math.round(seenMsAgo) });
    }
    return live;
  }
}
