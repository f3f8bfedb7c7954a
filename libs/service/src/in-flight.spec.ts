import http from 'node:http';
import { PassThrough } from 'node:stream';
import { ErrorCode, KvError } from '@kv/protocol';
import { closeServer, createHttpServer, listen, readBody, sendJson } from './http';
import { InFlight } from './in-flight';
import { createLogger } from './logger';
import { HttpMetrics, createRegistry } from './metrics';
import { createServerShell, type FastRoute } from './server-shell';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof KvError ? error.code : 'not a KvError';
  }
  return undefined;
}

describe('InFlight', () => {
  test('admits requests up to MAX_REQUESTS_IN_FLIGHT, refuses the next with KV_OVERLOADED, admits again after a release', () => {
    const refused: string[] = [];
    const limiter = new InFlight({ requestsMax: 2, bytesMax: 1000 }, { refused: (reason) => refused.push(reason) });
    const a = limiter.admit(10);
    const b = limiter.admit(10);
    expect(codeOf(() => limiter.admit(0))).toBe(ErrorCode.Overloaded);
    expect(refused).toEqual(['requests']);
    a.release();
    a.release();
    expect(limiter.requests).toBe(1);
    expect(limiter.bytes).toBe(10);
    limiter.admit(0);
    b.release();
  });

  test('refuses a declared body that would pass MAX_BYTES_IN_FLIGHT, but admits one alone whatever its size', () => {
    const limiter = new InFlight({ requestsMax: 10, bytesMax: 100 });
    const big = limiter.admit(500);
    expect(limiter.bytes).toBe(500);
    expect(codeOf(() => limiter.admit(1))).toBe(ErrorCode.Overloaded);
    big.release();
    const a = limiter.admit(60);
    expect(codeOf(() => limiter.admit(41))).toBe(ErrorCode.Overloaded);
    const b = limiter.admit(40);
    expect(limiter.bytes).toBe(100);
    a.release();
    b.release();
    expect({ requests: limiter.requests, bytes: limiter.bytes }).toEqual({ requests: 0, bytes: 0 });
  });

  test('a ticket reserves more bytes until the limit, and gives everything back on release', () => {
    const limiter = new InFlight({ requestsMax: 10, bytesMax: 100 });
    const ticket = limiter.admit(10);
    expect(ticket.reserve(80)).toBe(true);
    expect(ticket.reserve(11)).toBe(false);
    expect(ticket.bytes).toBe(90);
    expect(limiter.bytes).toBe(90);
    ticket.release();
    expect(limiter.bytes).toBe(0);
  });

  test('refuses limits that are not positive integers', () => {
    expect(() => new InFlight({ requestsMax: 0, bytesMax: 1 })).toThrow(TypeError);
    expect(() => new InFlight({ requestsMax: 1, bytesMax: 1.5 })).toThrow(TypeError);
  });
});

describe('the server shell with in-flight bounds', () => {
  /** A server whose /slow route holds each request until `release()`; /health is unbounded. */
  async function start(limits: { requestsMax: number; bytesMax: number }) {
    const waiting: (() => void)[] = [];
    const slow: FastRoute = {
      route: '/slow',
      matches: (_method, url) => url.startsWith('/slow'),
      serve: async (req) => {
        const body = await readBody(req, 10 * 1024 * 1024);
        await new Promise<void>((resolve) => waiting.push(resolve));
        return { bytes: body.length };
      },
    };
    const limiter = new InFlight(limits);
    const listener = createServerShell({
      fastRoutes: [slow],
      fallback: (_req, res) => sendJson(res, 200, '{"status":"ok"}'),
      routeOf: (url) => (url === '/health' ? '/health' : 'unmatched'),
      metrics: new HttpMetrics(createRegistry('test')),
      logger: createLogger({ service: 'test', stream: new PassThrough() }),
      inFlight: limiter,
      unbounded: ['/health'],
    });
    const server = createHttpServer(listener);
    const port = await listen(server, 0, '127.0.0.1');
    return {
      url: `http://127.0.0.1:${port}`,
      limiter,
      releaseAll: () => waiting.splice(0).forEach((resolve) => resolve()),
      waiting: () => waiting.length,
      close: () => closeServer(server, 100),
    };
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  test('a request beyond MAX_REQUESTS_IN_FLIGHT gets 503 KV_OVERLOADED with Retry-After; health still answers; the slot frees', async () => {
    const server = await start({ requestsMax: 1, bytesMax: 1024 * 1024 });
    try {
      const first = fetch(`${server.url}/slow`, { method: 'POST', body: 'x' });
      await until(() => server.waiting() === 1);
      const refused = await fetch(`${server.url}/slow`, { method: 'POST', body: 'y' });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('KV_OVERLOADED');
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect((await fetch(`${server.url}/other`)).status).toBe(503);
      server.releaseAll();
      expect((await first).status).toBe(200);
      await until(() => server.limiter.requests === 0);
      const again = fetch(`${server.url}/slow`, { method: 'POST', body: 'z' });
      await until(() => server.waiting() === 1);
      server.releaseAll();
      expect((await again).status).toBe(200);
    } finally {
      server.releaseAll();
      await server.close();
    }
  });

  test('bodies count in bytes: a declared body past MAX_BYTES_IN_FLIGHT is refused unread, a chunked one as it arrives', async () => {
    const server = await start({ requestsMax: 100, bytesMax: 1000 });
    try {
      const first = fetch(`${server.url}/slow`, { method: 'POST', body: 'x'.repeat(900) });
      await until(() => server.waiting() === 1);
      expect(server.limiter.bytes).toBe(900);
      const declared = await fetch(`${server.url}/slow`, { method: 'POST', body: 'y'.repeat(200) });
      expect(declared.status).toBe(503);
      expect(declared.headers.get('connection')).toBe('close');
      const chunked = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${server.url}/slow`, { method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write('z'.repeat(150));
        req.end();
      });
      expect(chunked).toBe(503);
      server.releaseAll();
      expect((await first).status).toBe(200);
      await until(() => server.limiter.bytes === 0);
      expect(server.limiter.requests).toBe(0);
    } finally {
      server.releaseAll();
      await server.close();
    }
  });
});
