import { BatchingTransport } from './batching-transport';
import { InMemoryCluster } from './in-memory/in-memory-cluster';
import { describeTransportCompliance, type TransportFixture } from './testing/transport-compliance';

function inMemory(batching: boolean): () => Promise<TransportFixture> {
  return async () => {
    const nodeIds = ['n1', 'n2', 'n3'];
    const cluster = new InMemoryCluster(nodeIds);
    return {
      transport: batching ? new BatchingTransport({ sender: cluster.batchSender() }) : cluster.transport(),
      nodeIds,
      timeoutMs: 100,
      takeDown: async (nodeId) => cluster.setFault(nodeId, { down: true }),
      bringUp: async (nodeId) => cluster.setFault(nodeId, undefined),
      close: async () => undefined,
    };
  };
}

describeTransportCompliance('the in-memory cluster', inMemory(false));
describeTransportCompliance('the batching transport over the in-memory cluster', inMemory(true));
