import http from 'node:http';
import { PassThrough } from 'node:stream';
import { encodeKey } from '@kv/protocol';
import { CoordinatorVersions, InMemoryCluster, MemoryHintStore, NodeHealth, Replicator, systemClock, type Clock } from '@kv/quorum';
import { HashRing } from '@kv/ring';
import { closeServer, createHttpServer, createLogger, createRegistry, listen } from '@kv/service';
import { createApp, parseChangeRequest, type ProxyUi } from './app';
import { ProxyMetrics } from './proxy-metrics';
import { PublicApi } from './public-api';

const NODES = ['node1', 'node2', 'node3'];
const MAX_VALUE_BYTES = 100;

interface TestProxy {
  base: string;
  cluster: InMemoryCluster;
  health: NodeHealth;
  server: http.Server;
}

async function startProxy(
  options: {
    authToken?: string | readonly string[];
    clusterToken?: readonly string[];
    expressDataRoutes?: boolean;
    batchResponseBytesMax?: number;
    /** The proxy's wall clock (versions and expiry decisions); default the system's. */
    clock?: Clock;
    ui?: ProxyUi;
  } = {},
): Promise<TestProxy> {
  const cluster = new InMemoryCluster(NODES);
  const health = new NodeHealth(NODES);
  const hints = new MemoryHintStore();
  const registry = createRegistry('proxy');
  const metrics = new ProxyMetrics(registry, hints);
  metrics.watch(health);
  const clock = options.clock ?? systemClock;
  const versions = new CoordinatorVersions({ clockId: 'test', clock, floor: undefined });
  const replicator = new Replicator({
    ring: new HashRing(NODES),
    transport: cluster.transport(),
    versions,
    health,
    hints,
    timeoutMs: 200,
    clock,
    events: metrics.coordinatorEvents,
  });
  const api = new PublicApi({ replicator, versions, maxValueBytes: MAX_VALUE_BYTES, batchResponseBytesMax: options.batchResponseBytesMax });
  const { listener } = createApp({
    api,
    authToken: options.authToken,
    clusterToken: options.clusterToken,
    ready: () => {
      const nodesUp = NODES.filter((id) => health.isUp(id)).length;
      return { ready: nodesUp >= 2, status: 'ready', nodesUp, nodes: NODES.length, writeQuorum: 2, joined: true };
    },
    cluster: () => ({
      nodes: NODES.map((id) => ({ id, url: `http://${id}`, status: health.isUp(id) ? 'up' : 'down' })),
      replicas: 3,
      writeQuorum: 2,
      readQuorum: 2,
      vnodes: 128,
      epoch: 1,
      change: null,
    }),
    logger: createLogger({ service: 'proxy', stream: new PassThrough() }),
    registry,
    expressDataRoutes: options.expressDataRoutes,
    ui: options.ui,
  });
  const server = createHttpServer(listener);
  const port = await listen(server, 0, '127.0.0.1');
  return { base: `http://127.0.0.1:${port}`, cluster, health, server };
}

let proxy: TestProxy;
beforeEach(async () => {
  proxy = await startProxy();
});
afterEach(async () => {
  await closeServer(proxy.server, 100);
});

/** One request with the path sent as is (fetch would normalize dot segments such as `/kv/%2E`). */
function call(method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  // Answers are arbitrary JSON that each test inspects in its own way.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return new Promise<{ status: number; body: any; headers: { get(name: string): string | undefined } }>((resolve, reject) => {
    const req = http.request(proxy.base + '/', { method, path: route, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          body: text.startsWith('{') ? JSON.parse(text) : text,
          headers: { get: (name) => res.headers[name.toLowerCase()] as string | undefined },
        });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const kv = (key: string): string => `/kv/${encodeKey(key)}`;

describe('the public API', () => {
  test('set, get, delete; a deleted key reads 404 and deleting again succeeds', async () => {
    const put = await call('PUT', '/kv/greeting', { value: 'hello' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ key: 'greeting', version: expect.any(String), acks: 2 });
    expect((await call('GET', '/kv/greeting')).body).toEqual({ key: 'greeting', value: 'hello', version: put.body.version });
    const del = await call('DELETE', '/kv/greeting');
    expect(del).toMatchObject({ status: 200, body: { key: 'greeting', acks: 2 } });
    expect(del.body.version > put.body.version).toBe(true);
    expect(await call('GET', '/kv/greeting')).toMatchObject({ status: 404, body: { error: { code: 'KV_NOT_FOUND' } } });
    expect(await call('DELETE', '/kv/greeting')).toMatchObject({ status: 200 });
  });

  test.each(['héllo wörld ✓', 'a/b/c', 'what?', 'frag#ment', ' spaces ', '100%', 'plus+sign', '日本語', '.', '..', 'x'.repeat(1024)])(
    'keys travel as one segment: %j',
    async (key) => {
      const value = `v:${key}`.slice(0, MAX_VALUE_BYTES);
      expect((await call('PUT', kv(key), { value })).body.key).toBe(key);
      expect((await call('GET', kv(key))).body).toMatchObject({ key, value });
    },
  );

  test('later writes win: versions increase', async () => {
    const versions: string[] = [];
    for (let i = 0; i < 20; i++) versions.push((await call('PUT', '/kv/counter', { value: String(i) })).body.version);
    expect([...versions].sort()).toEqual(versions);
    expect(new Set(versions).size).toBe(20);
    expect((await call('GET', '/kv/counter')).body.value).toBe('19');
  });

  test.each([
    ['malformed JSON', 'PUT', '/kv/a', '{"value": ', 400, 'KV_BAD_REQUEST'],
    ['a non-string value', 'PUT', '/kv/a', { value: 42 }, 400, 'KV_BAD_REQUEST'],
    ['a missing value', 'PUT', '/kv/a', { nope: 'x' }, 400, 'KV_BAD_REQUEST'],
    ['a JSON array body', 'PUT', '/kv/a', ['x'], 400, 'KV_BAD_REQUEST'],
    ['a 1025-byte key', 'GET', `/kv/${'k'.repeat(1025)}`, undefined, 400, 'KV_INVALID_KEY'],
    ['a 1025-byte key of 2-byte characters', 'PUT', kv('é'.repeat(513)), { value: 'v' }, 400, 'KV_INVALID_KEY'],
    ['an empty key', 'GET', '/kv/', undefined, 400, 'KV_INVALID_KEY'],
    ['invalid percent-encoding', 'GET', '/kv/%zz', undefined, 400, 'KV_INVALID_KEY'],
    ['percent-encoding that is not UTF-8', 'GET', '/kv/%FF%FE', undefined, 400, 'KV_INVALID_KEY'],
    ['a value over the limit', 'PUT', '/kv/a', { value: 'x'.repeat(MAX_VALUE_BYTES + 1) }, 413, 'KV_TOO_LARGE'],
    ['a body over the limit', 'PUT', '/kv/a', `{"value":"v","pad":"${' '.repeat(1024 * 1024)}"}`, 413, 'KV_TOO_LARGE'],
    ['an unknown key', 'GET', '/kv/never-written', undefined, 404, 'KV_NOT_FOUND'],
    ['an unknown route', 'GET', '/nope', undefined, 404, 'KV_NOT_FOUND'],
    ['a key of two segments', 'GET', '/kv/a/b', undefined, 404, 'KV_NOT_FOUND'],
    ['an unsupported method', 'POST', '/kv/a', { value: 'v' }, 404, 'KV_NOT_FOUND'],
    ['a bad w', 'PUT', '/kv/a?w=4', { value: 'v' }, 400, 'KV_BAD_REQUEST'],
    ['a non-numeric r', 'GET', '/kv/a?r=all', undefined, 400, 'KV_BAD_REQUEST'],
  ] as const)('%s: %s %s answers %i %s', async (_name, method, route, body, status, code) => {
    const res = await call(method, route, body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(res.headers.get('content-type')).toContain('application/json');
  });

  test('per-request w and r', async () => {
    proxy.cluster.setFault('node1', { down: true });
    expect(await call('PUT', '/kv/a?w=3', { value: 'v' })).toMatchObject({ status: 503 });
    expect(await call('PUT', '/kv/a?w=1', { value: 'v' })).toMatchObject({ status: 200, body: { acks: expect.any(Number) } });
    expect(await call('GET', '/kv/a?r=3')).toMatchObject({ status: 503 });
    expect(await call('GET', '/kv/a?r=1')).toMatchObject({ status: 200, body: { value: 'v' } });
  });

  test('two replicas down: writes and reads answer 503 KV_QUORUM_FAILED with acks and required', async () => {
    await call('PUT', '/kv/a', { value: 'v' });
    proxy.cluster.setFault('node1', { down: true });
    proxy.cluster.setFault('node2', { down: true });
    const put = await call('PUT', '/kv/a', { value: 'w' });
    expect(put.status).toBe(503);
    expect(put.body).toEqual({ error: { code: 'KV_QUORUM_FAILED', message: expect.stringContaining('unknown') }, acks: 1, required: 2 });
    const get = await call('GET', '/kv/a');
    expect(get).toMatchObject({ status: 503, body: { error: { code: 'KV_QUORUM_FAILED' }, acks: 1, required: 2 } });
    const metrics = await call('GET', '/metrics');
    expect(metrics.body).toMatch(/kv_quorum_failures_total\{kind="write",service="proxy"\} 1/);
  });

  test('a failing replica is a replica failure, never a 500', async () => {
    proxy.cluster.setFault('node3', { error: true });
    expect(await call('PUT', '/kv/a', { value: 'v' })).toMatchObject({ status: 200 });
  });
});

describe('POST /batch', () => {
  test('one result per operation, in order, each with its own status', async () => {
    const res = await call('POST', '/batch', {
      ops: [
        { op: 'set', key: 'a', value: '1' },
        { op: 'get', key: 'a' },
        { op: 'get', key: 'missing' },
        { op: 'del', key: 'a' },
        { op: 'get', key: 'a' },
        { op: 'set', key: '', value: 'x' },
        { op: 'set', key: 'b', value: 7 },
        { op: 'explode', key: 'c' },
      ],
    });
    expect(res.status).toBe(200);
    const results = res.body.results;
    expect(results.map((r: { status: number }) => r.status)).toEqual([200, 200, 404, 200, 404, 400, 400, 400]);
    expect(results[0]).toEqual({ status: 200, key: 'a', version: expect.any(String), acks: 2 });
    expect(results[1]).toEqual({ status: 200, key: 'a', value: '1', version: results[0].version });
    expect(results[5].error.code).toBe('KV_INVALID_KEY');
    expect(results[7].error.code).toBe('KV_BAD_REQUEST');
  });

  test('quorum failures are per operation', async () => {
    proxy.cluster.setFault('node1', { down: true });
    proxy.cluster.setFault('node2', { down: true });
    const res = await call('POST', '/batch', { ops: [{ op: 'set', key: 'a', value: '1' }] });
    expect(res.body.results[0]).toMatchObject({ status: 503, error: { code: 'KV_QUORUM_FAILED' }, acks: 1, required: 2 });
  });

  test.each([
    ['not an object', '"ops"'],
    ['ops not an array', { ops: {} }],
    ['more than 1000 ops', { ops: Array.from({ length: 1001 }, (_, i) => ({ op: 'get', key: `k${i}` })) }],
    ['malformed JSON', '{"ops": [}'],
  ])('%s: 400 for the whole request', async (_name, body) => {
    expect(await call('POST', '/batch', body)).toMatchObject({ status: 400, body: { error: { code: 'KV_BAD_REQUEST' } } });
  });

  test('the answer carries at most MAX_BATCH_RESPONSE_BYTES of values: reads beyond fail alone with 413 KV_TOO_LARGE', async () => {
    await closeServer(proxy.server, 100);
    proxy = await startProxy({ batchResponseBytesMax: 250 });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const set = await call('POST', '/batch', { ops: keys.map((key) => ({ op: 'set', key, value: key.repeat(100) })) });
    expect(set.body.results.map((r: { status: number }) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const read = await call('POST', '/batch', { ops: [...keys.map((key) => ({ op: 'get', key })), { op: 'set', key: 'f', value: 'f' }] });
    const results = read.body.results as { status: number; value?: string; error?: { code: string; message: string } }[];
    expect(results.filter((r) => r.status === 200 && r.value !== undefined)).toHaveLength(2);
    const refused = results.filter((r) => r.status === 413);
    expect(refused).toHaveLength(3);
    expect(refused[0].error).toEqual({
      code: 'KV_TOO_LARGE',
      message: "this answer would carry more than MAX_BATCH_RESPONSE_BYTES=250 bytes of values: read this key in another request",
    });
    expect(results[5]).toMatchObject({ status: 200, key: 'f' });
  });

  test('1000 operations are fine', async () => {
    const ops = Array.from({ length: 1000 }, (_, i) => ({ op: 'set', key: `k${i}`, value: `v${i}` }));
    const res = await call('POST', '/batch?w=2', { ops });
    expect(res.body.results.every((r: { status: number }) => r.status === 200)).toBe(true);
  });
});

describe('expiring keys', () => {
  /** A proxy whose clock the test moves (the data nodes keep the system's: they only bound versions). */
  let now: number;
  let ttlProxy: TestProxy;
  const ttlCall = (method: string, route: string, body?: unknown) => {
    const saved = proxy;
    proxy = ttlProxy;
    return call(method, route, body).finally(() => {
      proxy = saved;
    });
  };
  beforeEach(async () => {
    now = Date.now();
    ttlProxy = await startProxy({ clock: { now: () => now } });
  });
  afterEach(async () => {
    await closeServer(ttlProxy.server, 100);
  });

  test('PUT with "ttl" answers expiresAt (the version\'s ms + ttl); GET shows it until then, and 404 from then on', async () => {
    const put = await ttlCall('PUT', kv('s'), { value: 'x', ttl: 2 });
    expect(put.status).toBe(200);
    expect(put.body.expiresAt).toBe(now + 2000);
    expect(await ttlCall('GET', kv('s'))).toMatchObject({ status: 200, body: { key: 's', value: 'x', expiresAt: now + 2000 } });
    now += 1999;
    expect(await ttlCall('GET', kv('s'))).toMatchObject({ status: 200 });
    now += 1;
    expect(await ttlCall('GET', kv('s'))).toMatchObject({ status: 404, body: { error: { code: 'KV_NOT_FOUND' } } });
  });

  test('a PUT without "ttl" clears the expiry: no expiresAt in the answers', async () => {
    await ttlCall('PUT', kv('s'), { value: 'x', ttl: 2 });
    const put = await ttlCall('PUT', kv('s'), { value: 'y' });
    expect('expiresAt' in put.body).toBe(false);
    now += 5000;
    const got = await ttlCall('GET', kv('s'));
    expect(got).toMatchObject({ status: 200, body: { value: 'y' } });
    expect('expiresAt' in got.body).toBe(false);
  });

  test.each([0, -1, 1.5, 315_360_001, '2', null])('a "ttl" of %p answers 400 naming the field, and writes nothing', async (ttl) => {
    const res = await ttlCall('PUT', kv('bad'), { value: 'x', ttl });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'KV_BAD_REQUEST' } } });
    expect(res.body.error.message).toContain('"ttl" must be a whole number of seconds from 1 to 315360000');
    expect(await ttlCall('GET', kv('bad'))).toMatchObject({ status: 404 });
  });

  test('batch sets take "ttl" (bulk and one by one); batch gets carry expiresAt and miss expired keys', async () => {
    const res = await ttlCall('POST', '/batch', {
      ops: [
        { op: 'set', key: 'a', value: '1', ttl: 1 },
        { op: 'set', key: 'b', value: '2', ttl: 10 },
        { op: 'set', key: 'c', value: '3' },
        { op: 'set', key: 'd', value: '4', ttl: 1 },
        { op: 'get', key: 'd' },
      ],
    });
    expect(res.body.results.map((r: { expiresAt?: number }) => r.expiresAt)).toEqual([now + 1000, now + 10_000, undefined, now + 1000, now + 1000]);
    now += 1000;
    const read = await ttlCall('POST', '/batch', { ops: ['a', 'b', 'c', 'd'].map((key) => ({ op: 'get', key })) });
    expect(read.body.results.map((r: { status: number; expiresAt?: number }) => [r.status, r.expiresAt])).toEqual([
      [404, undefined],
      [200, now + 9000],
      [200, undefined],
      [404, undefined],
    ]);
  });
});

describe('unknown fields and query parameters are refused, never ignored', () => {
  const refused = (message: string) => ({ status: 400, body: { error: { code: 'KV_BAD_REQUEST', message } } });

  test('PUT /kv/{key} with a field other than "value" and "ttl" answers 400 naming it, and writes nothing', async () => {
    expect(await call('PUT', kv('k'), { value: 'x', nx: true })).toMatchObject(refused('unknown field "nx" in the request body (accepted: "value", "ttl")'));
    expect(await call('GET', kv('k'))).toMatchObject({ status: 404 });
  });

  test('a query parameter a data route does not take answers 400 naming it', async () => {
    expect(await call('PUT', `${kv('k')}?w=2&ttl=5`, { value: 'x' })).toMatchObject(refused('unknown query parameter "ttl" for PUT /kv/{key} (accepted: "w")'));
    expect(await call('GET', `${kv('k')}?w=2`)).toMatchObject(refused('unknown query parameter "w" for GET /kv/{key} (accepted: "r")'));
    expect(await call('DELETE', `${kv('k')}?r=2`)).toMatchObject(refused('unknown query parameter "r" for DELETE /kv/{key} (accepted: "w")'));
    expect(await call('POST', '/batch?consistency=all', { ops: [] })).toMatchObject(refused('unknown query parameter "consistency" for POST /batch (accepted: "w", "r")'));
    expect(await call('GET', kv('k'))).toMatchObject({ status: 404 });
    expect(await call('PUT', `${kv('k')}?w=2`, { value: 'x' })).toMatchObject({ status: 200 });
    expect(await call('GET', `${kv('k')}?r=2`)).toMatchObject({ status: 200, body: { value: 'x' } });
  });

  test('a batch refuses an unknown field of an operation in its place, and of the body as a whole', async () => {
    const res = await call('POST', '/batch', { ops: [{ op: 'set', key: 'a', value: '1', nx: true }, { op: 'set', key: 'b', value: '2' }] });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { status: 400, error: { code: 'KV_BAD_REQUEST', message: 'unknown field "nx" in batch operation 0 (set) (accepted: "op", "key", "value", "ttl")' } },
      expect.objectContaining({ status: 200, key: 'b' }),
    ]);
    expect(await call('GET', kv('a'))).toMatchObject({ status: 404 });
    expect(await call('POST', '/batch', { ops: [], atomic: true })).toMatchObject(refused('unknown field "atomic" in the batch body (accepted: "ops")'));
  });

  test('health, readiness, cluster and metrics take no parameters', async () => {
    for (const route of ['/health', '/health/ready', '/cluster', '/metrics']) {
      expect(await call('GET', `${route}?verbose=1`)).toMatchObject(refused(`unknown query parameter "verbose" for GET ${route} (accepted: none)`));
    }
    expect(await call('GET', '/nope?verbose=1')).toMatchObject({ status: 404 });
    expect(await call('POST', '/health?verbose=1')).toMatchObject({ status: 404 });
  });

  test('a cluster change refuses unknown fields of the body and of each added node', () => {
    const url = 'http://127.0.0.1:8004';
    expect(parseChangeRequest({ add: [{ id: 'node4', url }], dryRun: true })).toEqual({ add: [{ id: 'node4', url }], remove: [], dryRun: true });
    expect(() => parseChangeRequest({ add: [{ id: 'node4', url }], force: true })).toThrow('unknown field "force" in the request body (accepted: "add", "remove", "dryRun")');
    expect(() => parseChangeRequest({ add: [{ id: 'node4', url, weight: 2 }] })).toThrow('unknown field "weight" in add[0] (accepted: "id", "url")');
  });
});

describe('AUTH_TOKEN', () => {
  beforeEach(async () => {
    await closeServer(proxy.server, 100);
    proxy = await startProxy({ authToken: 'open-sesame' });
  });

  test.each([
    ['missing', {}],
    ['wrong', { authorization: 'Bearer open-sesam' }],
    ['malformed', { authorization: 'Basic b3Blbi1zZXNhbWU=' }],
  ])('%s token: /kv and /batch answer 401', async (_name, headers) => {
    for (const [method, route, body] of [
      ['GET', '/kv/a', undefined],
      ['PUT', '/kv/a', { value: 'v' }],
      ['DELETE', '/kv/a', undefined],
      ['POST', '/batch', { ops: [] }],
    ] as const) {
      expect(await call(method, route, body, headers)).toMatchObject({ status: 401, body: { error: { code: 'KV_UNAUTHORIZED' } } });
    }
  });

  test('the right token passes; health, cluster and metrics stay open', async () => {
    const headers = { authorization: 'Bearer open-sesame' };
    expect(await call('PUT', '/kv/a', { value: 'v' }, headers)).toMatchObject({ status: 200 });
    expect(await call('GET', '/kv/a', undefined, headers)).toMatchObject({ status: 200, body: { value: 'v' } });
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call('GET', '/cluster')).toMatchObject({ status: 200 });
  });

  test('the scheme is matched in any case (RFC 7235)', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      expect(await call('GET', '/kv/a', undefined, { authorization: `${scheme} open-sesame` })).toMatchObject({ status: 404 });
    }
  });
});

describe('token lists (a rotation)', () => {
  beforeEach(async () => {
    await closeServer(proxy.server, 100);
    proxy = await startProxy({ authToken: ['new-token', 'old-token'], clusterToken: ['new-cluster', 'old-cluster'] });
  });

  test('any token of AUTH_TOKEN passes; the list itself or another does not', async () => {
    for (const token of ['new-token', 'old-token']) {
      expect(await call('PUT', '/kv/a', { value: token }, { authorization: `Bearer ${token}` })).toMatchObject({ status: 200 });
      expect(await call('POST', '/batch', { ops: [] }, { authorization: `Bearer ${token}` })).toMatchObject({ status: 200 });
    }
    for (const token of ['new-token,old-token', 'other']) {
      expect(await call('GET', '/kv/a', undefined, { authorization: `Bearer ${token}` })).toMatchObject({ status: 401 });
    }
  });

  test('GET /cluster shows node URLs only to a request carrying a cluster token', async () => {
    const urls = async (headers: Record<string, string>): Promise<unknown[]> =>
      (await call('GET', '/cluster', undefined, headers)).body.nodes.map((node: { url?: string }) => node.url);
    expect(await urls({})).toEqual([undefined, undefined, undefined]);
    expect(await urls({ authorization: 'Bearer new-token' })).toEqual([undefined, undefined, undefined]);
    expect(await urls({ authorization: 'Bearer wrong' })).toEqual([undefined, undefined, undefined]);
    expect(await urls({ authorization: 'Bearer old-cluster' })).toEqual(['http://node1', 'http://node2', 'http://node3']);
    expect(await urls({ authorization: 'bearer new-cluster' })).toEqual(['http://node1', 'http://node2', 'http://node3']);
    const hidden = (await call('GET', '/cluster')).body;
    expect(hidden.nodes[0]).toEqual({ id: 'node1', status: 'up' });
    expect(hidden).toMatchObject({ replicas: 3, writeQuorum: 2, readQuorum: 2, epoch: 1 });
  });

  test('with AUTH_TOKEN and no CLUSTER_TOKEN, node URLs are shown to nobody', async () => {
    await closeServer(proxy.server, 100);
    proxy = await startProxy({ authToken: ['t'] });
    expect((await call('GET', '/cluster', undefined, { authorization: 'Bearer t' })).body.nodes[0]).toEqual({ id: 'node1', status: 'up' });
  });
});

describe('operations routes', () => {
  test('/health, /cluster with node status, /metrics, request ids', async () => {
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    proxy.health.report('node2', false);
    const cluster = await call('GET', '/cluster');
    expect(cluster.body).toEqual({
      nodes: [
        { id: 'node1', url: 'http://node1', status: 'up' },
        { id: 'node2', url: 'http://node2', status: 'down' },
        { id: 'node3', url: 'http://node3', status: 'up' },
      ],
      replicas: 3,
      writeQuorum: 2,
      readQuorum: 2,
      vnodes: 128,
      epoch: 1,
      change: null,
    });
    await call('PUT', '/kv/a', { value: 'v' });
    const metrics = await call('GET', '/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toMatch(/kv_http_requests_total\{route="\/kv\/:key",method="PUT",status="200",service="proxy"\} 1/);
    expect(metrics.body).toMatch(/kv_node_up\{node="node2",service="proxy"\} 0/);
    expect(metrics.body).toContain('kv_hints_pending');
    const res = await call('GET', '/kv/a', undefined, { 'x-request-id': 'trace-me' });
    expect(res.headers.get('x-request-id')).toBe('trace-me');
  });
});

describe('the data routes through the Express router (the measured alternative)', () => {
  beforeEach(async () => {
    await closeServer(proxy.server, 100);
    proxy = await startProxy({ expressDataRoutes: true, authToken: 't' });
  });

  test('answer exactly as the lean handler does', async () => {
    const auth = { authorization: 'Bearer t' };
    expect(await call('PUT', kv('a/b'), { value: 'v' }, auth)).toMatchObject({ status: 200, body: { key: 'a/b', acks: 2 } });
    expect(await call('GET', kv('a/b'), undefined, auth)).toMatchObject({ status: 200, body: { value: 'v' } });
    expect(await call('GET', kv('a/b'))).toMatchObject({ status: 401, body: { error: { code: 'KV_UNAUTHORIZED' } } });
    expect(await call('GET', '/kv/%zz', undefined, auth)).toMatchObject({ status: 400, body: { error: { code: 'KV_INVALID_KEY' } } });
    expect(await call('POST', '/batch', { ops: [{ op: 'get', key: 'a/b' }] }, auth)).toMatchObject({ status: 200 });
    expect(await call('GET', '/health')).toMatchObject({ status: 200 });
  });
});

describe('GET /health/ready', () => {
  test('200 with the counts while W data nodes are up, 503 KV_NOT_READY with them otherwise; /health stays 200', async () => {
    const ok = await fetch(`${proxy.base}/health/ready`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ready', nodesUp: 3, nodes: 3, writeQuorum: 2, joined: true });
    proxy.health.report('node1', false);
    proxy.health.report('node2', false);
    const down = await fetch(`${proxy.base}/health/ready`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: { code: 'KV_NOT_READY' }, nodesUp: 1, nodes: 3, required: 2 });
    expect((await fetch(`${proxy.base}/health`)).status).toBe(200);
  });
});

describe('the status page', () => {
  const page = '<!doctype html><title>kv</title>';
  const ui = (overrides: Partial<ProxyUi> = {}): ProxyUi => ({
    page: () => page,
    sources: {
      counts: (id) => (id === 'node1' ? { keys: 7, tombstones: 2 } : id === 'node2' ? { keys: 5 } : undefined),
      ring: () => ({ shares: { node1: 1 }, sharesAfter: { node1: 1 }, arcs: [{ start: 0, end: 1, node: 'node1' }], moving: [] }),
      hints: () => ({ pending: 3, bytes: 30, dropped: 0 }),
      now: () => 1234,
    },
    ...overrides,
  });
  const restart = async (options: Parameters<typeof startProxy>[0]): Promise<void> => {
    await closeServer(proxy.server, 100);
    proxy = await startProxy(options);
  };

  test('GET /ui serves the page as HTML that loads nothing from elsewhere, also with AUTH_TOKEN set', async () => {
    await restart({ ui: ui(), authToken: 'secret' });
    const answer = await call('GET', '/ui');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(page);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(answer.headers.get('content-security-policy')).toContain("connect-src 'self'");
  });

  test('GET /ui/state: nodes without URLs, with the keys and tombstones their probes reported, the ring, hints and route stats', async () => {
    await restart({ ui: ui() });
    await call('PUT', '/kv/a', { value: 'x' });
    const answer = await call('GET', '/ui/state');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ now: 1234, epoch: 1, replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128, change: null, hints: { pending: 3 } });
    expect(answer.body.nodes).toEqual([
      { id: 'node1', status: 'up', keys: 7, tombstones: 2 },
      { id: 'node2', status: 'up', keys: 5 },
      { id: 'node3', status: 'up' },
    ]);
    expect(answer.body.repair).toBeUndefined();
    expect(answer.body.ring.arcs).toEqual([{ start: 0, end: 1, node: 'node1' }]);
    expect(answer.body.stats).toMatchObject({ bucketSeconds: 2, times: expect.any(Array), routes: expect.any(Array) });
  });

  test('the requests answered are kept for the charts, but not the page\'s own', async () => {
    let now = 10_000;
    const { RouteStats } = await import('./ui/route-stats');
    await restart({ ui: ui({ stats: new RouteStats(() => now, 1000, 5) }) });
    await call('PUT', '/kv/a', { value: 'x' });
    await call('GET', '/kv/a');
    await call('GET', '/ui/state');
    now = 11_000;
    const routes = (await call('GET', '/ui/state')).body.stats.routes.map((series: { route: string }) => series.route);
    expect(routes).toEqual(['GET /kv/:key', 'PUT /kv/:key']);
  });

  test('a repair progress is shown when the proxy reports one', async () => {
    await restart({ ui: ui({ sources: { ...ui().sources, repair: () => ({ state: 'running', rangesDone: 3, rangesTotal: 8, purged: 1, bytes: 9 }) } }) });
    expect((await call('GET', '/ui/state')).body.repair).toEqual({ state: 'running', rangesDone: 3, rangesTotal: 8, purged: 1 });
  });

  test('with AUTH_TOKEN, GET /ui/state needs the token', async () => {
    await restart({ ui: ui(), authToken: 'secret' });
    expect(await call('GET', '/ui/state')).toMatchObject({ status: 401, body: { error: { code: 'KV_UNAUTHORIZED' } } });
    expect((await call('GET', '/ui/state', undefined, { authorization: 'Bearer secret' })).status).toBe(200);
  });

  test('a build without the page answers 404 saying how to get it; without the page wired, /ui is an unknown route', async () => {
    await restart({ ui: ui({ page: () => undefined }) });
    const missing = await call('GET', '/ui');
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'KV_NOT_FOUND' } } });
    expect(missing.body.error.message).toContain('nx build proxy');
    await restart({});
    expect((await call('GET', '/ui/state')).status).toBe(404);
  });

  test('GET /ui and /ui/state take no parameters', async () => {
    await restart({ ui: ui() });
    expect((await call('GET', '/ui?x=1')).status).toBe(400);
    expect((await call('GET', '/ui/state?x=1')).status).toBe(400);
  });
});
