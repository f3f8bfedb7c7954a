import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ErrorCode, KvError } from '@kv/protocol';
import { acceptRequestId, bearerMatches, closeServer, createHttpServer, listen, nextRequestId, readBody, sendError } from './http';

async function withServer(handler: http.RequestListener, run: (url: string) => Promise<void>): Promise<void> {
  const server = createHttpServer(handler);
  const port = await listen(server, 0, '127.0.0.1');
  try {
    await run(`http://127.0.0.1:${port}`);
  } finally {
    await closeServer(server, 100);
  }
}

const echoBody = (bytesMax: number): http.RequestListener => (req, res) => {
  readBody(req, bytesMax).then(
    (body) => {
      res.writeHead(200);
      res.end(`got ${body.length}`);
    },
    (error: unknown) => sendError(res, error),
  );
};

describe('readBody', () => {
  test('reads a body up to the limit, multi-byte characters split across chunks included', async () => {
    await withServer(echoBody(1000), async (url) => {
      const text = 'é'.repeat(400);
      const res = await fetch(url, { method: 'PUT', body: text });
      expect(await res.text()).toBe('got 800');
    });
  });

  test('refuses a declared content-length over the limit with 413 KV_TOO_LARGE', async () => {
    await withServer(echoBody(10), async (url) => {
      const res = await fetch(url, { method: 'PUT', body: 'x'.repeat(11) });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: { code: 'KV_TOO_LARGE', message: 'the request body is larger than 10 bytes' } });
    });
  });

  test('refuses a chunked body that grows past the limit', async () => {
    await withServer(echoBody(100), async (url) => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(url, { method: 'PUT', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < 20; i++) req.write('x'.repeat(10));
        req.end();
      });
      expect(status).toBe(413);
    });
  });
});

/** Sends `raw` on one connection and collects what comes back until the server closes it or `settleMs` of quiet. */
function exchange(url: string, raw: string, settleMs = 300): Promise<{ text: string; closed: boolean }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(raw));
    let text = '';
    let quiet: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      clearTimeout(quiet);
      socket.destroy();
      resolve({ text, closed });
    };
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(false), settleMs);
    });
    socket.on('end', () => finish(true));
    socket.on('error', reject);
  });
}

describe('sendError', () => {
  // A body read whole and refused for what it holds (a value over the limit) leaves the connection usable; a body
  // refused before or while it was read does not.
  const refuseValue: http.RequestListener = (req, res) => {
    readBody(req, 1000).then(
      (body) => {
        if (body.length > 10) sendError(res, new KvError(ErrorCode.TooLarge, 'value must be at most 10 bytes'));
        else sendError(res, new KvError(ErrorCode.NotFound, 'no such key'));
      },
      (error: unknown) => sendError(res, error),
    );
  };
  const put = (body: string, chunked: boolean): string =>
    chunked
      ? `PUT /k HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
      : `PUT /k HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  const next = 'GET /k HTTP/1.1\r\nhost: x\r\n\r\n';

  test.each([false, true])('KV_TOO_LARGE for a body read whole keeps the connection: the pipelined request is answered (chunked: %s)', async (chunked) => {
    await withServer(refuseValue, async (url) => {
      const { text, closed } = await exchange(url, put('x'.repeat(20), chunked) + next);
      expect(text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 404']);
      expect(text).not.toMatch(/connection: close/i);
      expect(closed).toBe(false);
    });
  });

  test('KV_TOO_LARGE for a body not read whole answers with connection: close and closes', async () => {
    await withServer(refuseValue, async (url) => {
      const { text, closed } = await exchange(url, put('x'.repeat(2000), true) + next);
      expect(text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 413']);
      expect(text).toMatch(/connection: close/i);
      expect(closed).toBe(true);
    });
  });

  test('sends the code and status of a KvError, and KV_INTERNAL without details for anything else', async () => {
    const errors: unknown[] = [new KvError(ErrorCode.InvalidKey, 'bad key'), new Error('secret stack'), KvError.quorumFailed('write', { acks: 1, required: 2 })];
    let i = 0;
    await withServer((_req, res) => void sendError(res, errors[i++]), async (url) => {
      const a = await fetch(url);
      expect([a.status, await a.json()]).toEqual([400, { error: { code: 'KV_INVALID_KEY', message: 'bad key' } }]);
      const b = await fetch(url);
      expect([b.status, await b.json()]).toEqual([500, { error: { code: 'KV_INTERNAL', message: 'internal error' } }]);
      const c = await fetch(url);
      expect(c.status).toBe(503);
      expect(await c.json()).toMatchObject({ error: { code: 'KV_QUORUM_FAILED' }, acks: 1, required: 2 });
    });
  });
});

describe('helpers', () => {
  test('bearerMatches accepts exactly "Bearer <token>", the scheme in any case', () => {
    expect(bearerMatches('Bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('Bearer abcd', 'abc')).toBe(false);
    expect(bearerMatches('bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('BEARER abc', 'abc')).toBe(true);
    expect(bearerMatches('bEaReR abc', 'abc')).toBe(true);
    expect(bearerMatches('Bearer ABC', 'abc')).toBe(false);
    expect(bearerMatches('Basic abc', 'abc')).toBe(false);
    expect(bearerMatches('Bearerabc', 'abc')).toBe(false);
    expect(bearerMatches('abc', 'abc')).toBe(false);
    expect(bearerMatches(undefined, 'abc')).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(true);
    expect(bearerMatches(undefined, '')).toBe(false);
  });

  test('bearerMatches accepts any token of a list (a rotation), and nothing else', () => {
    for (const tokens of [['old', 'new'], 'old,new', 'old , new']) {
      expect(bearerMatches('Bearer old', tokens)).toBe(true);
      expect(bearerMatches('Bearer new', tokens)).toBe(true);
      expect(bearerMatches('Bearer old,new', tokens)).toBe(false);
      expect(bearerMatches('Bearer other', tokens)).toBe(false);
      expect(bearerMatches(undefined, tokens)).toBe(false);
    }
  });

  test('request ids: accepted when short and printable, else generated and unique', () => {
    expect(acceptRequestId('abc-123')).toBe('abc-123');
    expect(acceptRequestId('has space')).not.toBe('has space');
    expect(acceptRequestId('x'.repeat(200))).toHaveLength(acceptRequestId(undefined).length);
    expect(nextRequestId()).not.toBe(nextRequestId());
  });

  test('createHttpServer applies the limits', () => {
    const server = createHttpServer(() => undefined, { headersTimeoutMs: 1234, connectionsMax: 7 });
    expect(server.headersTimeout).toBe(1234);
    expect(server.maxConnections).toBe(7);
    expect((server.address() as AddressInfo | null)).toBeNull();
  });
});

describe('createHttpServer', () => {
  test('refuses protocol upgrades with a JSON 400 and closes the connection', async () => {
    await withServer((_req, res) => res.end('ok'), async (url) => {
      const { port } = new URL(url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n');
      });
      expect(answer).toMatch(/^HTTP\/1.1 400/);
      expect(answer).toContain('KV_BAD_REQUEST');
    });
  });
});
