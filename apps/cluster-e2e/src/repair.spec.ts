import { rmSync } from 'node:fs';
import path from 'node:path';
import { NodeClient, encodeKey } from '@kv/protocol';
import { TestCluster, eventually, keepClusterFiles, repoRoot, request } from '@kv/testkit';
import { runProgram } from './support/run-program';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
  cluster = undefined;
});

/** Runs `bin/kv` with arguments. */
function kv(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProgram(path.join(repoRoot(), 'bin', 'kv'), args, { KV_SERVER: '', KV_TOKEN: '' });
}

async function nodeStatus(c: TestCluster): Promise<Record<string, string>> {
  const res = await request(c.proxyUrl, 'GET', '/cluster');
  return Object.fromEntries(res.body.nodes.map((n: { id: string; status: string }) => [n.id, n.status]));
}

test('a replica that missed writes whose hints were lost is brought up to date by kv repair, as its own copy shows', async () => {
  const c = (cluster = await TestCluster.start({
    nodeEnv: { CLUSTER_TOKEN: 't' },
    proxyEnv: { CLUSTER_TOKEN: 't', ANTI_ENTROPY_INTERVAL_MS: '0', ANTI_ENTROPY_PAUSE_MS: '0' },
  }));
  await c.killNode('node3');
  await eventually(async () => (await nodeStatus(c)).node3 === 'down', 5000);
  const written = new Map<string, string>();
  for (let i = 0; i < 40; i++) {
    const res = await request(c.proxyUrl, 'PUT', `/kv/${encodeKey(`missed-${i}`)}`, { value: `v${i}` });
    expect(res.status).toBe(200);
    written.set(`missed-${i}`, res.body.version);
  }
  const deleted: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await request(c.proxyUrl, 'DELETE', `/kv/${encodeKey(`missed-${i}`)}`);
    expect(res.status).toBe(200);
    deleted.push(`missed-${i}`);
  }
  // The proxy loses its hints: only anti-entropy can bring node3 up to date now.
  const proxy = c.proxies[0];
  await proxy.process.stop();
  rmSync(path.join(proxy.dataDir, 'hints'), { recursive: true, force: true });
  await c.startProxy();
  await c.restartNode('node3');
  await eventually(async () => (await nodeStatus(c)).node3 === 'up', 10_000);

  const node3 = new NodeClient({ baseUrl: c.node('node3').url, token: 't' });
  try {
    expect(await node3.get('missed-20')).toBeUndefined();
    const repaired = await kv(['--server', c.proxyUrl, '--json', 'repair', '--wait', '--poll-interval', '100']);
    expect(repaired.code).toBe(0);
    const summary = JSON.parse(repaired.stdout);
    expect(summary).toMatchObject({ state: 'done', rangesFailed: 0, keyRange: null });
    expect(summary.differences).toBeGreaterThanOrEqual(40);
    expect(summary.repaired).toBe(summary.differences);
    expect(summary.rangesDone).toBe(summary.rangesTotal);
    for (const [key] of written) {
      const entry = await node3.get(key);
      if (deleted.includes(key)) expect(entry).toMatchObject({ tombstone: true });
      else expect(entry).toMatchObject({ value: `v${key.slice('missed-'.length)}`, version: written.get(key) });
    }
    // A second round finds nothing to do; the progress is readable.
    const again = await kv(['--server', c.proxyUrl, 'repair', '--wait', '--poll-interval', '100']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^repair done: (\d+)\/\1 ranges of the whole ring compared, 0 keys differed, 0 repaired/);
    const status = await request(c.proxyUrl, 'GET', '/cluster/repair');
    expect(status.body).toMatchObject({ state: 'done', differences: 0 });
  } finally {
    node3.close();
  }
});

test('POST /cluster/repair takes a key range and wait; bad bodies are 400s', async () => {
  const c = (cluster = await TestCluster.start({ proxyEnv: { ANTI_ENTROPY_INTERVAL_MS: '0', ANTI_ENTROPY_PAUSE_MS: '0' } }));
  const waited = await request(c.proxyUrl, 'POST', '/cluster/repair', { keyRange: '0:2147483648', wait: true });
  expect(waited).toMatchObject({ status: 200, body: { state: 'done', keyRange: '0:2147483648', started: true } });
  for (const body of [{ keyRange: '1-2' }, { wait: 'yes' }, { other: 1 }]) {
    expect((await request(c.proxyUrl, 'POST', '/cluster/repair', body)).status).toBe(400);
  }
  const cli = await kv(['--server', c.proxyUrl, 'repair', '--key-range', 'x:y']);
  expect(cli.code).toBe(2);
  // Each node's keys and tombstones, as its latest probe reported them, in GET /cluster.
  expect((await request(c.proxyUrl, 'PUT', '/kv/a', { value: 'x' })).status).toBe(200);
  expect((await request(c.proxyUrl, 'DELETE', '/kv/a')).status).toBe(200);
  await eventually(async () => {
    const nodes = (await request(c.proxyUrl, 'GET', '/cluster')).body.nodes as { keys?: number; tombstones?: number }[];
    return nodes.every((node) => node.keys === 0 && node.tombstones === 1);
  }, 5000);
});
