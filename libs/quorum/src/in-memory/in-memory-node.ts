import { decodeInternalBatch, encodeInternalResults } from '@kv/protocol';
import type { StreamProgress } from '@kv/protocol';
import { EMPTY_ACCEPTOR_STATE, type AcceptorState } from '../map-acceptor';
import { ReplicaService, type ReplicaStatus } from '../replica-service';
import type { Clock } from '../time';
import type { ReplicaEntry, WriteReply, WriteRequest } from '../transport';
import { MemoryReplicaStore } from './memory-replica-store';

/** Values of any size are accepted by the in-memory nodes: the limits are the servers' business. */
const VALUE_BYTES_MAX = 2 ** 30;

/**
 * A data node in memory. It serves internal batches as a data node does: the body is decoded by the internal codec,
 * admitted and applied by the same `ReplicaService` (coordinator leases, the bound on future versions, the apply
 * rule), and the answer encoded again; so tests on the in-memory cluster exercise the wire format and the node's
 * logic, not a copy of them.
 */
export class InMemoryNode {
  readonly store = new MemoryReplicaStore();
  private generation = 1;
  private serviceNow: ReplicaService;

  constructor(
    readonly id: string,
    private readonly clock: Clock,
    private readonly maxClockSkewMs?: number,
  ) {
    this.serviceNow = this.newService(true);
  }

  /** The node's logic (registry, filled, apply). */
  get service(): ReplicaService {
    return this.serviceNow;
  }

  /** The identity of the node's data: a new one after each {@link InMemoryNode.wipe}, as a real node's directory. */
  get incarnation(): string {
    return this.serviceNow.incarnation;
  }

  /** Writes applied since creation (ignored ones are not counted). */
  get applied(): number {
    return this.store.applied;
  }

  /**
   * Serves one `POST /internal/batch` body from a coordinator presenting `claim` at map `epoch`; resolves with the
   * encoded answer.
   */
  async serveBatch(body: Uint8Array, claim?: string, epoch?: number): Promise<Buffer> {
    this.serviceNow.admit(claim);
    this.serviceNow.admitEpoch(epoch === undefined ? undefined : String(epoch));
    const ops = decodeInternalBatch(body, { valueBytesMax: VALUE_BYTES_MAX, bodyBytesMax: VALUE_BYTES_MAX });
    return encodeInternalResults(await this.serviceNow.apply(ops));
  }

  /** `GET /internal/status`. */
  status(claim?: string): ReplicaStatus {
    this.serviceNow.admit(claim);
    return this.serviceNow.status();
  }

  /** `POST /internal/coordinators`: registers a coordinator; answers the live coordinators. */
  register(claim: string): ReplicaStatus {
    this.serviceNow.admit(claim, true);
    return this.serviceNow.status();
  }

  /** Applies one write directly (for test set-up: a replica made stale or ahead on purpose). */
  apply(request: WriteRequest): WriteReply {
    const reply = this.store.applyOne(request.key, request.value, request.version, request.expiresAt);
    // As on a data node, where every write goes through the service: its index and digests follow the store.
    this.serviceNow.index.record(request.key, this.store.getEntry(request.key)?.version);
    return reply;
  }

  get(key: string): ReplicaEntry | undefined {
    return this.store.getEntry(key);
  }

  /** Every entry, tombstones included. */
  dump(): Map<string, ReplicaEntry> {
    return this.store.dump();
  }

  /**
   * Forgets everything, as a node restarted on an empty disk would: a new incarnation, not filled, no cluster map, and
   * an empty registry of coordinators (a restarted process).
   */
  wipe(): void {
    this.store.clear();
    this.generation += 1;
    this.mapState = EMPTY_ACCEPTOR_STATE;
    this.streamProgress = null;
    this.serviceNow = this.newService(false);
  }

  /** A restart with its data kept: the registry of coordinators is empty again. */
  restart(): void {
    this.serviceNow = this.newService(this.serviceNow.filled);
  }

  private mapState: AcceptorState = EMPTY_ACCEPTOR_STATE;
  private streamProgress: StreamProgress | null = null;

  private newService(filled: boolean): ReplicaService {
    return new ReplicaService({
      nodeId: this.id,
      store: this.store,
      keys: this.store.dump().keys(),
      mapState: this.mapState,
      persistMap: async (state) => {
        this.mapState = state;
      },
      streamProgress: this.streamProgress,
      persistStream: async (progress) => {
        this.streamProgress = progress;
      },
      incarnation: `${this.id.replace(/[^0-9a-f]/g, '').padEnd(8, '0')}${this.generation.toString(16).padStart(8, '0')}`,
      filled,
      recordFilled: async () => undefined,
      wall: this.clock,
      monotonic: this.clock,
      maxClockSkewMs: this.maxClockSkewMs,
    });
  }
}
