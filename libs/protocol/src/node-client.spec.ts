import type * as http from 'node:http';
import { ErrorCode } from './errors';
import { encodeInternalBatch } from './internal-codec';
import { InternalOp } from './internal-messages';
import { decodeKey } from './key';
import { transportFailureOf } from './http-endpoint';
import { NodeClient } from './node-client';
import { closedPort, RecordedRequest, sendJson, startTestServer, TestServer } from './testing/http-test-server';
import { kvErrorOfAsync } from './testing/kv-error-of';

const V1 = '0192f1a2b3c4-0000-proxy';
const V2 = '0192f1a2b3c5-0000-proxy';

/** A fake data node: answers batches by echoing one result per operation; special keys trigger errors. */
function nodeHandler(req: RecordedRequest, res: http.ServerResponse): void {
  const [path, query = ''] = req.url.split('?');
  if (req.headers.authorization !== 'Bearer cluster-secret' && path.startsWith('/internal')) {
    return sendJson(res, 401, { error: { code: 'KV_UNAUTHORIZED', message: 'missing or wrong token' } });
  }
  if (path === '/health') return sendJson(res, 200, { status: 'ok', nodeId: 'node1', keys: 3 });
  if (path === '/internal/batch') {
    const { ops } = JSON.parse(req.body) as { ops: InternalOp[] };
    if (ops.some((op) => op[1] === 'short')) return sendJson(res, 200, { results: [] });
    if (ops.some((op) => op[1] === 'slow')) return;
    if (ops.some((op) => op[1] === 'huge')) return sendJson(res, 200, { results: ['x'.repeat(5000)] });
    if (ops.some((op) => op[1] === 'cut')) {
      // Headers and part of the body, then the connection is dropped.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"results": [');
      return void setTimeout(() => res.socket?.destroy(), 20);
    }
    return sendJson(res, 200, {
      results: ops.map((op) => {
        if (op[0] === 's') return [1, op[3]];
        if (op[0] === 'd') return [0, V2];
        if (op[1] === 'bad') return { error: { code: 'KV_TOO_LARGE', message: 'value too large' } };
        return op[1] === 'gone' ? [V1, null] : op[1] === 'never' ? null : [V1, `value of ${op[1]}`];
      }),
    });
  }
  if (path.startsWith('/internal/kv/')) {
    const key = decodeKey(path.slice('/internal/kv/'.length));
    if (req.method === 'GET') {
      if (key === 'never') return sendJson(res, 404, { error: { code: 'KV_NOT_FOUND', message: 'no entry' } });
      if (key === 'foreign') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return void res.end('Cannot GET');
      }
      if (key === 'slow') return;
      return sendJson(res, 200, { key, value: 'v', version: V1, tombstone: false });
    }
    if (req.method === 'PUT') {
      const { version } = JSON.parse(req.body) as { version: string };
      return sendJson(res, 200, { key, applied: true, version });
    }
    if (req.method === 'DELETE') return sendJson(res, 200, { key, applied: false, version: V2, query });
  }
  sendJson(res, 404, { error: { code: 'KV_NOT_FOUND', message: 'no such route' } });
}

describe('NodeClient', () => {
  let server: TestServer;
  let client: NodeClient;

  beforeAll(async () => {
    server = await startTestServer(nodeHandler);
    client = new NodeClient({ baseUrl: server.url, token: 'cluster-secret', timeoutMs: 2000, maxSockets: 2 });
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  const last = (): RecordedRequest => server.requests[server.requests.length - 1];

  it('sends a batch and returns one result per operation', async () => {
    const ops: InternalOp[] = [
      ['s', 'a/b', 'v', V1],
      ['d', 'c', V1],
      ['g', 'e'],
      ['g', 'gone'],
      ['g', 'never'],
      ['g', 'bad'],
    ];
    const results = await client.batch(ops, { requestId: 'req-7' });
    expect(results).toEqual([
      [1, V1],
      [0, V2],
      [V1, 'value of e'],
      [V1, null],
      null,
      { error: { code: 'KV_TOO_LARGE', message: 'value too large' } },
    ]);
    const req = last();
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/internal/batch');
    expect(req.body).toBe(encodeInternalBatch(ops).toString('utf8'));
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer cluster-secret');
    expect(req.headers['x-request-id']).toBe('req-7');
    // The client's timeout: the node skips the batch once nobody waits for its answer.
    expect(req.headers['x-kv-deadline']).toBe('2000');
  });

  it('sends an already serialized body verbatim', async () => {
    const body = encodeInternalBatch([['g', 'x'], ['s', 'y', 'é', V1]]).toString('utf8');
    const results = await client.batchSerialized(body, 2, { timeoutMs: 123 });
    expect(results).toEqual([[V1, 'value of x'], [1, V1]]);
    expect(last().body).toBe(body);
    expect(last().headers['x-kv-deadline']).toBe('123');
  });

  it('throws KV_INTERNAL when the answer lacks results', async () => {
    const err = await kvErrorOfAsync(client.batch([['g', 'short']]));
    expect(err.code).toBe(ErrorCode.Internal);
    expect(err.message).toBe(`${server.url} answered a batch of 1 operations without one result per operation`);
  });

  it('throws the node error of a whole request', async () => {
    const anonymous = new NodeClient({ baseUrl: server.url });
    try {
      const err = await kvErrorOfAsync(anonymous.batch([['g', 'a']]));
      expect(err.code).toBe(ErrorCode.Unauthorized);
      expect(err.status).toBe(401);
      expect(last().headers.authorization).toBeUndefined();
    } finally {
      anonymous.close();
    }
  });

  it('gets an entry, or undefined when the node has none', async () => {
    await expect(client.get('a b')).resolves.toEqual({ key: 'a b', value: 'v', version: V1, tombstone: false });
    expect(last().url).toBe('/internal/kv/a%20b');
    await expect(client.get('never')).resolves.toBeUndefined();
  });

  it('does not take a 404 of something else for a missing key', async () => {
    expect((await kvErrorOfAsync(client.get('foreign'))).code).toBe(ErrorCode.Internal);
  });

  it('sets and deletes at a version', async () => {
    await expect(client.set('k', 'v', V1)).resolves.toEqual({ key: 'k', applied: true, version: V1 });
    expect(last().method).toBe('PUT');
    expect(JSON.parse(last().body)).toEqual({ value: 'v', version: V1 });
    const deleted = await client.delete('k/1', V1);
    expect(deleted).toMatchObject({ key: 'k/1', applied: false, version: V2 });
    expect(last().method).toBe('DELETE');
    expect(last().url).toBe(`/internal/kv/k%2F1?version=${V1}`);
  });

  it('validates key and version of single operations before sending', async () => {
    const before = server.requests.length;
    expect((await kvErrorOfAsync(client.set('', 'v', V1))).code).toBe(ErrorCode.InvalidKey);
    expect((await kvErrorOfAsync(client.delete('k', 'not-a-version'))).code).toBe(ErrorCode.BadRequest);
    expect(server.requests.length).toBe(before);
  });

  it('reads the node health', async () => {
    await expect(client.health()).resolves.toEqual({ status: 'ok', nodeId: 'node1', keys: 3 });
  });

  it('keeps at most maxSockets connections and reuses them', async () => {
    const before = server.requests.length;
    await Promise.all(Array.from({ length: 8 }, () => client.health()));
    await client.health();
    const ports = new Set(server.requests.slice(before).map((r) => r.remotePort));
    expect(ports.size).toBeLessThanOrEqual(2);
  });

  it('reports a timeout of a batch as KV_UNAVAILABLE naming the node; the request may have reached it', async () => {
    const err = await kvErrorOfAsync(client.batch([['g', 'slow']], { timeoutMs: 100 }));
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toBe(`${server.url} did not answer within 100 ms`);
    expect(transportFailureOf(err)).toEqual({ reason: 'timeout', mayHaveReachedServer: true });
  });

  it('reports a timeout of other requests the same way, with the axios error as cause', async () => {
    const err = await kvErrorOfAsync(client.get('slow', { timeoutMs: 100 }));
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toBe(`${server.url} did not answer within 100 ms`);
    expect((err.cause as { isAxiosError?: boolean }).isAxiosError).toBe(true);
  });
});

describe('NodeClient batch failures', () => {
  let server: TestServer;
  let client: NodeClient;

  beforeAll(async () => {
    server = await startTestServer(nodeHandler);
    client = new NodeClient({ baseUrl: server.url, token: 'cluster-secret', timeoutMs: 2000, responseBytesMax: 1000 });
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('an answer over responseBytesMax is KV_TOO_LARGE, and the connection pool still serves', async () => {
    const err = await kvErrorOfAsync(client.batch([['g', 'huge']]));
    expect(err.code).toBe(ErrorCode.TooLarge);
    expect(err.message).toMatch(/answered with a body over the client's limit \(maxContentLength size of 1000 exceeded\)/);
    expect(transportFailureOf(err)).toEqual({ reason: 'too-large', mayHaveReachedServer: true });
    await expect(client.batch([['g', 'a']])).resolves.toEqual([[V1, 'value of a']]);
  });

  it('a connection dropped in the middle of the answer is KV_UNAVAILABLE; the request may have reached the node', async () => {
    const err = await kvErrorOfAsync(client.batch([['g', 'cut']]));
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toMatch(new RegExp(`^cannot reach ${server.url}: `));
    expect(transportFailureOf(err)).toEqual({ reason: 'unreachable', mayHaveReachedServer: true });
  });

  it('a cancelled batch is KV_UNAVAILABLE at once; one cancelled before it starts never reached the node', async () => {
    const controller = new AbortController();
    const pending = kvErrorOfAsync(client.batch([['g', 'slow']], { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    const err = await pending;
    expect(err.message).toBe(`the request to ${server.url} was cancelled`);
    expect(transportFailureOf(err)?.reason).toBe('cancelled');
    const before = server.requests.length;
    const early = await kvErrorOfAsync(client.batch([['g', 'a']], { signal: AbortSignal.abort() }));
    expect(transportFailureOf(early)).toEqual({ reason: 'cancelled', mayHaveReachedServer: false });
    expect(server.requests.length).toBe(before);
  });

  it('sends the token, the deadline and the request id, with the body as JSON', async () => {
    await client.batch([['g', 'a']], { requestId: 'req-9', timeoutMs: 1500 });
    const last = server.requests[server.requests.length - 1];
    expect(last.headers).toMatchObject({
      authorization: 'Bearer cluster-secret',
      'content-type': 'application/json',
      'x-kv-deadline': '1500',
      'x-request-id': 'req-9',
    });
    expect(JSON.parse(last.body)).toEqual({ ops: [['g', 'a']] });
  });
});

describe('NodeClient deadline', () => {
  it('counts the time spent waiting for a free socket', async () => {
    const server = await startTestServer(() => undefined);
    const client = new NodeClient({ baseUrl: server.url, maxSockets: 1, timeoutMs: 2000 });
    try {
      const hanging = kvErrorOfAsync(client.health({ timeoutMs: 400 }));
      const started = Date.now();
      const queued = await kvErrorOfAsync(client.health({ timeoutMs: 100 }));
      expect(queued.code).toBe(ErrorCode.Unavailable);
      expect(Date.now() - started).toBeLessThan(350);
      expect((await hanging).code).toBe(ErrorCode.Unavailable);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('NodeClient without a node', () => {
  it('reports a refused connection as KV_UNAVAILABLE naming the node', async () => {
    const port = await closedPort();
    const client = new NodeClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 500 });
    try {
      const err = await kvErrorOfAsync(client.batch([['g', 'a']]));
      expect(err.code).toBe(ErrorCode.Unavailable);
      expect(err.message).toBe(`cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
      expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED');
      expect(transportFailureOf(err)).toEqual({ reason: 'unreachable', mayHaveReachedServer: false });
      const viaAxios = await kvErrorOfAsync(client.health());
      expect(viaAxios.message).toBe(err.message);
    } finally {
      client.close();
    }
  });
});
