import { TestCluster, entryPoint, keepClusterFiles, request } from '@kv/testkit';
import { runProgram } from './support/run-program';

const TOKEN = 'cli-cluster-token';
const CLUSTER_TOKEN = 'cli-cluster-internal-token';
const KEYS = 200;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`dist/apps/client/main.js`) against the cluster's proxy, with the token from `KV_TOKEN`. */
function kv(...args: string[]): Promise<Run> {
  return runProgram(process.execPath, [entryPoint('client'), '--server', cluster.proxyUrl, ...args], { KV_SERVER: '', KV_TOKEN: TOKEN });
}

interface ClusterBody {
  epoch: number;
  change: unknown;
  nodes: { id: string; member: string }[];
}

async function status(): Promise<ClusterBody> {
  const run = await kv('--json', 'cluster', 'status');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as ClusterBody;
}

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodeEnv: { CLUSTER_TOKEN }, proxyEnv: { AUTH_TOKEN: TOKEN, CLUSTER_TOKEN } });
  const headers = { authorization: `Bearer ${TOKEN}` };
  const ops = Array.from({ length: KEYS }, (_, i) => ({ op: 'set', key: `cli-cluster:${i}`, value: `value ${i}` }));
  expect((await request(cluster.proxyUrl, 'POST', '/batch', { ops }, headers)).status).toBe(200);
});

afterAll(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
});

// One cluster through the whole file: each test starts from where the one before left it.
describe('kv cluster against a running cluster', () => {
  test('add --dry-run of a 4th node prints the plan and changes nothing', async () => {
    await cluster.addNode('node4');
    const run = await kv('cluster', 'add', `node4=${cluster.nodeUrl('node4')}`, '--dry-run');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('dry run: add node4 (nothing was changed)');
    expect(run.stdout).toContain('epoch    the change would start at epoch 2\n');
    expect(run.stdout).toContain('node1 active, node2 active, node3 active, node4 joining');
    expect(run.stdout).toMatch(/\nfrom\s+to\s+ranges\s+keys\s+bytes\n/);
    // Every moving range goes to node4, from three of the old members.
    expect(run.stdout).toMatch(/\nnode1,node2,node3\s+node4\s+\d+\s+\d+\s+[\d.]+ (B|KiB)\n/);
    const total = /\ntotal\s+(\d+)\s+(\d+)\s+/.exec(run.stdout);
    expect(Number(total?.[1])).toBeGreaterThan(0);
    expect(Number(total?.[2])).toBeGreaterThan(0);
    expect(await status()).toMatchObject({ epoch: 1, change: null });
  });

  test('add --wait follows the change to its end; status then shows 4 members at a higher epoch', async () => {
    const run = await kv('cluster', 'add', `node4=${cluster.nodeUrl('node4')}`, '--wait', '--poll-interval', '100', '--wait-timeout', '30');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^change (c2-[0-9a-f]{8}) started at epoch 2: add node4\nchange \1 done: 4 members at epoch 4: node1, node2, node3, node4\n$/);
    // Not a terminal: plain progress lines, the last one at 100 %.
    expect(run.stderr).toMatch(/kv cluster add: 100% \| done at epoch 4\n$/);
    const after = await status();
    expect(after.epoch).toBe(4);
    expect(after.change).toBeNull();
    expect(after.nodes.map((node) => `${node.id}:${node.member}`)).toEqual(['node1:active', 'node2:active', 'node3:active', 'node4:active']);
    // Node URLs are shown to the cluster token only (the proxy has AUTH_TOKEN).
    const table = await kv('--token', CLUSTER_TOKEN, 'cluster', 'status');
    expect(table.stdout).toContain('epoch   4\n');
    expect(table.stdout).toContain('change  none\n');
    expect(table.stdout).toMatch(/\nnode4\s+http:\/\/127\.0\.0\.1:\d+\s+active\s+up\s+ready\n/);
    expect((await kv('cluster', 'status')).stdout).toMatch(/\nnode4\s+\(hidden\)\s+active\s+up\s+ready\n/);
  });

  test('remove --wait of one original node completes, and every key is still readable', async () => {
    const run = await kv('--json', 'cluster', 'remove', 'node1', '--wait', '--poll-interval', '100', '--wait-timeout', '30');
    expect(run.code).toBe(0);
    const [started, done] = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(started).toMatchObject({ dryRun: false, epoch: 5 });
    expect(done).toMatchObject({ epoch: 7, change: null });
    expect(done.nodes.map((node: { id: string }) => node.id)).toEqual(['node2', 'node3', 'node4']);
    const headers = { authorization: `Bearer ${TOKEN}` };
    const ops = Array.from({ length: KEYS }, (_, i) => ({ op: 'get', key: `cli-cluster:${i}` }));
    const read = await request(cluster.proxyUrl, 'POST', '/batch', { ops }, headers);
    expect(read.body.results.filter((result: { value?: string }, i: number) => result.value !== `value ${i}`)).toEqual([]);
  });

  test('refused changes exit 3 with the code: below N members, an unknown id; a missing token', async () => {
    const belowN = await kv('cluster', 'remove', 'node2');
    expect(belowN).toEqual({
      code: 3,
      stdout: '',
      stderr: `kv: ${cluster.proxyUrl}: KV_CHANGE_REFUSED: the cluster would have 2 members, fewer than N=3 copies of each key\n`,
    });
    const unknown = await kv('--json', 'cluster', 'remove', 'node9', '--wait');
    expect(unknown.code).toBe(3);
    expect(JSON.parse(unknown.stdout)).toEqual({ error: { code: 'KV_CHANGE_REFUSED', message: 'node node9 is not a member' } });
    expect(unknown.stderr).toBe(`kv: ${cluster.proxyUrl}: KV_CHANGE_REFUSED: node node9 is not a member\n`);
    const unauthorized = await kv('--token', 'wrong', 'cluster', 'remove', 'node2', '--dry-run');
    expect(unauthorized.code).toBe(3);
    expect(unauthorized.stderr).toContain('KV_UNAUTHORIZED');
    expect(await status()).toMatchObject({ epoch: 7, change: null });
  });
});
