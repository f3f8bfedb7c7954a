import { TestCluster, eventually, keepClusterFiles, request } from '@kv/testkit';

/**
 * Requests have a deadline end to end: with two of three data nodes cut off (their connections stall) and a node timeout
 * far longer than the request's, a write is answered `503 KV_QUORUM_FAILED` at `REQUEST_TIMEOUT_MS`, not after the
 * node timeout; once the nodes are back, the proxy serves again.
 */

const REQUEST_TIMEOUT_MS = 1500;
const NODE_TIMEOUT_MS = 120_000;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ proxyEnv: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), NODE_TIMEOUT_MS: String(NODE_TIMEOUT_MS) } });
});

afterAll(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
});

test('a write two cut-off nodes never answer fails at REQUEST_TIMEOUT_MS, not at the node timeout', async () => {
  const cut = cluster.nodes.slice(0, 2);
  for (const node of cut) node.relay.cut();
  try {
    const started = Date.now();
    const answer = await request(cluster.proxyUrl, 'PUT', '/kv/deadline', { value: 'x' }, {}, 60_000);
    const tookMs = Date.now() - started;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ error: { code: 'KV_QUORUM_FAILED' } });
    expect(String((answer.body as { error: { message: string } }).error.message)).toContain(`REQUEST_TIMEOUT_MS=${REQUEST_TIMEOUT_MS} ms`);
    // Bounded by the request's deadline: far below the node timeout it would otherwise wait for.
    expect(tookMs).toBeLessThan(NODE_TIMEOUT_MS / 4);
  } finally {
    for (const node of cut) node.relay.heal();
  }
  // The nodes are back (the proxy may first register with them again): writes succeed again.
  await eventually(async () => (await request(cluster.proxyUrl, 'PUT', '/kv/deadline', { value: 'y' }, {}, 5_000)).status === 200, 30_000);
});
