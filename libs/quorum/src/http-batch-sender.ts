import { ErrorCode, isKvError, type InternalOpResult, type NodeClient } from '@kv/protocol';
import type { BatchSender, OutgoingBatch } from './batching-transport';

/** Observes the batches sent to data nodes (metrics). */
export type BatchObserver = (nodeId: string, ops: number) => void;

/**
 * Sends the batching transport's batches to data nodes over HTTP (`POST /internal/batch`), with one `NodeClient` of
 * `@kv/protocol` (keep-alive agent, bounded sockets) per node. A batch shared by several nodes is encoded once.
 */
export class HttpBatchSender implements BatchSender {
  /**
   * @param onRefused called when a node refuses a batch as a whole (another incarnation: its disk was replaced; this
   *   coordinator's lease lapsed there), so that the coordinator probes it or registers again at once.
   */
  constructor(
    private readonly clients: ReadonlyMap<string, NodeClient>,
    private readonly observe?: BatchObserver,
    private readonly onRefused?: (nodeId: string, error: unknown) => void,
  ) {}

  send(nodeId: string, batch: OutgoingBatch, timeoutMs: number): Promise<InternalOpResult[]> {
    const client = this.clients.get(nodeId);
    if (client === undefined) return Promise.reject(new TypeError(`no client for node ${nodeId}`));
    this.observe?.(nodeId, batch.ops.length);
    const sent = client.batchSerialized(batch.bytes(), batch.ops.length, { timeoutMs, requestId: batch.requestId });
    if (this.onRefused === undefined) return sent;
    return sent.catch((error: unknown) => {
      if (isKvError(error, ErrorCode.NodeChanged) || isKvError(error, ErrorCode.CoordinatorLapsed)) this.onRefused?.(nodeId, error);
      throw error;
    });
  }
}
