import { TestCluster, eventually, keepClusterFiles, request } from '@kv/testkit';
import { NodeClient } from '@kv/protocol';
import { Writers, sleep, stopAllWriters, verifyReads } from './support/writers';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await stopAllWriters();
  await cluster?.stop({ keepFiles: keepClusterFiles() });
  cluster = undefined;
});

interface ClusterBody {
  epoch: number;
  nodes: { id: string; status: string; member: string }[];
  change: null | { id: string; phase: string; add: string[]; remove: string[]; progress: null | { rangesDone: number; rangesTotal: number } };
}

async function clusterOf(url: string): Promise<ClusterBody> {
  const res = await request(url, 'GET', '/cluster');
  expect(res.status).toBe(200);
  return res.body as ClusterBody;
}

/** Waits until the proxy at `url` uses a map without change at `epoch` or later. */
async function settledAt(url: string, epoch: number, timeoutMs = 60_000): Promise<ClusterBody> {
  await eventually(async () => {
    const body = await clusterOf(url);
    return body.epoch >= epoch && body.change === null;
  }, timeoutMs);
  return clusterOf(url);
}

/** Keys a node holds, through its internal API. */
async function keysOn(url: string): Promise<number> {
  const client = new NodeClient({ baseUrl: url });
  try {
    return (await client.health()).keys;
  } finally {
    client.close();
  }
}

test('add a 4th node under writes, remove one of the three and stop it for good, then kill one more: every acknowledged key is readable', async () => {
  const c = (cluster = await TestCluster.start({ proxyEnv: { STREAM_BYTES_PER_S: String(4 * 1024 * 1024) } }));
  const writers = new Writers(c.proxyUrl, 6, 25);
  writers.start();
  await sleep(1500);

  const node4 = await c.addNode('node4');
  const add = { add: [{ id: 'node4', url: c.nodeUrl('node4') }] };
  const plan = await request(c.proxyUrl, 'POST', '/cluster/changes', { ...add, dryRun: true });
  expect(plan.status).toBe(200);
  expect(plan.body).toMatchObject({ dryRun: true, epoch: 2 });
  expect(plan.body.keys).toBeGreaterThan(0);
  expect(plan.body.share).toBeGreaterThan(0.6);
  expect(plan.body.share).toBeLessThan(0.9);
  expect((await clusterOf(c.proxyUrl)).epoch).toBe(1);

  const started = await request(c.proxyUrl, 'POST', '/cluster/changes', add);
  expect(started).toMatchObject({ status: 202, body: { dryRun: false, epoch: 2 } });
  const during = await clusterOf(c.proxyUrl);
  expect(during.change).toMatchObject({ add: ['node4'], remove: [] });
  // A second change while this one runs is refused.
  const second = await request(c.proxyUrl, 'POST', '/cluster/changes', { remove: ['node1'] });
  expect(second).toMatchObject({ status: 409, body: { error: { code: 'KV_CHANGE_IN_PROGRESS' } } });

  const added = await settledAt(c.proxyUrl, 4);
  expect(added.nodes.map((node) => `${node.id}:${node.member}`)).toEqual(['node1:active', 'node2:active', 'node3:active', 'node4:active']);
  expect(await keysOn(node4.url)).toBeGreaterThan(0);
  expect(await verifyReads(c.proxyUrl, writers, async () => '')).toEqual([]);

  const removal = await request(c.proxyUrl, 'POST', '/cluster/changes', { remove: ['node1'] });
  expect(removal).toMatchObject({ status: 202, body: { epoch: 5 } });
  const removed = await settledAt(c.proxyUrl, 7);
  expect(removed.nodes.map((node) => node.id)).toEqual(['node2', 'node3', 'node4']);
  await c.killNode('node1', 'SIGTERM');
  await sleep(1000);
  const afterRemoval = writers.resetCounts();
  expect(afterRemoval.ok).toBeGreaterThan(20);

  await c.killNode('node2');
  await writers.stop();
  expect(writers.acknowledgedKeys().length).toBeGreaterThan(100);
  expect(await verifyReads(c.proxyUrl, writers, async () => '')).toEqual([]);
});

test('refused changes: unknown id, below N members, a node that does not answer, a node that is another', async () => {
  const c = (cluster = await TestCluster.start());
  const refused = async (body: unknown): Promise<string> => {
    const res = await request(c.proxyUrl, 'POST', '/cluster/changes', body);
    return `${res.status} ${res.body?.error?.code}: ${res.body?.error?.message}`;
  };
  expect(await refused({ remove: ['node9'] })).toBe('400 KV_CHANGE_REFUSED: node node9 is not a member');
  expect(await refused({ remove: ['node1'] })).toBe('400 KV_CHANGE_REFUSED: the cluster would have 2 members, fewer than N=3 copies of each key');
  expect(await refused({})).toBe('400 KV_CHANGE_REFUSED: the change adds and removes nothing');
  expect(await refused({ add: [{ id: 'node4', url: 'http://127.0.0.1:1' }] })).toMatch(/^400 KV_CHANGE_REFUSED: node node4 at http:\/\/127\.0\.0\.1:1 does not answer/);
  expect(await refused({ add: [{ id: 'node4', url: c.nodeUrl('node1') }] })).toMatch(/^400 KV_CHANGE_REFUSED: .* is already the URL of member node1/);
  await c.addNode('node4');
  expect(await refused({ add: [{ id: 'node5', url: c.nodeUrl('node4') }] })).toBe(`400 KV_CHANGE_REFUSED: ${c.nodeUrl('node4')} is node node4, not node5`);
  expect(await refused({ add: [{ id: 'node4' }] })).toBe('400 KV_BAD_REQUEST: add[0].url must be an http(s) URL');
  expect(await refused({ add: [{ id: 'node4', url: 'http://admin:secret@127.0.0.1:1' }] })).toBe(
    '400 KV_BAD_REQUEST: add[0].url: credentials in a URL would be shown to every client',
  );
  expect(await refused({ remove: ['node1'], force: true })).toBe('400 KV_BAD_REQUEST: unknown field "force" in the request body (accepted: "add", "remove", "dryRun")');
  expect((await clusterOf(c.proxyUrl)).epoch).toBe(1);
});

test('a proxy started after a change takes the cluster map from the nodes, not from NODES', async () => {
  const c = (cluster = await TestCluster.start());
  await c.addNode('node4');
  const started = await request(c.proxyUrl, 'POST', '/cluster/changes', { add: [{ id: 'node4', url: c.nodeUrl('node4') }] });
  expect(started.status).toBe(202);
  await settledAt(c.proxyUrl, 4);
  await c.restartProxy();
  const after = await clusterOf(c.proxyUrl);
  expect(after.epoch).toBe(4);
  expect(after.nodes.map((node) => node.id)).toEqual(['node1', 'node2', 'node3', 'node4']);
  const put = await request(c.proxyUrl, 'PUT', '/kv/after-restart', { value: 'v' });
  expect(put.status).toBe(200);
});
