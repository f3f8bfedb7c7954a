import { existsSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  HistoryRecorder,
  TestCluster,
  checkRegister,
  entryPoint,
  formatReport,
  freePort,
  keepClusterFiles,
  request,
  requireTool,
} from '@kv/testkit';

// Several proxies against the same data nodes: they serve one store, refuse a duplicate clock id, never share a data
// directory, and stay linearizable together whatever their clocks say. The weakened twin (two proxies issuing equal
// versions, as with the old default id) must lose writes under the checker.

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
  cluster = undefined;
});

/** The histories of several recorders (one process each) as one, in invocation order, with unique ids. */
function merged(...recorders: HistoryRecorder[]): HistoryRecorder['history'] {
  return recorders
    .flatMap((recorder) => recorder.history)
    .sort((x, y) => x.invokedAt - y.invokedAt)
    .map((op, id) => ({ ...op, id }));
}

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

test('a write through one proxy is read through the others; each proxy has its own clock id', async () => {
  const c = (cluster = await TestCluster.start({ proxies: 3 }));
  const [a, b, d] = c.proxyUrls;
  const put = await request(a, 'PUT', '/kv/shared', { value: 'from a' });
  expect(put.status).toBe(200);
  for (const url of [b, d]) expect((await request(url, 'GET', '/kv/shared')).body).toMatchObject({ value: 'from a', version: put.body.version });
  const second = await request(b, 'PUT', '/kv/shared', { value: 'from b' });
  expect(second.body.version > put.body.version).toBe(true);
  expect((await request(d, 'GET', '/kv/shared')).body.value).toBe('from b');
  const ids = new Set([put.body.version, second.body.version].map((version: string) => version.split('-')[2]));
  expect(ids.size).toBe(2);
  for (const url of c.proxyUrls) expect((await request(url, 'GET', '/health/ready')).body).toMatchObject({ status: 'ready', nodesUp: 3, joined: true });
});

test('a proxy whose clock is seconds ahead and one seconds behind: a later write through either always wins', async () => {
  const c = (cluster = await TestCluster.start({ proxies: 2, proxyEnvs: [{ TEST_CLOCK_OFFSET_MS: '8000' }, { TEST_CLOCK_OFFSET_MS: '-8000' }] }));
  const recorder = new HistoryRecorder(c.proxyUrls[0], 0);
  const behind = new HistoryRecorder(c.proxyUrls[1], 1);
  for (let i = 0; i < 10; i++) {
    expect(await recorder.write('skewed', `ahead-${i}`)).toBe(200);
    expect(await behind.write('skewed', `behind-${i}`)).toBe(200);
    expect(await recorder.read('skewed')).toBe(`behind-${i}`);
  }
  const result = checkRegister(merged(recorder, behind));
  expect(formatReport(result)).toMatch(/^register: VALID /);
});

// The same with real clocks shifted by libfaketime (Debian's faketime), the way an operator's machines would differ.
// The library is preloaded into the proxy itself (the faketime command would fork, and signals would miss the proxy).
const faketime = requireTool('faketime', 'faketime', 'faketime clock-skew e2e');
const libfaketime = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']
  .map((dir) => path.join(dir, 'faketime', 'libfaketimeMT.so.1'))
  .find((file) => existsSync(file));
(faketime ? test : test.skip)('proxies under faketime, one 20 s ahead and one 15 s behind, stay linearizable together', async () => {
  if (libfaketime === undefined) throw new Error('faketime is installed but libfaketimeMT.so.1 was not found');
  const shifted = (offset: string): Record<string, string> => ({ LD_PRELOAD: libfaketime, FAKETIME: offset });
  const c = (cluster = await TestCluster.start({ proxies: 2, proxyEnvs: [shifted('+20s'), shifted('-15s')] }));
  const ahead = new HistoryRecorder(c.proxyUrls[0], 0);
  const behind = new HistoryRecorder(c.proxyUrls[1], 1);
  for (let i = 0; i < 10; i++) {
    expect(await ahead.write('faked', `ahead-${i}`)).toBe(200);
    expect(await behind.write('faked', `behind-${i}`)).toBe(200);
    expect(await ahead.read('faked')).toBe(`behind-${i}`);
  }
  // The clocks were really shifted: the first version of the proxy ahead is about 20 s in the future.
  expect(Number.parseInt((ahead.history[0].version as string).slice(0, 12), 16)).toBeGreaterThan(Date.now() + 10_000);
  expect(formatReport(checkRegister(merged(ahead, behind)))).toMatch(/^register: VALID /);
});

test('a second proxy with the same PROXY_ID is refused: it exits with code 2 and one line naming the id', async () => {
  const c = (cluster = await TestCluster.start({ proxyEnv: { PROXY_ID: 'twin' } }));
  const { code, stderr } = await runToExit('proxy', {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    NODES: c.proxy.env.NODES as string,
    DATA_DIR: `${c.dir}/twin-2`,
    PROXY_ID: 'twin',
    HEALTH_INTERVAL_MS: '200',
  });
  expect(code).toBe(2);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/another running coordinator uses the clock id twin .*PROXY_ID/);
  // The first one still serves.
  expect((await request(c.proxyUrl, 'PUT', '/kv/twin', { value: 'still here' })).status).toBe(200);
});

test('a second process on the same DATA_DIR exits with code 2 and one line naming the directory and the holder', async () => {
  const c = (cluster = await TestCluster.start());
  const proxy = await runToExit('proxy', {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    NODES: c.proxy.env.NODES as string,
    DATA_DIR: c.proxyAt(0).dataDir,
  });
  expect(proxy.code).toBe(2);
  expect(proxy.stderr).toMatch(new RegExp(`DATA_DIR ${c.proxyAt(0).dataDir} is in use by proxy \\(pid ${c.proxy.pid}`));
  const node = await runToExit('datanode', { PORT: String(await freePort()), HOST: '127.0.0.1', NODE_ID: 'node1', DATA_DIR: c.node(0).dataDir });
  expect(node.code).toBe(2);
  expect(node.stderr).toMatch(/DATA_DIR .* is in use by datanode node1/);
});

test('PROXY_WORKERS=2: two coordinators share the port, each with its own clock id; metrics are of both', async () => {
  const c = (cluster = await TestCluster.start({ proxyEnv: { PROXY_WORKERS: '2' } }));
  // The second worker takes connections once it has joined (after the first one's lease): a few seconds.
  const ids = new Set<string>();
  const deadline = Date.now() + 15_000;
  for (let i = 0; Date.now() < deadline && ids.size < 2; i++) {
    const put = await request(c.proxyUrl, 'PUT', `/kv/w${i}`, { value: 'v' }, { connection: 'close' });
    expect(put.status).toBe(200);
    ids.add(put.body.version.split('-')[2]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(ids.size).toBe(2);
  const metrics = (await request(c.proxyUrl, 'GET', '/metrics')).body as string;
  const puts = /kv_http_requests_total\{[^}]*route="\/kv\/:key"[^}]*method="PUT"[^}]*status="200"[^}]*\} (\d+)/.exec(metrics);
  expect(Number(puts?.[1])).toBeGreaterThanOrEqual(2);
});

describe('the checker catches two proxies issuing equal versions (the old default id)', () => {
  // Both proxies with one clock id and one frozen wall clock issue the same versions; without registration neither
  // is refused. The second write of a key carries the version of the first: replicas take it as applied, and the
  // write, although acknowledged, is lost.
  async function twoWritersOneVersion(sameId: boolean): Promise<ReturnType<typeof checkRegister>> {
    const base = { TEST_LONE_COORDINATOR: '1', TEST_FROZEN_CLOCK_MS: String(Date.now()) };
    const c = (cluster = await TestCluster.start({
      proxies: 2,
      proxyEnvs: [
        { ...base, PROXY_ID: 'proxy' },
        { ...base, PROXY_ID: sameId ? 'proxy' : 'other' },
      ],
    }));
    const first = new HistoryRecorder(c.proxyUrls[0], 0);
    const second = new HistoryRecorder(c.proxyUrls[1], 1);
    expect(await first.write('equal', 'one')).toBe(200);
    expect(await second.write('equal', 'two')).toBe(200);
    await first.read('equal');
    return checkRegister(merged(first, second));
  }

  test('with the same id, an acknowledged write is lost: the checker reports it', async () => {
    const result = await twoWritersOneVersion(true);
    expect(formatReport(result)).toMatch(/^register: INVALID /);
  });

  test('with distinct ids, the same is linearizable', async () => {
    const result = await twoWritersOneVersion(false);
    expect(formatReport(result)).toMatch(/^register: VALID /);
  });
});
