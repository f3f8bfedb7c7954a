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
   * @param onNodeChanged called when a node refuses a batch as another incarnation (its disk was replaced), so that
   *   the proxy probes it at once instead of at the next interval.
   */
  constructor(
    private readonly clients: ReadonlyMap<string, NodeClient>,
    private readonly observe?: BatchObserver,
    private readonly onNodeChanged?: (nodeId: string) => void,
  ) {}

  send(nodeId: string, batch: OutgoingBatch, timeoutMs: number): Promise<InternalOpResult[]> {
    const client = this.clients.get(nodeId);
    if (client === undefined) return Promise.reject(new TypeError(`no client for node ${nodeId}`));
    this.observe?.(nodeId, batch.ops.length);
    const sent = client.batchSerialized(batch.bytes(), batch.ops.length, { timeoutMs, requestId: batch.requestId });
    if (this.onNodeChanged === undefined) return sent;
    return sent.catch((error: unknown) => {
      if (isKvError(error, ErrorCode.NodeChanged)) this.onNodeChanged?.(nodeId);
      throw error;
    });
  }
}
