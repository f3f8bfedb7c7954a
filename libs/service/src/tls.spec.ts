import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './config';
import { closeServer, createHttpServer, listen } from './http';
import { loadClientTls, loadServerTls, type ServerTls } from './tls';

// Certificates are made by openssl at test time (no key is committed); without it these tests are skipped with one
// line, and under CI=true they fail (scripts/lib/require-tool.cjs).
// Loaded at run time from the repository, as @kv/testkit's requireTool does (this library cannot depend on the testkit).
const { decideTool } = require(path.join(__dirname, '..', '..', '..', 'scripts', 'lib', 'require-tool.cjs')) as {
  decideTool(need: { check: string; tool: string; install: string }): { status: 'run' | 'skip' | 'fail'; message?: string };
};
const decision = decideTool({ check: 'TLS unit tests', tool: 'openssl', install: 'openssl' });
if (decision.status === 'fail') throw new Error(decision.message);
if (decision.status === 'skip') process.stdout.write(`${decision.message}\n`);
const withOpenssl = decision.status === 'run' ? describe : describe.skip;

let dir: string;
const file = (name: string): string => path.join(dir, name);

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

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('no ConfigError thrown');
}

function get(url: string, options: https.RequestOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const transport = url.startsWith('https:') ? https : http;
    const req = transport.get(url, { ...options, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

async function withServer(tls: ServerTls, run: (port: number) => Promise<void>): Promise<void> {
  const server = createHttpServer((_req, res) => res.end('ok'), {}, tls);
  const port = await listen(server, 0, '127.0.0.1');
  try {
    await run(port);
  } finally {
    await closeServer(server, 100);
  }
}

withOpenssl('TLS files and HTTPS servers', () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kv-tls-unit-'));
    makeCa('ca');
    makeCert('server', 'ca');
    makeCert('client', 'ca');
    makeCa('other');
    writeFileSync(file('garbage.pem'), 'not a certificate\n');
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe('loadServerTls', () => {
    test('nothing set: plain HTTP', () => {
      expect(loadServerTls({})).toBeUndefined();
    });

    test('certificate and key: both read, no client certificates asked for', () => {
      const tls = loadServerTls({ certFile: file('server.crt'), keyFile: file('server.key') });
      expect(tls?.cert.toString()).toBe(readFileSync(file('server.crt'), 'utf8'));
      expect(tls?.clientCa).toBeUndefined();
    });

    test('one of certificate and key without the other is refused, naming both', () => {
      expect(configError(() => loadServerTls({ certFile: file('server.crt') }))).toBe(
        'TLS_CERT_FILE is set without TLS_KEY_FILE: set both to serve HTTPS, or neither for plain HTTP',
      );
      expect(configError(() => loadServerTls({ keyFile: file('server.key') }))).toMatch(/^TLS_KEY_FILE is set without TLS_CERT_FILE/);
      expect(configError(() => loadServerTls({ clientCaFile: file('ca.crt') }))).toMatch(/^TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE/);
    });

    test('a file that cannot be read, or is not PEM of its kind, is named', () => {
      expect(configError(() => loadServerTls({ certFile: file('missing.crt'), keyFile: file('server.key') }))).toBe(
        `TLS_CERT_FILE=${file('missing.crt')} cannot be read (ENOENT): check the path and that this user may read it`,
      );
      expect(configError(() => loadServerTls({ certFile: file('garbage.pem'), keyFile: file('server.key') }))).toMatch(
        /^TLS_CERT_FILE=.*garbage\.pem is not a PEM certificate/,
      );
      expect(configError(() => loadServerTls({ certFile: file('server.crt'), keyFile: file('server.crt') }))).toMatch(
        /^TLS_KEY_FILE=.*server\.crt is not a PEM private key/,
      );
      expect(configError(() => loadServerTls({ certFile: file('server.crt'), keyFile: file('server.key'), clientCaFile: file('nope') }))).toMatch(
        /^TLS_CLIENT_CA_FILE=.*nope cannot be read/,
      );
    });

    test('a key that is not the certificate\'s is refused, naming both files', () => {
      expect(configError(() => loadServerTls({ certFile: file('server.crt'), keyFile: file('client.key') }))).toBe(
        `TLS_KEY_FILE=${file('client.key')} is not the key of the certificate in TLS_CERT_FILE=${file('server.crt')}`,
      );
    });
  });

  describe('loadClientTls', () => {
    test('nothing set: Node\'s default CAs; a CA alone; a client certificate needs its key', () => {
      expect(loadClientTls({})).toBeUndefined();
      expect(loadClientTls({ caFile: file('ca.crt') })).toEqual({ ca: readFileSync(file('ca.crt')) });
      expect(configError(() => loadClientTls({ certFile: file('client.crt') }))).toMatch(/^TLS_CLIENT_CERT_FILE is set without TLS_CLIENT_KEY_FILE/);
      expect(configError(() => loadClientTls({ certFile: file('client.crt'), keyFile: file('server.key') }))).toMatch(
        /^TLS_CLIENT_KEY_FILE=.* is not the key of the certificate in TLS_CLIENT_CERT_FILE=/,
      );
      expect(loadClientTls({ certFile: file('client.crt'), keyFile: file('client.key') })?.cert).toBeDefined();
    });
  });

  describe('createHttpServer with TLS', () => {
    test('serves HTTPS to a client that trusts its CA, refuses one that does not, and answers plain HTTP with 400 saying to use https://', async () => {
      const tls = loadServerTls({ certFile: file('server.crt'), keyFile: file('server.key') }) as ServerTls;
      await withServer(tls, async (port) => {
        const ca = readFileSync(file('ca.crt'));
        expect(await get(`https://127.0.0.1:${port}/`, { ca })).toBe(200);
        await expect(get(`https://127.0.0.1:${port}/`, { ca: readFileSync(file('other.crt')) })).rejects.toMatchObject({
          code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        });
        const plain = await fetch(`http://127.0.0.1:${port}/`);
        expect(plain.status).toBe(400);
        expect(await plain.json()).toEqual({ error: { code: 'KV_BAD_REQUEST', message: 'this port serves HTTPS: use an https:// URL' } });
        expect(await get(`https://127.0.0.1:${port}/`, { ca })).toBe(200);
      });
    });

    test('with a client CA, serves only clients presenting a certificate it signed', async () => {
      const tls = loadServerTls({ certFile: file('server.crt'), keyFile: file('server.key'), clientCaFile: file('ca.crt') }) as ServerTls;
      await withServer(tls, async (port) => {
        const ca = readFileSync(file('ca.crt'));
        await expect(get(`https://127.0.0.1:${port}/`, { ca })).rejects.toThrow();
        const cert = readFileSync(file('client.crt'));
        const key = readFileSync(file('client.key'));
        expect(await get(`https://127.0.0.1:${port}/`, { ca, cert, key })).toBe(200);
      });
    });
  });
});
