import { spawn } from 'node:child_process';
import { encodeKey } from '@kv/protocol';
import { TestCluster, eventually, keepClusterFiles, request, requireTool } from '@kv/testkit';
import Redis, { type RedisOptions } from 'ioredis';

// The Redis protocol against a real cluster, with clients nobody here wrote: redis-cli (Debian's redis-tools) and
// ioredis. The proxy runs with AUTH_TOKEN, so every client authenticates as it would against a Redis with a password.

const TOKEN = 's3cret-token';
const MAX_VALUE_BYTES = 4096;

let cluster: TestCluster;
let port: number;

beforeAll(async () => {
  cluster = await TestCluster.start({
    resp: true,
    nodeEnv: { MAX_VALUE_BYTES: String(MAX_VALUE_BYTES) },
    proxyEnv: { AUTH_TOKEN: TOKEN, MAX_VALUE_BYTES: String(MAX_VALUE_BYTES) },
  });
  port = cluster.respPort as number;
});

afterAll(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
});

const auth = { authorization: `Bearer ${TOKEN}` };

/**
 * Runs redis-cli against the proxy's RESP port; resolves with its stdout, stderr and exit code. Asynchronous: the
 * relays between the proxy and the data nodes run in this process and must keep forwarding meanwhile.
 */
function cli(args: string[], input?: string): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status });
    });
    child.stdin.end(input ?? '');
  });
}
const authed = async (...args: string[]): Promise<string> => (await cli(['-a', TOKEN, '--no-auth-warning', ...args])).stdout.trim();

const hasRedisCli = requireTool('redis-cli', 'redis-tools');
const withCli = hasRedisCli ? describe : describe.skip;

withCli('redis-cli', () => {
  test('set, get, del, and the same key over HTTP', async () => {
    expect(await authed('set', 'hello', 'world')).toBe('OK');
    expect(await authed('get', 'hello')).toBe('world');
    expect(await request(cluster.proxyUrl, 'GET', '/kv/hello', undefined, auth)).toMatchObject({ status: 200, body: { value: 'world' } });
    await request(cluster.proxyUrl, 'PUT', `/kv/${encodeKey('clé')}`, { value: 'été' }, auth);
    expect(await authed('get', 'clé')).toBe('été');
    expect(await authed('del', 'hello', 'missing')).toBe('1');
    expect(await authed('exists', 'hello')).toBe('0');
    expect(await authed('get', 'hello')).toBe('');
  });

  test('AUTH: refused without the token, and with a wrong one', async () => {
    expect((await cli(['set', 'a', 'b'])).stdout.trim()).toBe('NOAUTH Authentication required.');
    const wrong = await cli(['-a', 'nope', '--no-auth-warning', 'ping']);
    expect(wrong.stderr).toContain('WRONGPASS');
    expect(await authed('ping')).toBe('PONG');
  });

  test('errors in Redis shape', async () => {
    expect(await authed('foo', 'bar')).toBe("ERR unknown command 'foo', with args beginning with: 'bar'");
    expect(await authed('get')).toBe("ERR wrong number of arguments for 'get' command");
    expect(await authed('set', 'k', 'v', 'KEEPTTL')).toMatch(/^ERR kv: KEEPTTL, EXPIRE, PEXPIRE and PERSIST .* needs compare-and-set/);
    expect(await authed('set', 'k', 'v', 'NX')).toMatch(/^ERR kv: SET NX, XX and GET need compare-and-set/);
    expect(await authed('dbsize')).toMatch(/^ERR kv: DBSIZE is not supported/);
    expect(await authed('select', '1')).toMatch(/^ERR DB index is out of range/);
    expect(await authed('set', 'k', 'x'.repeat(MAX_VALUE_BYTES + 1))).toBe(
      `ERR kv: value must be at most ${MAX_VALUE_BYTES} bytes of UTF-8 (MAX_VALUE_BYTES), got ${MAX_VALUE_BYTES + 1}`,
    );
    expect(await authed('set', 'k'.repeat(1025), 'v')).toBe('ERR kv: key must be 1 to 1024 bytes of UTF-8, got 1025');
    // redis-cli's own quoting sends the byte 0xff: not UTF-8.
    expect((await cli(['-a', TOKEN, '--no-auth-warning'], 'set k "\\xff"\n')).stdout.trim()).toBe('ERR kv stores UTF-8 text: the value is not valid UTF-8');
  });

  test('pipelined input: redis-cli --pipe', async () => {
    const n = 2000;
    const lines = Array.from({ length: n }, (_, i) => `SET pipe:${i} v${i}\r\n`).join('');
    const result = await cli(['-a', TOKEN, '--no-auth-warning', '--pipe'], lines);
    expect(result.stdout).toContain(`errors: 0, replies: ${n}`);
    expect((await authed('mget', 'pipe:0', `pipe:${n - 1}`)).split('\n')).toEqual(['v0', `v${n - 1}`]);
  });

  test('RESP3 (-3) and CLIENT KV-QUORUM', async () => {
    // redis-cli prints a RESP3 map as "key value" lines.
    expect((await authed('-3', 'hello', '3')).split('\n').slice(0, 3)).toEqual(['server kv', 'version 7.0.0', 'proto 3']);
    expect(await authed('-3', 'set', 'r3', 'v')).toBe('OK');
    expect(await authed('-3', 'get', 'r3')).toBe('v');
    expect((await authed('client', 'kv-quorum')).split('\n')).toEqual(['w', '2', 'r', '2', 'replicas', '3']);
  });

  test('COMMAND DOCS is what redis-cli builds its help from', async () => {
    const docs = await authed('command', 'docs', 'set');
    expect(docs).toContain('summary');
    expect(docs).toContain('KEEPTTL');
  });

  test('INFO shows the cluster: N/W/R and nodes', async () => {
    const info = await authed('info', 'replication');
    expect(info).toContain('kv_replicas:3');
    expect(info).toContain('kv_write_quorum:2');
    expect(info).toContain('kv_read_quorum:2');
    expect(info).toMatch(/kv_note:MSET .*not atomic/);
  });
});

describe('ioredis', () => {
  const clients: Redis[] = [];
  const connect = (options: RedisOptions = {}): Redis => {
    const client = new Redis({ port, host: '127.0.0.1', password: TOKEN, maxRetriesPerRequest: 3, ...options });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  afterAll(() => {
    for (const client of clients) client.disconnect();
  });

  test('commands', async () => {
    const redis = connect();
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.set('io:a', '1')).toBe('OK');
    expect(await redis.mset('io:b', '2', 'io:c', '3')).toBe('OK');
    expect(await redis.mget('io:a', 'io:b', 'io:c', 'io:none')).toEqual(['1', '2', '3', null]);
    expect(await redis.exists('io:a', 'io:none', 'io:a')).toBe(2);
    expect(await redis.strlen('io:a')).toBe(1);
    expect(await redis.del('io:a', 'io:b')).toBe(2);
    expect(await redis.get('io:a')).toBeNull();
    expect(await redis.echo('hi')).toBe('hi');
    const time = (await redis.time()) as unknown as [string, string];
    expect(Math.abs(Number(time[0]) - Date.now() / 1000)).toBeLessThan(60);
    expect(await redis.set('io:x', 'v', 'EX', 10)).toBe('OK');
    expect([9, 10]).toContain(await redis.ttl('io:x'));
    await expect(redis.call('FLUSHALL')).rejects.toThrow("ERR unknown command 'FLUSHALL', with args beginning with: ");
  });

  test('pipelines answer in order', async () => {
    const redis = connect();
    const pipeline = redis.pipeline();
    for (let i = 0; i < 200; i++) pipeline.set(`io:p${i % 20}`, `v${i}`).get(`io:p${i % 20}`);
    const results = (await pipeline.exec()) ?? [];
    expect(results).toHaveLength(400);
    results.forEach(([error, value], j) => {
      expect(error).toBeNull();
      expect(value).toBe(j % 2 === 0 ? 'OK' : `v${(j - 1) / 2}`);
    });
  });

  test('RESP3 (protocol: 3): HELLO 3 at connect', async () => {
    const redis = connect({ protocol: 3 });
    expect(await redis.set('io:r3', 'three')).toBe('OK');
    expect(await redis.get('io:r3')).toBe('three');
    const hello = (await redis.call('HELLO')) as unknown[];
    expect(hello[hello.indexOf('proto') + 1]).toBe(3);
  });

  test('a quorum failure is TRYAGAIN; CLIENT KV-QUORUM weakens it for one connection', async () => {
    const redis = connect();
    await cluster.killNode('node2');
    await cluster.killNode('node3');
    try {
      await expect(redis.set('io:q', 'v')).rejects.toThrow(/^TRYAGAIN kv: write acknowledged by 1 of 2 required replicas; the outcome is unknown/);
      expect(await redis.call('CLIENT', 'KV-QUORUM', '1', '1')).toBe('OK');
      expect(await redis.set('io:q', 'v1')).toBe('OK');
      expect(await redis.get('io:q')).toBe('v1');
    } finally {
      await cluster.restartNode('node2');
      await cluster.restartNode('node3');
    }
    const metrics = String((await request(cluster.proxyUrl, 'GET', '/metrics')).body);
    expect(metrics).toMatch(/^kv_resp_commands_total\{[^}]*command="set",status="tryagain"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^kv_resp_command_duration_seconds_count\{[^}]*command="set"[^}]*\} [1-9]/m);
  });

  test('reconnects after a proxy restart', async () => {
    const redis = connect();
    expect(await redis.set('io:restart', 'before')).toBe('OK');
    await cluster.restartProxy();
    await eventually(async () => (await redis.get('io:restart').catch(() => undefined)) === 'before', 20_000);
    expect(await redis.set('io:restart', 'after')).toBe('OK');
    expect(await redis.get('io:restart')).toBe('after');
  });
});
