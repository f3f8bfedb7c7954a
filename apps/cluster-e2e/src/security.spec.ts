import { spawn } from 'node:child_process';
import { NodeClient } from '@kv/protocol';
import { SAMPLE_CLUSTER_TOKEN } from '@kv/service';
import { TestCluster, entryPoint, eventually, freePort, keepClusterFiles, request } from '@kv/testkit';
import { Writers, stopAllWriters, verifyReads } from './support/writers';

// Safe defaults of the servers' tokens: a token that cannot work stops a server at start, the published sample token is
// warned about, and the cluster token is rotated under load without losing a write or failing a request.

let cluster: TestCluster | undefined;
afterEach(async () => {
  await stopAllWriters();
  await cluster?.stop({ keepFiles: keepClusterFiles() });
  cluster = undefined;
});

/** Runs a server process to its exit (it must exit on its own), with what it wrote on stderr. */
function runToExit(app: 'proxy' | 'datanode', env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entryPoint(app)], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${app} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test.each([
  ['datanode', { CLUSTER_TOKEN: '' }, 'datanode: CLUSTER_TOKEN is set but empty: unset it to run without it, or give it a value'],
  ['datanode', { CLUSTER_TOKEN: 'two words' }, 'datanode: CLUSTER_TOKEN=<hidden> is not usable in an Authorization header: the token has a space'],
  ['proxy', { AUTH_TOKEN: '' }, 'proxy: AUTH_TOKEN is set but empty: unset it to run without it, or give it a value'],
  ['proxy', { CLUSTER_TOKEN: 'new,has space' }, 'proxy: CLUSTER_TOKEN=<hidden> is not usable in an Authorization header: token 2 of the list has a space'],
] as const)('%s with %j exits with code 2 and one line: %s', async (app, env, message) => {
  const { code, stderr } = await runToExit(app, {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    NODES: 'node1=http://127.0.0.1:1',
    DATA_DIR: '/nonexistent/kv-never-created',
    ...env,
  });
  expect(code).toBe(2);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr.startsWith(message)).toBe(true);
  expect(stderr).not.toContain('two words');
});

test('the published sample token works, and both servers warn once that it is the public sample', async () => {
  const c = (cluster = await TestCluster.start({ nodes: 1, nodeEnv: { CLUSTER_TOKEN: SAMPLE_CLUSTER_TOKEN }, proxyEnv: { CLUSTER_TOKEN: SAMPLE_CLUSTER_TOKEN, REPLICAS: '1', WRITE_QUORUM: '1', READ_QUORUM: '1' } }));
  expect(await request(c.proxyUrl, 'PUT', '/kv/sample', { value: 'v' })).toMatchObject({ status: 200 });
  for (const name of ['node1', 'proxy']) {
    const warnings = c.tail(name, 1000).split('\n').filter((line) => line.includes('published sample token of docker/kv.env'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0])).toMatchObject({ level: 'warn' });
  }
});

/** Polls a proxy's `GET /cluster` until it sees `nodeId` up and counted toward quorums. */
async function waitForNodeUp(proxyUrl: string, nodeId: string): Promise<void> {
  await eventually(async () => {
    const res = await request(proxyUrl, 'GET', '/cluster', undefined, {}, 1000).catch(() => undefined);
    const node = (res?.body?.nodes as { id: string; status: string; state?: string }[] | undefined)?.find((n) => n.id === nodeId);
    return node?.status === 'up' && node.state !== 'refilling';
  }, 20_000, 50);
}

/** Deadline of the rotation test. */
const ROTATION_DEADLINE_MS = 90_000;

const OLD = 'old-cluster-token';
const NEW = 'new-cluster-token';

test('the cluster token is rotated under load, one process at a time: no acknowledged write lost, no request failed', async () => {
  const c = (cluster = await TestCluster.start({
    proxies: 2,
    nodeEnv: { CLUSTER_TOKEN: OLD },
    // A generous deadline of requests to the data nodes, so that a busy test machine does not make them fail.
    proxyEnv: { CLUSTER_TOKEN: OLD, NODE_TIMEOUT_MS: '3000' },
  }));
  const writers = new Writers(c.proxyAt(0).url, 2, 25, 'rotate');
  writers.start();
  // docs/operations.md#rotating-a-token: the new token second everywhere, then first, then alone; one process at a time.
  for (const tokens of [`${OLD},${NEW}`, `${NEW},${OLD}`, NEW]) {
    const before = writers.counts.ok;
    for (const node of c.nodes) {
      // A crash and restart: the writes it was sent fail on it, and reach W on the other two.
      node.process.env.CLUSTER_TOKEN = tokens;
      await c.restartNode(node.id);
      for (const proxy of c.proxies) await waitForNodeUp(proxy.url, node.id);
    }
    for (let i = 0; i < c.proxies.length; i++) {
      // The load moves to the other proxy before this one stops, as a client of both proxies would.
      await writers.retarget(c.proxyAt(1 - i).url);
      await c.restartProxy({ CLUSTER_TOKEN: tokens }, false, {}, i);
    }
    expect(writers.counts.ok).toBeGreaterThan(before);
  }
  await writers.stop();
  expect(writers.counts).toEqual({ ok: expect.any(Number), quorumFailed: 0, otherErrors: 0 });
  expect(await verifyReads(c.proxyAt(0).url, writers)).toEqual([]);
  expect(await verifyReads(c.proxyAt(1).url, writers)).toEqual([]);

  // The old token is refused now, the new one accepted.
  const old = new NodeClient({ baseUrl: c.node(0).url, token: OLD });
  const current = new NodeClient({ baseUrl: c.node(0).url, token: NEW });
  try {
    await expect(old.batch([['g', 'rotate-0-0']])).rejects.toMatchObject({ code: 'KV_UNAUTHORIZED' });
    await expect(current.batch([['g', 'never-written']])).resolves.toEqual([null]);
  } finally {
    old.close();
    current.close();
  }
  // Fifteen restarts, each waited for: about 45 s on two busy cores; the deadline leaves room for busier ones.
}, ROTATION_DEADLINE_MS);
