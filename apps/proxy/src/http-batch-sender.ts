import type { InternalOpResult, NodeClient } from '@kv/protocol';
import type { BatchSender, OutgoingBatch } from '@kv/quorum';

/** Observes the batches sent to data nodes (metrics). */
export type BatchObserver = (nodeId: string, ops: number) => void;

/**
 * Sends the batching transport's batches to data nodes over HTTP (`POST /internal/batch`), with one {@link NodeClient}
 * (keep-alive agent, bounded sockets) per node. A batch shared by several nodes is serialized once.
 */
export class HttpBatchSender implements BatchSender {
  constructor(
    private readonly clients: ReadonlyMap<string, NodeClient>,
    private readonly observe?: BatchObserver,
  ) {}

  send(nodeId: string, batch: OutgoingBatch, timeoutMs: number): Promise<InternalOpResult[]> {
    const client = this.clients.get(nodeId);
    if (client === undefined) return Promise.reject(new TypeError(`no client for node ${nodeId}`));
    this.observe?.(nodeId, batch.ops.length);
    return client.batchSerialized(batch.body(), batch.ops.length, { timeoutMs, requestId: batch.requestId });
  }
}
