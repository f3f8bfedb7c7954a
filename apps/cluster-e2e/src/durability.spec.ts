import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { TestCluster, entryPoint, keepClusterFiles, request } from '@kv/testkit';

/**
 * Weaker durability is never invisible: a data node running `WAL_SYNC=interval` reports it in `/health`, the proxy
 * shows it in `/cluster` and logs a warning naming the node, and `kv status` prints it.
 */

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start();
});

afterAll(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
});

interface ClusterNodeBody {
  id: string;
  walSync?: string;
}

async function syncModes(): Promise<Record<string, string | undefined>> {
  const res = await request(cluster.proxyUrl, 'GET', '/cluster');
  const nodes = (res.body as { nodes: ClusterNodeBody[] }).nodes;
  return Object.fromEntries(nodes.map((node) => [node.id, node.walSync]));
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function kvStatus(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entryPoint('client'), '--server', cluster.proxyUrl, 'status'], {
      env: { ...process.env, KV_SERVER: '', KV_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => resolve(stdout));
  });
}

test('every node reports WAL_SYNC=always by default, and the proxy says so in /cluster without a warning', async () => {
  const health = await request(cluster.nodes[0].url, 'GET', '/health');
  expect(health.body).toMatchObject({ walSync: 'always' });
  expect(await until(syncModes, (modes) => Object.values(modes).every((mode) => mode === 'always'))).toEqual({
    node1: 'always',
    node2: 'always',
    node3: 'always',
  });
  expect(readFileSync(cluster.proxy.logFile, 'utf8')).not.toContain('WAL_SYNC=');
});

test('a node restarted with WAL_SYNC=interval shows in /cluster and kv status, and the proxy warns once naming it', async () => {
  const node = cluster.nodes[1];
  node.process.env.WAL_SYNC = 'interval';
  await cluster.restartNode(node.id);
  expect(await until(syncModes, (modes) => modes[node.id] === 'interval')).toMatchObject({ [node.id]: 'interval', node1: 'always' });
  const log = readFileSync(cluster.proxy.logFile, 'utf8');
  const warnings = log.split('\n').filter((line) => line.includes(`data node ${node.id} runs WAL_SYNC=interval`));
  expect(warnings).toHaveLength(1);
  const status = await kvStatus();
  expect(status).toContain(`durability  ${node.id} (WAL_SYNC=interval) acknowledges writes before they are on disk`);
  expect(status).toMatch(new RegExp(`${node.id} +\\S+ +up +interval`));
});
