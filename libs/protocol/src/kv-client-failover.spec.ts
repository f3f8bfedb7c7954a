import type * as http from 'node:http';
import { ErrorCode } from './errors';
import { isOutcomeUnknown, proxyErrorsOf } from './failover-errors';
import { CLIENT_SERVERS_MAX, KvClient } from './kv-client';
import { isKvError } from './kv-error';
import { closedPort, RecordedRequest, sendJson, startTestServer, TestServer } from './testing/http-test-server';
import { kvErrorOfAsync } from './testing/kv-error-of';
import { startUnacceptingServer } from './testing/unaccepting-server';

const VERSION = '0192f1a2b3c4-0000-proxy';

/** A healthy proxy: every key has a value, every write succeeds. */
function healthy(req: RecordedRequest, res: http.ServerResponse): void {
  const path = req.url.split('?')[0];
  if (path === '/health') return sendJson(res, 200, { status: 'ok' });
  if (path === '/health/ready') {
    return sendJson(res, 200, { status: 'ready', nodesUp: 3, nodes: 3, writeQuorum: 2, joined: true });
  }
  if (path === '/cluster') {
    return sendJson(res, 200, { nodes: [], replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128 });
  }
  if (path === '/batch') {
    const { ops } = JSON.parse(req.body) as { ops: { key: string }[] };
    return sendJson(res, 200, { results: ops.map((op) => ({ status: 200, key: op.key, value: 'v', version: VERSION })) });
  }
  const key = decodeURIComponent(path.slice('/kv/'.length));
  if (req.method === 'GET') return sendJson(res, 200, { key, value: `value of ${key}`, version: VERSION });
  sendJson(res, 200, { key, version: VERSION, acks: 2 });
}

type Handler = (req: RecordedRequest, res: http.ServerResponse) => void;

/** A proxy that answers every request but `/health` with `status` and the error body of `code`. */
function answering(status: number, code: string, extra: object = {}): Handler {
  return (req, res) => {
    if (req.url === '/health') return sendJson(res, 200, { status: 'ok' });
    sendJson(res, status, { error: { code, message: `${code} from this proxy` }, ...extra });
  };
}

/** Accepts the connection, reads the whole request, then destroys the connection without answering. */
function hangingUp(_req: RecordedRequest, res: http.ServerResponse): void {
  res.destroy();
}

/** Reads the whole request and never answers. */
function silent(): void {
  // no answer
}

describe('KvClient with several proxies', () => {
  let cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    for (const cleanup of pending) await cleanup();
  });

  const server = async (handler: (req: RecordedRequest, res: http.ServerResponse) => void): Promise<TestServer> => {
    const started = await startTestServer(handler);
    cleanups.push(() => started.close());
    return started;
  };
  const refusing = async (): Promise<string> => `http://127.0.0.1:${await closedPort()}`;
  const client = (baseUrl: string | string[], options: { timeoutMs?: number; maxSockets?: number } = {}): KvClient => {
    const created = new KvClient({ baseUrl, timeoutMs: options.timeoutMs ?? 2000, maxSockets: options.maxSockets });
    cleanups.push(() => created.close());
    return created;
  };

  describe('failover when a proxy cannot be reached', () => {
    it('sends a read to the next proxy when the connection is refused, and that proxy becomes current', async () => {
      const down = await refusing();
      const up = await server(healthy);
      const kv = client(`${down},${up.url}`);
      expect(kv.url).toBe(down);
      await expect(kv.get('k')).resolves.toMatchObject({ key: 'k', value: 'value of k' });
      expect(kv.url).toBe(up.url);
      expect(up.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /kv/k']);
    });

    it('resends a write whose connection was refused, exactly once', async () => {
      const down = await refusing();
      const up = await server(healthy);
      const kv = client([down, up.url]);
      await expect(kv.set('k', 'v')).resolves.toEqual({ key: 'k', version: VERSION, acks: 2 });
      await expect(kv.delete('k')).resolves.toMatchObject({ key: 'k' });
      expect(up.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
        'PUT /kv/k {"value":"v"}',
        'DELETE /kv/k ',
      ]);
    });

    it('resends a write whose connect timed out (the connection was never made)', async () => {
      const unaccepting = await startUnacceptingServer();
      cleanups.push(() => unaccepting.close());
      const up = await server(healthy);
      const kv = client([unaccepting.url, up.url], { timeoutMs: 300 });
      const started = Date.now();
      await expect(kv.set('k', 'v')).resolves.toMatchObject({ key: 'k', acks: 2 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(up.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /kv/k']);
      expect(kv.url).toBe(up.url);
    });

    it('resends a write that was still waiting for a pooled socket when it timed out', async () => {
      const busy = await server(silent);
      const up = await server(healthy);
      const kv = client([busy.url, up.url], { maxSockets: 1 });
      // The only socket to the first proxy is taken by a read that will not be answered there.
      const read = kv.get('slow', { timeoutMs: 1500 });
      await waitFor(() => busy.requests.length === 1);
      await expect(kv.set('k', 'v', { timeoutMs: 200 })).resolves.toMatchObject({ key: 'k' });
      expect(busy.requests.map((r) => r.url)).toEqual(['/kv/slow']);
      expect(up.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /kv/k']);
      await expect(read).resolves.toMatchObject({ key: 'slow' });
    });
  });

  describe('a write that may have reached a proxy', () => {
    it('is not resent when the proxy read it and dropped the connection, and its outcome is unknown', async () => {
      const dropping = await server(hangingUp);
      const up = await server(healthy);
      const kv = client([dropping.url, up.url]);
      const err = await kvErrorOfAsync(kv.set('k', 'v'));
      expect(err.code).toBe(ErrorCode.Unavailable);
      expect(err.message).toBe(`cannot reach ${dropping.url}: socket hang up`);
      expect(isOutcomeUnknown(err)).toBe(true);
      expect(dropping.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /kv/k']);
      expect(up.requests).toHaveLength(0);
      expect(proxyErrorsOf(err)).toEqual([{ url: dropping.url, error: err }]);
      expect(kv.url).toBe(dropping.url);
    });

    it('is not resent when the proxy does not answer in time (the code of a connect timeout, after connecting)', async () => {
      const hung = await server(silent);
      const up = await server(healthy);
      const kv = client([hung.url, up.url], { timeoutMs: 300 });
      const err = await kvErrorOfAsync(kv.delete('k'));
      expect(err.code).toBe(ErrorCode.Unavailable);
      expect(err.message).toBe(`${hung.url} did not answer within 300 ms`);
      expect(isOutcomeUnknown(err)).toBe(true);
      expect(up.requests).toHaveLength(0);
    });

    it('is not resent after a 5xx answer but KV_NOT_READY; the outcome is unknown unless the proxy says it did nothing', async () => {
      const quorum = await server(answering(503, 'KV_QUORUM_FAILED', { acks: 1, required: 2 }));
      const notReady = await server(answering(503, 'KV_NOT_READY'));
      const gateway = await server(answering(502, 'KV_UNAVAILABLE'));
      const up = await server(healthy);

      const failed = await kvErrorOfAsync(client([quorum.url, up.url]).set('k', 'v'));
      expect(failed.code).toBe(ErrorCode.QuorumFailed);
      expect(failed.details).toEqual({ acks: 1, required: 2 });
      expect(isOutcomeUnknown(failed)).toBe(true);

      // Not ready: the proxy refused before it did anything, so the next one takes the write.
      await client([notReady.url, up.url]).set('k', 'v');
      expect(up.requests).toHaveLength(1);
      const refused = await kvErrorOfAsync(client([notReady.url]).set('k', 'v'));
      expect(refused.code).toBe(ErrorCode.NotReady);
      expect(isOutcomeUnknown(refused)).toBe(false);

      const batch = client([gateway.url, up.url]).batch([{ op: 'set', key: 'k', value: 'v' }]);
      const behindGateway = await kvErrorOfAsync(batch);
      expect(behindGateway.status).toBe(502);
      expect(isOutcomeUnknown(behindGateway)).toBe(true);

      // Only the write refused as not ready went on to the next proxy.
      expect(up.requests).toHaveLength(1);
    });

    it('is a read when it only gets: a batch of gets fails over, a batch with a write does not', async () => {
      const dropping = await server(hangingUp);
      const up = await server(healthy);
      const kv = client([dropping.url, up.url]);
      await expect(kv.batch([{ op: 'get', key: 'a' }])).resolves.toMatchObject({ results: [{ status: 200, key: 'a' }] });
      expect(kv.url).toBe(up.url);
      const other = client([dropping.url, up.url]);
      const err = await kvErrorOfAsync(other.batch([{ op: 'get', key: 'a' }, { op: 'del', key: 'b' }]));
      expect(isOutcomeUnknown(err)).toBe(true);
      expect(up.requests).toHaveLength(1);
    });
  });

  describe('answers', () => {
    it.each([
      [400, 'KV_BAD_REQUEST'],
      [401, 'KV_UNAUTHORIZED'],
      [404, 'KV_NOT_FOUND'],
      [413, 'KV_TOO_LARGE'],
    ])('never fail over on a %i, for reads and writes', async (status, code) => {
      const refusing4xx = await server(answering(status, code));
      const up = await server(healthy);
      const kv = client([refusing4xx.url, up.url]);
      for (const call of [() => kv.get('k'), () => kv.set('k', 'v'), () => kv.delete('k')]) {
        const err = await kvErrorOfAsync(call());
        expect(err.code).toBe(code);
        expect(err.status).toBe(status);
        expect(isOutcomeUnknown(err)).toBe(false);
      }
      expect(refusing4xx.requests).toHaveLength(3);
      expect(up.requests).toHaveLength(0);
    });

    it('fail a read over on 502, 503 and 504, not on 500', async () => {
      const gateways = [
        await server(answering(502, 'KV_UNAVAILABLE')),
        await server(answering(503, 'KV_QUORUM_FAILED', { acks: 1, required: 2 })),
        await server(answering(504, 'KV_UNAVAILABLE')),
      ];
      const up = await server(healthy);
      const kv = client([...gateways.map((g) => g.url), up.url]);
      await expect(kv.get('k')).resolves.toMatchObject({ value: 'value of k' });
      expect(gateways.map((g) => g.requests.length)).toEqual([1, 1, 1]);

      const bug = await server(answering(500, 'KV_INTERNAL'));
      const err = await kvErrorOfAsync(client([bug.url, up.url]).get('k'));
      expect(err.code).toBe(ErrorCode.Internal);
      expect(up.requests).toHaveLength(1);
    });

    it('fail a read over when the proxy drops the connection or does not answer in time', async () => {
      const dropping = await server(hangingUp);
      const hung = await server(silent);
      const up = await server(healthy);
      const kv = client([dropping.url, hung.url, up.url], { timeoutMs: 300 });
      await expect(kv.get('k')).resolves.toMatchObject({ value: 'value of k' });
      expect([dropping.requests.length, hung.requests.length, up.requests.length]).toEqual([1, 1, 1]);
    });
  });

  describe('the current proxy', () => {
    it('stays the one that answered after a failover (sticky)', async () => {
      const notReady = await server(answering(503, 'KV_NOT_READY'));
      const up = await server(healthy);
      const kv = client([notReady.url, up.url]);
      expect(kv.urls).toEqual([notReady.url, up.url]);
      await kv.get('a');
      await kv.get('b');
      await kv.set('c', 'v');
      expect(notReady.requests).toHaveLength(1);
      expect(up.requests.map((r) => r.url)).toEqual(['/kv/a', '/kv/b', '/kv/c']);
      expect(kv.url).toBe(up.url);
    });

    it('moves on from the current proxy when it fails, wrapping around the list', async () => {
      const first = await server(healthy);
      const second = await server(healthy);
      const kv = client([first.url, second.url]);
      await first.close();
      await kv.get('a');
      expect(kv.url).toBe(second.url);
      await second.close();
      const err = await kvErrorOfAsync(kv.get('b'));
      expect(proxyErrorsOf(err).map((e) => e.url)).toEqual([second.url, first.url]);
    });

    it('ready() fails over to a ready proxy and makes it current', async () => {
      const notReady = await server(answering(503, 'KV_NOT_READY', { nodesUp: 1, nodes: 3, required: 2 }));
      const up = await server(healthy);
      const kv = client([notReady.url, up.url]);
      await expect(kv.ready()).resolves.toEqual({ status: 'ready', nodesUp: 3, nodes: 3, writeQuorum: 2, joined: true });
      expect(kv.url).toBe(up.url);
      expect(notReady.requests.map((r) => r.url)).toEqual(['/health/ready']);
    });

    it('probeServers() asks every proxy once, without failover, and makes the first that answered current', async () => {
      const down = await refusing();
      const second = await server(healthy);
      const third = await server(healthy);
      const kv = client([down, second.url, third.url]);
      const probes = await kv.probeServers();
      expect(probes.map((p) => ({ url: p.url, answered: p.answered, current: p.current }))).toEqual([
        { url: down, answered: false, current: false },
        { url: second.url, answered: true, current: true },
        { url: third.url, answered: true, current: false },
      ]);
      const [failed, answered] = probes;
      expect(failed.answered === false && failed.error.code).toBe(ErrorCode.Unavailable);
      expect(answered.answered === true && answered.health).toEqual({ status: 'ok' });
      expect(kv.url).toBe(second.url);
      expect([second.requests.length, third.requests.length]).toEqual([1, 1]);
    });

    it('probeServers() keeps the current proxy when it answered', async () => {
      const first = await server(healthy);
      const second = await server(healthy);
      const kv = client([first.url, second.url]);
      expect((await kv.probeServers()).map((p) => p.current)).toEqual([true, false]);
      await first.close();
      await kv.get('k');
      expect((await kv.probeServers()).map((p) => [p.answered, p.current])).toEqual([
        [false, false],
        [true, true],
      ]);
      expect(kv.url).toBe(second.url);
    });
  });

  describe('when every proxy fails', () => {
    it('is KV_UNAVAILABLE naming each proxy when none answered', async () => {
      const a = await refusing();
      const b = await refusing();
      const kv = client(`${a}, ${b}`);
      for (const call of [() => kv.get('k'), () => kv.set('k', 'v')]) {
        const err = await kvErrorOfAsync(call());
        expect(err.code).toBe(ErrorCode.Unavailable);
        const reasons = `cannot reach ${escape(a)}: .*ECONNREFUSED.*; cannot reach ${escape(b)}: .*ECONNREFUSED`;
        expect(err.message).toMatch(new RegExp(`^none of 2 proxies answered: ${reasons}`));
        expect(isOutcomeUnknown(err)).toBe(false);
        const errors = proxyErrorsOf(err);
        expect(errors.map((e) => e.url)).toEqual([a, b]);
        expect(errors.every((e) => isKvError(e.error, ErrorCode.Unavailable))).toBe(true);
        expect(err.cause).toBe(errors[1].error);
      }
      expect(kv.url).toBe(a);
    });

    it('has the code of the last answer when some proxy answered', async () => {
      const notReady = await server(answering(503, 'KV_NOT_READY'));
      const quorum = await server(answering(503, 'KV_QUORUM_FAILED', { acks: 0, required: 2 }));
      const down = await refusing();
      const kv = client([notReady.url, quorum.url, down]);
      const err = await kvErrorOfAsync(kv.get('k'));
      expect(err.code).toBe(ErrorCode.QuorumFailed);
      expect(err.status).toBe(503);
      expect(err.message).toBe('KV_QUORUM_FAILED from this proxy');
      expect(proxyErrorsOf(err).map((e) => [e.url, e.error.code])).toEqual([
        [notReady.url, 'KV_NOT_READY'],
        [quorum.url, 'KV_QUORUM_FAILED'],
        [down, 'KV_UNAVAILABLE'],
      ]);
      expect(kv.url).toBe(notReady.url);
    });

    it('is, with a single proxy, that proxy\'s own error, as before', async () => {
      const down = await refusing();
      const kv = client(down);
      const err = await kvErrorOfAsync(kv.get('k'));
      expect(err.message).toBe(`cannot reach ${down}: connect ECONNREFUSED ${down.slice('http://'.length)}`);
      expect(proxyErrorsOf(err)).toEqual([{ url: down, error: err }]);
      expect(isOutcomeUnknown(err)).toBe(false);
    });
  });

  describe('the list of proxies', () => {
    it('accepts a comma-separated string or an array, and normalizes each URL', async () => {
      expect(client(' http://a:8000/ ,http://b:80/api/').urls).toEqual(['http://a:8000', 'http://b/api']);
      expect(client(['http://a:8000', 'https://b']).urls).toEqual(['http://a:8000', 'https://b']);
      expect(client('http://a').urls).toEqual(['http://a']);
    });

    it.each([
      ['the same proxy twice', 'http://a:8000,http://b,http://a:8000/', 'baseUrl names http://a:8000 twice'],
      ['a default port written out', ['http://a', 'http://a:80'], 'baseUrl names http://a twice'],
      ['an empty entry', 'http://a,', 'baseUrl has an empty entry: "http://a,"'],
      ['no proxy', [], 'baseUrl names no proxy'],
      ['a list inside an entry', ['http://a,http://b'], 'each entry of baseUrl is one URL, got "http://a,http://b"'],
      ['something that is not a URL', 'http://a,b:8000', 'baseUrl must be an http(s) URL'],
      [
        `more than ${CLIENT_SERVERS_MAX} proxies`,
        Array.from({ length: CLIENT_SERVERS_MAX + 1 }, (_, i) => `http://h${i}`),
        `baseUrl names at most ${CLIENT_SERVERS_MAX} proxies, got ${CLIENT_SERVERS_MAX + 1}`,
      ],
    ])('refuses %s with a TypeError', (_what, baseUrl, message) => {
      expect(() => new KvClient({ baseUrl })).toThrow(TypeError);
      expect(() => new KvClient({ baseUrl })).toThrow(message);
    });

    it(`takes up to ${CLIENT_SERVERS_MAX} proxies`, () => {
      const urls = Array.from({ length: CLIENT_SERVERS_MAX }, (_, i) => `http://h${i}`);
      expect(client(urls.join(',')).urls).toEqual(urls);
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
