import { TestCluster, eventually, keepClusterFiles, request } from '@kv/testkit';
import { NodeClient, encodeKey } from '@kv/protocol';
import { Writers, sleep, stopAllWriters, verifyReads } from './support/writers';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await stopAllWriters();
  await cluster?.stop({ keepFiles: keepClusterFiles() });
  cluster = undefined;
});

/** Every replica's entry of `key`, read through the internal API, for failure messages. */
function replicasOf(c: TestCluster, token?: string): (key: string) => Promise<string> {
  return async (key) => {
    const parts: string[] = [];
    for (const node of c.nodes) {
      const client = new NodeClient({ baseUrl: node.url, token });
      try {
        const entry = await client.get(key);
        parts.push(`${node.id}=${entry === undefined ? 'none' : `${entry.value}@${entry.version}`}`);
      } catch (error) {
        parts.push(`${node.id}=error(${(error as Error).message})`);
      } finally {
        client.close();
      }
    }
    return parts.join(' ');
  };
}

async function nodeStatus(c: TestCluster): Promise<Record<string, string>> {
  const res = await request(c.proxyUrl, 'GET', '/cluster');
  return Object.fromEntries(res.body.nodes.map((n: { id: string; status: string }) => [n.id, n.status]));
}

test('kill -9 of one node during writes: writes and reads go on; of two: 503; after restart nothing acknowledged is lost', async () => {
  const c = (cluster = await TestCluster.start());
  const writers = new Writers(c.proxyUrl, 6, 25);
  writers.start();
  await sleep(1000);

  await c.killNode('node1');
  writers.resetCounts();
  await eventually(async () => (await nodeStatus(c)).node1 === 'down', 5000);
  await sleep(1000);
  const oneDown = writers.resetCounts();
  expect(oneDown.ok).toBeGreaterThan(50);
  expect(oneDown.quorumFailed + oneDown.otherErrors).toBe(0);
  expect(await verifyReads(c.proxyUrl, writers, replicasOf(c))).toEqual([]);

  await c.killNode('node2');
  await sleep(1500);
  writers.resetCounts();
  await sleep(500);
  const twoDown = writers.resetCounts();
  expect(twoDown.ok).toBe(0);
  expect(twoDown.quorumFailed).toBeGreaterThan(0);
  const write = await request(c.proxyUrl, 'PUT', '/kv/two-down', { value: 'v' });
  expect(write).toMatchObject({ status: 503, body: { error: { code: 'KV_QUORUM_FAILED' }, acks: 1, required: 2 } });
  const read = await request(c.proxyUrl, 'GET', `/kv/${encodeKey(writers.acknowledgedKeys()[0])}`);
  expect(read).toMatchObject({ status: 503, body: { error: { code: 'KV_QUORUM_FAILED' } } });
  expect(await nodeStatus(c)).toEqual({ node1: 'down', node2: 'down', node3: 'up' });

  await writers.stop();
  await c.restartNode('node1');
  await c.restartNode('node2');
  await eventually(async () => Object.values(await nodeStatus(c)).every((s) => s === 'up'), 5000);
  expect(writers.acknowledgedKeys().length).toBeGreaterThan(100);
  expect(await verifyReads(c.proxyUrl, writers, replicasOf(c))).toEqual([]);
});

test('kill -9 of all three nodes during writes: after restart nothing acknowledged is lost', async () => {
  const c = (cluster = await TestCluster.start());
  const writers = new Writers(c.proxyUrl, 8, 20);
  writers.start();
  await sleep(1500);
  await Promise.all(c.nodes.map((node) => c.killNode(node.id)));
  await writers.stop();
  await Promise.all(c.nodes.map((node) => c.restartNode(node.id)));
  await eventually(async () => Object.values(await nodeStatus(c)).every((s) => s === 'up'), 5000);
  expect(writers.acknowledgedKeys().length).toBeGreaterThan(100);
  expect(await verifyReads(c.proxyUrl, writers, replicasOf(c))).toEqual([]);
});

test('a node that was down during writes receives them from hints, without any read', async () => {
  const c = (cluster = await TestCluster.start({ nodeEnv: { CLUSTER_TOKEN: 't' }, proxyEnv: { CLUSTER_TOKEN: 't' } }));
  await c.killNode('node3');
  await eventually(async () => (await nodeStatus(c)).node3 === 'down', 5000);
  const written = new Map<string, string>();
  for (let i = 0; i < 60; i++) {
    const key = `hinted-${i}`;
    const res = await request(c.proxyUrl, 'PUT', `/kv/${key}`, { value: `v${i}` });
    if (res.status !== 200) throw new Error(`PUT ${key}: ${res.status} ${JSON.stringify(res.body)}`);
    written.set(key, res.body.version);
  }
  const metrics = await request(c.proxyUrl, 'GET', '/metrics');
  expect(metrics.body).toMatch(/kv_hints_pending\{service="proxy"\} 60/);

  await c.restartNode('node3');
  const node3 = new NodeClient({ baseUrl: c.node('node3').url, token: 't' });
  try {
    const started = Date.now();
    await eventually(async () => {
      const results = await node3.batch([...written.keys()].map((key) => ['g', key] as ['g', string]));
      return results.every((result, i) => Array.isArray(result) && result[0] === [...written.values()][i]);
    }, 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
  } finally {
    node3.close();
  }
  await eventually(async () => /kv_hints_pending\{service="proxy"\} 0/.test((await request(c.proxyUrl, 'GET', '/metrics')).body), 5000);
});

test('a proxy restarted with its clock stepped back still makes later writes win', async () => {
  const c = (cluster = await TestCluster.start());
  const first = await request(c.proxyUrl, 'PUT', '/kv/clock', { value: 'before' });
  expect(first.status).toBe(200);

  await c.restartProxy({ TEST_CLOCK_OFFSET_MS: String(-3_600_000) });
  const second = await request(c.proxyUrl, 'PUT', '/kv/clock', { value: 'after graceful restart' });
  expect(second.body.version > first.body.version).toBe(true);
  expect((await request(c.proxyUrl, 'GET', '/kv/clock')).body.value).toBe('after graceful restart');

  await c.restartProxy({ TEST_CLOCK_OFFSET_MS: String(-7_200_000) }, true);
  const third = await request(c.proxyUrl, 'PUT', '/kv/clock', { value: 'after kill -9' });
  expect(third.body.version > second.body.version).toBe(true);
  expect((await request(c.proxyUrl, 'GET', '/kv/clock')).body.value).toBe('after kill -9');
});

test('a node restarted on an empty data directory is refilled before it counts again, and nothing acknowledged is lost', async () => {
  const c = (cluster = await TestCluster.start());
  const keys = Array.from({ length: 300 }, (_, i) => `disk-${i}`);
  for (const key of keys) expect((await request(c.proxyUrl, 'PUT', `/kv/${key}`, { value: `v-${key}` })).status).toBe(200);

  const refills = async (): Promise<number> => {
    const match = /kv_refills_total\{service="proxy"\} (\d+)/.exec((await request(c.proxyUrl, 'GET', '/metrics')).body);
    return match === null ? 0 : Number(match[1]);
  };
  const stateOf = async (id: string): Promise<string> =>
    (await request(c.proxyUrl, 'GET', '/cluster')).body.nodes.find((n: { id: string }) => n.id === id).state;
  // Lose node2's disk, then node3's once node2 is refilled: every write then has lived on two wiped nodes. (A new
  // cluster's nodes are filled once at the start: count from there.)
  let done = await refills();
  const initial = done;
  for (const lost of ['node2', 'node3']) {
    await c.wipeNode(lost);
    done += 1;
    await eventually(async () => (await refills()) === done, 15_000);
    expect(await stateOf(lost)).toBe('ready');
    const client = new NodeClient({ baseUrl: c.node(lost).url });
    try {
      const results = await client.batch(keys.map((key) => ['g', key] as ['g', string]));
      expect(results.filter((result) => Array.isArray(result) && result[1] !== null)).toHaveLength(keys.length);
    } finally {
      client.close();
    }
  }
  const metrics = await request(c.proxyUrl, 'GET', '/metrics');
  expect(metrics.body).toMatch(new RegExp(`kv_refills_total\\{service="proxy"\\} ${initial + 2}`));
  for (const key of keys) {
    expect((await request(c.proxyUrl, 'GET', `/kv/${key}`)).body).toMatchObject({ value: `v-${key}` });
  }
});
