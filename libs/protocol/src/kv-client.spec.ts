import { decodeKey } from './key';
import { KvClient } from './kv-client';
import { ErrorCode } from './errors';
import { closedPort, RecordedRequest, sendJson, startTestServer, TestServer } from './testing/http-test-server';
import { kvErrorOfAsync } from './testing/kv-error-of';
import type * as http from 'node:http';

const VERSION = '0192f1a2b3c4-0000-proxy';

/** A fake proxy: answers by route, with a few special keys that trigger errors. */
function proxyHandler(req: RecordedRequest, res: http.ServerResponse): void {
  const [path, query = ''] = req.url.split('?');
  if (path === '/health') return sendJson(res, 200, { status: 'ok' });
  if (path === '/cluster') {
    return sendJson(res, 200, {
      nodes: [{ id: 'node1', url: 'http://127.0.0.1:8001', status: 'up' }],
      replicas: 3,
      writeQuorum: 2,
      readQuorum: 2,
      vnodes: 128,
    });
  }
  if (path === '/batch') {
    const { ops } = JSON.parse(req.body) as { ops: { op: string; key: string }[] };
    return sendJson(res, 200, {
      results: ops.map((op) =>
        op.op === 'get'
          ? { status: 404, error: { code: 'KV_NOT_FOUND', message: 'key not found' } }
          : { status: 200, key: op.key, version: VERSION, acks: 2 },
      ),
    });
  }
  if (path.startsWith('/kv/')) {
    const key = decodeKey(path.slice('/kv/'.length));
    if (key === 'missing') return sendJson(res, 404, { error: { code: 'KV_NOT_FOUND', message: 'key not found' } });
    if (key === 'quorum') {
      return sendJson(res, 503, {
        error: { code: 'KV_QUORUM_FAILED', message: 'write quorum not reached: 1 of 2 replicas acknowledged' },
        acks: 1,
        required: 2,
      });
    }
    if (key === 'bug') return sendJson(res, 500, { error: { code: 'KV_INTERNAL', message: 'internal error' } });
    if (key === 'gateway') {
      res.writeHead(502, { 'content-type': 'text/html' });
      return void res.end('<html>bad gateway</html>');
    }
    if (key === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"key":');
    }
    if (key === 'slow') return; // never answers
    if (req.method === 'GET') return sendJson(res, 200, { key, value: `value of ${key}`, version: VERSION, query });
    if (req.method === 'PUT') {
      const { ttl } = JSON.parse(req.body) as { ttl?: number };
      return sendJson(res, 200, ttl === undefined ? { key, version: VERSION, acks: 2 } : { key, version: VERSION, acks: 2, expiresAt: 1000 * ttl });
    }
    if (req.method === 'DELETE') return sendJson(res, 200, { key, version: VERSION, acks: 3 });
  }
  sendJson(res, 404, { error: { code: 'KV_NOT_FOUND', message: 'no such route' } });
}

describe('KvClient', () => {
  let server: TestServer;
  let client: KvClient;

  beforeAll(async () => {
    server = await startTestServer(proxyHandler);
    client = new KvClient({ baseUrl: server.url, token: 'secret', timeoutMs: 2000 });
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  const last = (): RecordedRequest => server.requests[server.requests.length - 1];

  it('sets a value', async () => {
    await expect(client.set('user:42', 'Ada', { w: 3, requestId: 'req-1' })).resolves.toEqual({
      key: 'user:42',
      version: VERSION,
      acks: 2,
    });
    const req = last();
    expect(req.method).toBe('PUT');
    expect(req.url).toBe('/kv/user%3A42?w=3');
    expect(JSON.parse(req.body)).toEqual({ value: 'Ada' });
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer secret');
    expect(req.headers['x-request-id']).toBe('req-1');
    expect(req.headers['accept-encoding']).toBe('identity');
  });

  it('sets a value that expires: sends "ttl" and returns expiresAt; refuses a bad ttl before sending', async () => {
    await expect(client.set('session', 'S', { ttl: 30 })).resolves.toEqual({ key: 'session', version: VERSION, acks: 2, expiresAt: 30_000 });
    expect(JSON.parse(last().body)).toEqual({ value: 'S', ttl: 30 });
    const sent = server.requests.length;
    for (const ttl of [0, -1, 1.5, 315_360_001]) {
      await expect(client.set('session', 'S', { ttl })).rejects.toMatchObject({ code: ErrorCode.BadRequest });
    }
    expect(server.requests.length).toBe(sent);
  });

  it('gets a value', async () => {
    const answer = await client.get('user:42', { r: 1 });
    expect(answer).toMatchObject({ key: 'user:42', value: 'value of user:42', version: VERSION });
    expect(last().url).toBe('/kv/user%3A42?r=1');
    expect(last().headers['content-type']).toBeUndefined();
    expect(last().headers['x-request-id']).toBeUndefined();
  });

  it('deletes a key', async () => {
    await expect(client.delete('user:42')).resolves.toEqual({ key: 'user:42', version: VERSION, acks: 3 });
    expect(last().method).toBe('DELETE');
    expect(last().url).toBe('/kv/user%3A42');
  });

  it.each(['a/b', 'a?b=c', 'a#b', 'a b', 'café', '😀', '100%', '%2F', 'a+b', '.', '..', '../etc', "it's (1)*!~"])(
    'sends the key %j as one segment, intact',
    async (key) => {
      const answer = await client.get(key);
      expect(answer.key).toBe(key);
      const path = last().url.split('?')[0];
      expect(path.startsWith('/kv/')).toBe(true);
      expect(path.slice('/kv/'.length)).not.toContain('/');
      expect(decodeKey(path.slice('/kv/'.length))).toBe(key);
    },
  );

  it('reuses its connection', async () => {
    await client.health();
    await client.health();
    const [a, b] = server.requests.slice(-2);
    expect(a.remotePort).toBe(b.remotePort);
  });

  it('throws KV_NOT_FOUND for a missing key', async () => {
    const err = await kvErrorOfAsync(client.get('missing'));
    expect(err.code).toBe(ErrorCode.NotFound);
    expect(err.status).toBe(404);
    expect(err.message).toBe('key not found');
  });

  it('throws KV_QUORUM_FAILED with acks and required', async () => {
    const err = await kvErrorOfAsync(client.set('quorum', 'v'));
    expect(err.code).toBe(ErrorCode.QuorumFailed);
    expect(err.status).toBe(503);
    expect(err.details).toEqual({ acks: 1, required: 2 });
  });

  it('throws the server code of any error', async () => {
    const err = await kvErrorOfAsync(client.get('bug'));
    expect(err.code).toBe(ErrorCode.Internal);
    expect(err.status).toBe(500);
  });

  it('classifies an error answer without a kv body by status', async () => {
    const err = await kvErrorOfAsync(client.get('gateway'));
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.status).toBe(502);
    expect(err.message).toBe(`${server.url} answered 502 without a kv error body`);
  });

  it('throws KV_INTERNAL for a success answer that is not JSON', async () => {
    const err = await kvErrorOfAsync(client.get('garbage'));
    expect(err.code).toBe(ErrorCode.Internal);
    expect(err.message).toContain(server.url);
  });

  it('validates the key before sending', async () => {
    const before = server.requests.length;
    expect((await kvErrorOfAsync(client.get(''))).code).toBe(ErrorCode.InvalidKey);
    expect((await kvErrorOfAsync(client.set('k'.repeat(1025), 'v'))).code).toBe(ErrorCode.InvalidKey);
    expect(server.requests.length).toBe(before);
  });

  it('rejects programmer mistakes with TypeError', async () => {
    await expect(client.get('k', { r: 0 })).rejects.toThrow(TypeError);
    await expect(client.set('k', 5 as unknown as string)).rejects.toThrow(TypeError);
    await expect(client.get('k', { requestId: 'has space' })).rejects.toThrow(TypeError);
    expect(() => new KvClient({ baseUrl: 'localhost:8000' })).toThrow(TypeError);
    expect(() => new KvClient({ baseUrl: 'ftp://h' })).toThrow(TypeError);
    expect(() => new KvClient({ baseUrl: 'http://h', maxSockets: 0 })).toThrow(TypeError);
  });

  it('runs a batch', async () => {
    const answer = await client.batch(
      [
        { op: 'set', key: 'a', value: '1' },
        { op: 'get', key: 'b' },
        { op: 'del', key: 'c' },
      ],
      { w: 2, r: 1 },
    );
    expect(answer.results).toEqual([
      { status: 200, key: 'a', version: VERSION, acks: 2 },
      { status: 404, error: { code: 'KV_NOT_FOUND', message: 'key not found' } },
      { status: 200, key: 'c', version: VERSION, acks: 2 },
    ]);
    expect(last().method).toBe('POST');
    expect(last().url).toBe('/batch?w=2&r=1');
    expect(JSON.parse(last().body)).toEqual({
      ops: [
        { op: 'set', key: 'a', value: '1' },
        { op: 'get', key: 'b' },
        { op: 'del', key: 'c' },
      ],
    });
  });

  it('refuses a batch over the limit before sending', async () => {
    const ops = new Array(1001).fill({ op: 'get', key: 'a' });
    expect((await kvErrorOfAsync(client.batch(ops))).code).toBe(ErrorCode.BadRequest);
  });

  it('reads the cluster and the health', async () => {
    await expect(client.cluster()).resolves.toEqual({
      nodes: [{ id: 'node1', url: 'http://127.0.0.1:8001', status: 'up' }],
      replicas: 3,
      writeQuorum: 2,
      readQuorum: 2,
      vnodes: 128,
    });
    await expect(client.health()).resolves.toEqual({ status: 'ok' });
  });

  it('reports a timeout as KV_UNAVAILABLE naming the server', async () => {
    const started = Date.now();
    const err = await kvErrorOfAsync(client.get('slow', { timeoutMs: 100 }));
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toBe(`${server.url} did not answer within 100 ms`);
    expect(err.cause).toBeDefined();
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('reports a cancelled request as KV_UNAVAILABLE', async () => {
    const controller = new AbortController();
    const pending = client.get('slow', { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const err = await kvErrorOfAsync(pending);
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toContain('cancelled');
  });

  it('sends the first token of a comma-separated list (a rotation), and refuses an unusable token', async () => {
    const rotating = new KvClient({ baseUrl: server.url, token: ' new-token , old-token', timeoutMs: 2000 });
    try {
      await rotating.health();
      expect(last().headers.authorization).toBe('Bearer new-token');
    } finally {
      rotating.close();
    }
    for (const token of ['', 'two words', 'a,,b', 'a,b c', 'tök']) {
      expect(() => new KvClient({ baseUrl: server.url, token })).toThrow('token must be a non-empty string of visible ASCII characters');
    }
  });

  it('sends no authorization header without a token, and keeps a base path', async () => {
    const anonymous = new KvClient({ baseUrl: `${server.url}/`, timeoutMs: 2000 });
    try {
      await anonymous.health();
      expect(last().headers.authorization).toBeUndefined();
      expect(anonymous.url).toBe(server.url);
    } finally {
      anonymous.close();
    }
    const prefixed = new KvClient({ baseUrl: `${server.url}/api/`, timeoutMs: 2000 });
    try {
      await kvErrorOfAsync(prefixed.health());
      expect(last().url).toBe('/api/health');
    } finally {
      prefixed.close();
    }
  });
});

describe('KvClient without a server', () => {
  it('reports a refused connection as KV_UNAVAILABLE naming the server and the reason', async () => {
    const port = await closedPort();
    const client = new KvClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    try {
      const err = await kvErrorOfAsync(client.get('k'));
      expect(err.code).toBe(ErrorCode.Unavailable);
      expect(err.message).toBe(`cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
      expect(err.cause).toBeInstanceOf(Error);
    } finally {
      client.close();
    }
  });

  it('fails every call after close with KV_UNAVAILABLE', async () => {
    const client = new KvClient({ baseUrl: 'http://127.0.0.1:1' });
    client.close();
    client.close();
    const err = await kvErrorOfAsync(client.health());
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toBe('the client of http://127.0.0.1:1 is closed');
  });
});
