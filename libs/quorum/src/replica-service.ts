import {
  ErrorCode,
  KvError,
  type InternalOpResult,
  type LiveCoordinator,
  type ParsedInternalOp,
} from '@kv/protocol';
import { CoordinatorRegistry, parseCoordinatorClaim } from './coordinator-registry';
import { applyReplicaOps, type ReplicaStore } from './replica-ops';
import type { Clock } from './time';

/** Default bound on how far ahead of a data node's clock a version may be: far beyond NTP's skew, small enough. */
export const MAX_CLOCK_SKEW_MS_DEFAULT = 60_000;

/** Options of {@link ReplicaService}. */
export interface ReplicaServiceOptions {
  nodeId: string;
  store: ReplicaStore;
  /** The identity of the node's data directory. */
  incarnation: string;
  /** Whether a coordinator has refilled this incarnation (false for a new one: it may lack acknowledged writes). */
  filled: boolean;
  /** Records durably that this incarnation was refilled. */
  recordFilled(incarnation: string): Promise<void>;
  /** The node's wall clock, for bounding versions. */
  wall: Clock;
  /** A monotonic clock, for coordinators' leases. */
  monotonic: Clock;
  /** Versions further ahead of `wall` are refused (default {@link MAX_CLOCK_SKEW_MS_DEFAULT}). */
  maxClockSkewMs?: number;
}

/** What a data node tells a coordinator's probe. */
export interface ReplicaStatus {
  nodeId: string;
  incarnation: string;
  filled: boolean;
  coordinators: LiveCoordinator[];
  maxClockSkewMs: number;
}

/**
 * A data node's logic apart from any server, shared by the data node app and the in-memory cluster of the tests: the
 * registry of coordinators and their leases, the bound on versions from the future, whether this incarnation was
 * refilled, and the application of internal batches (`applyReplicaOps`).
 */
export class ReplicaService {
  readonly registry: CoordinatorRegistry;
  private filledNow: boolean;
  readonly maxClockSkewMs: number;

  constructor(private readonly options: ReplicaServiceOptions) {
    this.registry = new CoordinatorRegistry(options.monotonic);
    this.filledNow = options.filled;
    this.maxClockSkewMs = options.maxClockSkewMs ?? MAX_CLOCK_SKEW_MS_DEFAULT;
    if (!Number.isInteger(this.maxClockSkewMs) || this.maxClockSkewMs < 1) {
      throw new TypeError(`maxClockSkewMs must be a positive integer, got ${this.maxClockSkewMs}`);
    }
  }

  get incarnation(): string {
    return this.options.incarnation;
  }

  get filled(): boolean {
    return this.filledNow;
  }

  /**
   * Admits a request by the coordinator named in its `x-kv-coordinator` header (none: a tool, not a coordinator, is
   * admitted). A registration is admitted unless another incarnation of the clock id is live.
   * @throws KvError `KV_BAD_REQUEST` for a malformed header, `KV_DUPLICATE_COORDINATOR`, `KV_COORDINATOR_LAPSED`.
   */
  admit(header: string | string[] | undefined, register = false): void {
    let claim;
    try {
      claim = parseCoordinatorClaim(header);
    } catch (error) {
      throw new KvError(ErrorCode.BadRequest, (error as Error).message);
    }
    if (claim === undefined) return;
    const admission = this.registry.admit(claim, register);
    if (admission === 'duplicate') {
      throw new KvError(
        ErrorCode.DuplicateCoordinator,
        `another running coordinator uses the clock id ${claim.clockId} (another incarnation of it is live on node ${this.options.nodeId})`,
      );
    }
    if (admission === 'lapsed') {
      throw new KvError(
        ErrorCode.CoordinatorLapsed,
        `coordinator ${claim.clockId} is not registered on node ${this.options.nodeId}, or its lease lapsed: register again`,
      );
    }
  }

  /** Applies one decoded internal batch (see `applyReplicaOps`), refusing versions too far in the future. */
  apply(ops: readonly ParsedInternalOp[]): Promise<InternalOpResult[]> {
    return applyReplicaOps(this.options.store, ops, { versionMsMax: this.options.wall.now() + this.maxClockSkewMs });
  }

  /** What a coordinator's probe learns. */
  status(): ReplicaStatus {
    return {
      nodeId: this.options.nodeId,
      incarnation: this.options.incarnation,
      filled: this.filledNow,
      coordinators: this.registry.live(),
      maxClockSkewMs: this.maxClockSkewMs,
    };
  }

  /**
   * Records that a coordinator refilled `incarnation` (durably first): the node counts toward quorums again.
   * @throws KvError `KV_NODE_CHANGED` when it is not this node's incarnation.
   */
  async markFilled(incarnation: string): Promise<void> {
    if (incarnation !== this.options.incarnation) {
      throw new KvError(ErrorCode.NodeChanged, `node ${this.options.nodeId} is incarnation ${this.options.incarnation}, not ${incarnation}`);
    }
    if (this.filledNow) return;
    await this.options.recordFilled(incarnation);
    this.filledNow = true;
  }
}
