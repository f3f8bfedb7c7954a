import { NODE_TIMEOUT_MS_DEFAULT } from '@kv/protocol';
import type { PreferenceLists } from './replicator';
import type { Transport, WriteRequest } from './transport';

/** One entry as a replica lists it: key, version, value (`null` for a tombstone), and `expiresAt` for a value that expires. */
export type ListedEntry = readonly [key: string, version: string, value: string | null, expiresAt?: number];

/** Lists every entry a node holds, tombstones included (for a data node: `GET /internal/entries`). */
export type EntrySource = (nodeId: string) => AsyncIterable<ListedEntry>;

/** Options of {@link Refiller}. */
export interface RefillerOptions {
  ring: PreferenceLists;
  /** N: a key is copied to the target when the target is among its first N replicas. */
  replicas: number;
  transport: Transport;
  source: EntrySource;
  /** Deadline of one write to the target, in ms (default `NODE_TIMEOUT_MS_DEFAULT` of `@kv/protocol`). */
  timeoutMs?: number;
  /** Writes to the target in flight at most (default {@link REFILL_WRITES_IN_FLIGHT_MAX_DEFAULT}). */
  inFlightMax?: number;
  /** Attempts of one write before the refill gives up (default 3). */
  attemptsMax?: number;
}

/** Writes in flight during a refill: enough to fill batches of the batching transport, bounded in memory. */
export const REFILL_WRITES_IN_FLIGHT_MAX_DEFAULT = 512;

/** What a refill did. */
export interface RefillReport {
  /** Entries listed by the peers. */
  scanned: number;
  /** Entries sent to the target (those of keys it is a replica of). */
  copied: number;
}

/**
 * Refills a replica that lost its data (a node restarted on an empty disk): streams every entry of its peers and
 * writes to it, as versioned writes, those of the keys it is a replica of. Writes of newer versions that reach the
 * target meanwhile win, since it applies only newer versions, so the refill may run while the cluster serves.
 *
 * Once a refill from every peer that counts toward quorums has completed, the target holds every write that was
 * acknowledged before the refill started; writes acknowledged since were sent to it as well. That is what makes it
 * safe to count it toward quorums again.
 */
export class Refiller {
  private readonly options: Required<Omit<RefillerOptions, 'ring' | 'transport' | 'source'>> & RefillerOptions;

  constructor(options: RefillerOptions) {
    this.options = {
      timeoutMs: NODE_TIMEOUT_MS_DEFAULT,
      inFlightMax: REFILL_WRITES_IN_FLIGHT_MAX_DEFAULT,
      attemptsMax: 3,
      ...options,
    };
    for (const name of ['replicas', 'timeoutMs', 'inFlightMax', 'attemptsMax'] as const) {
      const value = this.options[name];
      if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${value}`);
    }
  }

  /**
   * Copies to `target` what `peers` hold of its keys.
   * @throws the first error: a peer that cannot be listed, or a write that failed `attemptsMax` times. The refill is
   *   then incomplete and must be run again.
   */
  async refill(target: string, peers: readonly string[]): Promise<RefillReport> {
    const report: RefillReport = { scanned: 0, copied: 0 };
    for (const peer of peers) {
      if (peer === target) continue;
      await this.copyFrom(peer, target, report);
    }
    return report;
  }

  private async copyFrom(peer: string, target: string, report: RefillReport): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    for await (const [key, version, value, expiresAt] of this.options.source(peer)) {
      if (failure !== undefined) break;
      report.scanned += 1;
      if (!this.options.ring.preferenceList(key, this.options.replicas).includes(target)) continue;
      report.copied += 1;
      const write = this.write(target, expiresAt === undefined ? { key, value, version } : { key, value, version, expiresAt }).then(
        () => {
          inFlight.delete(write);
        },
        (error: unknown) => {
          inFlight.delete(write);
          failure ??= error;
        },
      );
      inFlight.add(write);
      if (inFlight.size >= this.options.inFlightMax) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
  }

  private async write(target: string, request: WriteRequest): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.transport.write(target, request, this.options.timeoutMs);
        return;
      } catch (error) {
        if (attempt >= this.options.attemptsMax) throw error;
      }
    }
  }
}
