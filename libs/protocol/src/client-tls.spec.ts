import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isCertificateError } from './http-endpoint';
import { KvClient } from './kv-client';
import { NodeClient } from './node-client';

// The clients' `tls` option against HTTPS servers whose certificates openssl makes at test time (no key is
// committed); without openssl these tests are skipped with one line, and under CI=true they fail
// (scripts/lib/require-tool.cjs).
// Loaded at run time from the repository, as @kv/testkit's requireTool does (this library cannot depend on the testkit).
const { decideTool } = require(path.join(__dirname, '..', '..', '..', 'scripts', 'lib', 'require-tool.cjs')) as {
  decideTool(need: { check: string; tool: string; install: string }): { status: 'run' | 'skip' | 'fail'; message?: string };
};
const decision = decideTool({ check: 'client TLS tests', tool: 'openssl', install: 'openssl' });
if (decision.status === 'fail') throw new Error(decision.message);
if (decision.status === 'skip') process.stdout.write(`${decision.message}\n`);
const withOpenssl = decision.status === 'run' ? describe : describe.skip;

let dir: string;
const file = (name: string): string => path.join(dir, name);
const pem = (name: string): Buffer => readFileSync(file(name));

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
}

function makeCert(name: string, ca: string): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(file(`${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

/** An HTTPS server answering every request with a kv read's body (and `/health` with a node's). */
async function withServer(options: https.ServerOptions, run: (url: string) => Promise<void>): Promise<void> {
  const server = https.createServer(options, (req, res) => {
    const body = req.url === '/health' ? { status: 'ok', nodeId: 'n1', keys: 0, incarnation: 'i', filled: true } : { key: 'k', value: 'v', version: '1' };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

withOpenssl('clients over TLS', () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kv-client-tls-'));
    makeCa('ca');
    makeCert('server', 'ca');
    makeCert('client', 'ca');
    makeCa('other');
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('KvClient verifies the server with tls.ca, and without a CA that signed it fails naming the verification', async () => {
    await withServer({ cert: pem('server.crt'), key: pem('server.key') }, async (url) => {
      const trusting = new KvClient({ baseUrl: url, tls: { ca: pem('ca.crt') } });
      const other = new KvClient({ baseUrl: url, tls: { ca: [pem('other.crt').toString('utf8')] } });
      const defaults = new KvClient({ baseUrl: url });
      try {
        expect((await trusting.get('k')).value).toBe('v');
        for (const client of [other, defaults]) {
          const error = await client.get('k').then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(error).toMatchObject({ code: 'KV_UNAVAILABLE' });
          expect((error as Error).message).toMatch(new RegExp(`^cannot reach ${url}: certificate verification failed \\(`));
          expect(isCertificateError(error)).toBe(true);
        }
      } finally {
        for (const client of [trusting, other, defaults]) client.close();
      }
    });
  });

  test('NodeClient presents tls.cert and tls.key to a server that requires a client certificate', async () => {
    const options = { cert: pem('server.crt'), key: pem('server.key'), ca: pem('ca.crt'), requestCert: true, rejectUnauthorized: true };
    await withServer(options, async (url) => {
      const withCert = new NodeClient({ baseUrl: url, tls: { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') } });
      const without = new NodeClient({ baseUrl: url, tls: { ca: pem('ca.crt') } });
      try {
        expect((await withCert.health()).nodeId).toBe('n1');
        const error = await without.health().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toMatchObject({ code: 'KV_UNAVAILABLE' });
        expect(isCertificateError(error)).toBe(false);
      } finally {
        withCert.close();
        without.close();
      }
    });
  });

  test('isCertificateError is false for other errors', () => {
    expect(isCertificateError(new Error('connect ECONNREFUSED'))).toBe(false);
    expect(isCertificateError(undefined)).toBe(false);
    expect(isCertificateError(Object.assign(new Error('x'), { cause: { code: 'CERT_HAS_EXPIRED' } }))).toBe(true);
  });
});
