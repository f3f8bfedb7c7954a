import { spawn } from 'node:child_process';
import path from 'node:path';
import { TestCluster, eventually, keepClusterFiles, repoRoot, request, requireTool } from '@kv/testkit';
import Redis from 'ioredis';
import { runProgram } from './support/run-program';

// Expiring keys against a real cluster: set with a time to live through the kv CLI, redis-cli and ioredis, see the keys
// vanish, restart a data node and see them stay gone; the data nodes turn the expired values into tombstones at their
// own version once MAX_CLOCK_SKEW_MS (1 s here, the smallest allowed) has passed, also right after a restart.

const SKEW = { MAX_CLOCK_SKEW_MS: '1000' };

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ resp: true, nodeEnv: SKEW, proxyEnv: SKEW });
});

afterAll(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/kv` against the cluster's proxy. */
function kv(args: string[]): Promise<Run> {
  return runProgram(path.join(repoRoot(), 'bin', 'kv'), ['--server', cluster.proxyUrl, ...args], { KV_SERVER: '', KV_TOKEN: '' });
}

/** Runs redis-cli against the proxy's RESP port (asynchronously: the relays run in this process). */
function redisCli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-p', String(cluster.respPort), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(stdout.trim());
    });
  });
}

/** What a data node holds for a key, read directly through its internal API. */
async function held(nodeUrl: string, key: string): Promise<{ status: number; body: { value?: string | null; tombstone?: boolean; expiresAt?: number; version?: string } }> {
  return request(nodeUrl, 'GET', `/internal/kv/${encodeURIComponent(key)}`);
}

const hasRedisCli = requireTool('redis-cli', 'redis-tools');

test('keys set with a time to live vanish everywhere, stay gone across a restart, and become tombstones on the nodes', async () => {
  // Through the CLI.
  const set = await kv(['set', 'ttl:cli', 'v', '--ttl', '2']);
  expect(set.code).toBe(0);
  expect(set.stdout).toMatch(/^OK, expires at \d{4}-\d\d-\d\dT/);
  const json = JSON.parse((await kv(['--json', 'get', 'ttl:cli'])).stdout) as { value: string; version: string; expiresAt: number };
  expect(json.value).toBe('v');
  expect(json.expiresAt).toBeGreaterThan(Date.now());
  expect(json.expiresAt).toBeLessThanOrEqual(Date.now() + 2000);

  // Through ioredis (SETEX, SET PX) and redis-cli (SET EX), with TTL and PTTL answers.
  const redis = new Redis({ port: cluster.respPort as number, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    expect(await redis.setex('ttl:io', 2, 'x')).toBe('OK');
    expect(await redis.set('ttl:px', 'y', 'PX', 2000)).toBe('OK');
    expect(await redis.set('ttl:none', 'z')).toBe('OK');
    expect([1, 2]).toContain(await redis.ttl('ttl:io'));
    const pttl = await redis.pttl('ttl:px');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2000);
    expect(await redis.ttl('ttl:none')).toBe(-1);
    expect(await redis.ttl('ttl:missing')).toBe(-2);
    await expect(redis.expire('ttl:none', 10)).rejects.toThrow(/needs compare-and-set/);
    if (hasRedisCli) {
      expect(await redisCli('set', 'ttl:redis-cli', 'w', 'EX', '2')).toBe('OK');
      expect(['1', '2']).toContain(await redisCli('ttl', 'ttl:redis-cli'));
    }

    // Gone once expired, for every client and through HTTP.
    await eventually(async () => (await kv(['get', 'ttl:cli'])).code === 1 && (await redis.get('ttl:io')) === null && (await redis.get('ttl:px')) === null, 10_000);
    expect(await redis.ttl('ttl:io')).toBe(-2);
    expect(await redis.pttl('ttl:px')).toBe(-2);
    expect(await redis.get('ttl:none')).toBe('z');
    expect((await request(cluster.proxyUrl, 'GET', '/kv/ttl%3Acli')).status).toBe(404);
    if (hasRedisCli) {
      await eventually(async () => (await redisCli('get', 'ttl:redis-cli')) === '', 10_000);
      expect(await redisCli('ttl', 'ttl:redis-cli')).toBe('-2');
    }

    // A node restarted (its log replayed) still has nothing live, and turns what it recovered into tombstones.
    const node = cluster.nodes[0];
    await cluster.restartNode(node.id);
    expect((await kv(['get', 'ttl:cli'])).code).toBe(1);
    expect(await redis.get('ttl:io')).toBeNull();
    await eventually(async () => (await held(node.url, 'ttl:cli')).body.tombstone === true, 10_000);
    expect(await held(node.url, 'ttl:cli')).toMatchObject({ status: 200, body: { value: null, tombstone: true, version: json.version } });
    // Every node converts, at the write's own version.
    for (const other of cluster.nodes) await eventually(async () => (await held(other.url, 'ttl:io')).body.tombstone === true, 10_000);

    // A newer write revives the key, without expiry.
    expect((await kv(['set', 'ttl:cli', 'again'])).code).toBe(0);
    expect((await kv(['get', 'ttl:cli'])).stdout).toBe('again\n');
  } finally {
    redis.disconnect();
  }
});
