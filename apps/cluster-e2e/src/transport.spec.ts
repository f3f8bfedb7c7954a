import { NodeClient } from '@kv/protocol';
import { BatchingTransport, HttpBatchSender } from '@kv/quorum';
import { describeTransportCompliance } from '@kv/quorum/testing';
import { TestCluster, keepClusterFiles } from '@kv/testkit';

// The coordinator's real transport (batches over HTTP, through the internal codec) against real data nodes, held to
// the same compliance suite as the in-memory twins that the unit tests use.
describeTransportCompliance('the batching transport over HTTP to data nodes', async () => {
  const cluster = await TestCluster.start({ nodes: 2, proxyEnv: { REPLICAS: '2' } });
  const clients = new Map(
    cluster.nodes.map((node) => [node.id, new NodeClient({ baseUrl: `http://127.0.0.1:${node.relay.port}`, timeoutMs: 1000 })]),
  );
  return {
    transport: new BatchingTransport({ sender: new HttpBatchSender(clients) }),
    nodeIds: cluster.nodes.map((node) => node.id),
    timeoutMs: 1000,
    takeDown: async (nodeId) => cluster.node(nodeId).relay.reset(),
    bringUp: async (nodeId) => cluster.node(nodeId).relay.heal(),
    close: async () => {
      for (const client of clients.values()) client.close();
      await cluster.stop({ keepFiles: keepClusterFiles() });
    },
  };
});
