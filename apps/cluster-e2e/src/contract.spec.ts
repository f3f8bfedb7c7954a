import { TestCluster, keepClusterFiles, request } from '@kv/testkit';
import { NodeClient, encodeKey } from '@kv/protocol';

const AUTH = 'public-token';
const CLUSTER = 'cluster-token';
const MAX_VALUE_BYTES = 2048;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodeEnv: { CLUSTER_TOKEN: CLUSTER, MAX_VALUE_BYTES: String(MAX_VALUE_BYTES) },
    proxyEnv: { CLUSTER_TOKEN: CLUSTER, AUTH_TOKEN: AUTH, MAX_VALUE_BYTES: String(MAX_VALUE_BYTES) },
  });
});

afterAll(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
});

const auth = { authorization: `Bearer ${AUTH}` };
const kv = (key: string): string => `/kv/${encodeKey(key)}`;

describe('the public API over real processes', () => {
  test('set, get, delete', async () => {
    const put = await request(cluster.proxyUrl, 'PUT', '/kv/hello', { value: 'world' }, auth);
    expect(put).toMatchObject({ status: 200, body: { key: 'hello', acks: 2, version: expect.any(String) } });
    expect(await request(cluster.proxyUrl, 'GET', '/kv/hello', undefined, auth)).toMatchObject({
      status: 200,
      body: { key: 'hello', value: 'world', version: put.body.version },
    });
    expect(await request(cluster.proxyUrl, 'DELETE', '/kv/hello', undefined, auth)).toMatchObject({ status: 200, body: { acks: 2 } });
    expect(await request(cluster.proxyUrl, 'GET', '/kv/hello', undefined, auth)).toMatchObject({
      status: 404,
      body: { error: { code: 'KV_NOT_FOUND' } },
    });
  });

  test.each([
    ['unicode', 'ключ 🔑 ü'],
    ['spaces', 'with spaces'],
    ['slashes', 'a/b/c'],
    ['question mark', 'who?'],
    ['hash', 'hash#tag'],
    ['percent', '%41'],
    ['dot', '.'],
    ['1024 bytes', 'x'.repeat(1024)],
  ])('a key with %s', async (_name, key) => {
    expect(await request(cluster.proxyUrl, 'PUT', kv(key), { value: `value of ${key.slice(0, 20)}` }, auth)).toMatchObject({
      status: 200,
      body: { key },
    });
    expect(await request(cluster.proxyUrl, 'GET', kv(key), undefined, auth)).toMatchObject({
      status: 200,
      body: { key, value: `value of ${key.slice(0, 20)}` },
    });
  });

  test.each([
    ['bad JSON', 'PUT', '/kv/a', '{"value":', auth, 400, 'KV_BAD_REQUEST'],
    ['non-string value', 'PUT', '/kv/a', { value: ['x'] }, auth, 400, 'KV_BAD_REQUEST'],
    ['1025-byte key', 'PUT', `/kv/${'k'.repeat(1025)}`, { value: 'v' }, auth, 400, 'KV_INVALID_KEY'],
    ['value over the limit', 'PUT', '/kv/a', { value: 'é'.repeat(MAX_VALUE_BYTES / 2 + 1) }, auth, 413, 'KV_TOO_LARGE'],
    ['unknown key', 'GET', '/kv/never-written', undefined, auth, 404, 'KV_NOT_FOUND'],
    ['missing token', 'GET', '/kv/a', undefined, {}, 401, 'KV_UNAUTHORIZED'],
    ['wrong token', 'PUT', '/kv/a', { value: 'v' }, { authorization: 'Bearer guess' }, 401, 'KV_UNAUTHORIZED'],
  ] as const)('%s', async (_name, method, route, body, headers, status, code) => {
    const res = await request(cluster.proxyUrl, method, route, body, headers);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
  });

  test('data nodes refuse internal requests without the cluster token, or with a wrong one', async () => {
    const node = cluster.node(0);
    for (const token of [undefined, 'wrong']) {
      const client = new NodeClient({ baseUrl: node.url, token });
      await expect(client.get('hello')).rejects.toMatchObject({ code: 'KV_UNAUTHORIZED', status: 401 });
      await expect(client.batch([['g', 'hello']])).rejects.toMatchObject({ code: 'KV_UNAUTHORIZED' });
      client.close();
    }
    const good = new NodeClient({ baseUrl: node.url, token: CLUSTER });
    await expect(good.batch([['g', 'never']])).resolves.toEqual([null]);
    good.close();
  });

  test('a proxy with a wrong cluster token cannot join: not ready, 503 to writes, and nothing is written', async () => {
    await cluster.restartProxy({ CLUSTER_TOKEN: 'not-the-token' }, false, { ready: false });
    try {
      expect(await request(cluster.proxyUrl, 'GET', '/health/ready')).toMatchObject({ status: 503, body: { error: { code: 'KV_NOT_READY' } } });
      const res = await request(cluster.proxyUrl, 'PUT', '/kv/forbidden', { value: 'v' }, auth);
      expect(res).toMatchObject({ status: 503, body: { error: { code: 'KV_NOT_READY' } } });
    } finally {
      await cluster.restartProxy({ CLUSTER_TOKEN: CLUSTER });
    }
    expect(await request(cluster.proxyUrl, 'GET', '/kv/forbidden', undefined, auth)).toMatchObject({ status: 404 });
  });

  test('batch, cluster, health and metrics', async () => {
    const batch = await request(
      cluster.proxyUrl,
      'POST',
      '/batch',
      { ops: [{ op: 'set', key: 'b1', value: '1' }, { op: 'get', key: 'b1' }, { op: 'del', key: 'b1' }, { op: 'get', key: 'b1' }] },
      auth,
    );
    expect(batch.body.results.map((r: { status: number }) => r.status)).toEqual([200, 200, 200, 404]);
    const info = await request(cluster.proxyUrl, 'GET', '/cluster');
    expect(info.body).toMatchObject({ replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128 });
    expect(info.body.nodes.map((n: { status: string }) => n.status)).toEqual(['up', 'up', 'up']);
    expect(await request(cluster.proxyUrl, 'GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const metrics = await request(cluster.proxyUrl, 'GET', '/metrics');
    expect(metrics.body).toContain('kv_http_requests_total');
    const nodeMetrics = await request(cluster.node(0).url, 'GET', '/metrics');
    expect(nodeMetrics.body).toContain('kv_wal_sync_seconds');
  });
});
