import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { KvClient, type KvError } from '@kv/protocol';
import { ManagedProcess, entryPoint, freePort, keepClusterFiles, repoRoot, requireTool } from '@kv/testkit';

// A cluster over TLS end to end: the proxy serves HTTPS, the data nodes serve HTTPS and require the proxy's client
// certificate (mutual TLS), the CLI verifies the proxy with --cacert. Certificates are made here by openssl, in a
// temporary directory: a CA, a server certificate for 127.0.0.1 and localhost, a client certificate, and a second CA
// that nobody trusts with a server certificate of its own.

const hasOpenssl = requireTool('openssl', 'openssl', 'TLS e2e');
const withOpenssl = hasOpenssl ? describe : describe.skip;

let dir: string;
const file = (name: string): string => path.join(dir, name);
const nodes: { id: string; port: number; process: ManagedProcess }[] = [];
let proxy: ManagedProcess;
let proxyUrl: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA: `<name>.key`, `<name>.crt`. */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
}

/** A certificate `<name>.crt` with key `<name>.key`, signed by CA `ca`; for servers with SANs 127.0.0.1 and localhost. */
function makeCert(name: string, ca: string, usage: 'serverAuth' | 'clientAuth'): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  const ext = [`extendedKeyUsage=${usage}`, ...(usage === 'serverAuth' ? ['subjectAltName=IP:127.0.0.1,DNS:localhost'] : [])].join('\n');
  writeFileSync(file(`${name}.ext`), `${ext}\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

interface Reply {
  status: number;
  body: unknown;
}

/** A GET over HTTPS with the CA (and client certificate) given; rejects with the TLS or socket error. */
function httpsGet(url: string, tls: { ca?: string; cert?: string; key?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...tls, agent: false, timeout: 2000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const ca = (): string => readFileSync(file('ca.crt'), 'utf8');
const clientTls = (): { ca: string; cert: string; key: string } => ({ ca: ca(), cert: readFileSync(file('proxy-client.crt'), 'utf8'), key: readFileSync(file('proxy-client.key'), 'utf8') });

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} not within ${timeoutMs} ms (${last})`);
}

async function healthy(url: string, tls: { ca?: string; cert?: string; key?: string }): Promise<void> {
  await until(`${url} healthy`, async () => ((await httpsGet(url, tls)).status === 200 ? true : undefined));
}

function nodeEnv(id: string, port: number, cert: string): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    NODE_ID: id,
    DATA_DIR: file(id),
    LOG_LEVEL: 'info',
    TLS_CERT_FILE: file(`${cert}.crt`),
    TLS_KEY_FILE: file(`${cert}.key`),
    TLS_CLIENT_CA_FILE: file('ca.crt'),
  };
}

/** Runs a built server with an environment until it exits; resolves with its exit code and stderr. */
function runServer(app: 'proxy' | 'datanode', env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entryPoint(app)], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Runs `bin/kv` with arguments; resolves with its exit code and output. */
function kv(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot(), 'bin', 'kv'), args, { env: { ...process.env, KV_SERVER: '', KV_TOKEN: '', KV_CACERT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

withOpenssl('TLS between clients, the proxy and the data nodes', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kv-tls-'));
    makeCa('ca');
    makeCert('server', 'ca', 'serverAuth');
    makeCert('proxy-client', 'ca', 'clientAuth');
    makeCa('other-ca');
    makeCert('rogue', 'other-ca', 'serverAuth');
    for (const id of ['node1', 'node2', 'node3']) {
      const port = await freePort();
      const process = new ManagedProcess({ name: id, script: entryPoint('datanode'), logFile: file(`${id}.log`), env: nodeEnv(id, port, 'server') });
      nodes.push({ id, port, process });
    }
    await Promise.all(nodes.map((node) => node.process.start(() => healthy(`https://127.0.0.1:${node.port}/health`, clientTls()))));
    const port = await freePort();
    proxyUrl = `https://127.0.0.1:${port}`;
    proxy = new ManagedProcess({
      name: 'proxy',
      script: entryPoint('proxy'),
      logFile: file('proxy.log'),
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        NODES: nodes.map((node) => `${node.id}=https://127.0.0.1:${node.port}`).join(','),
        DATA_DIR: file('proxy'),
        HEALTH_INTERVAL_MS: '200',
        NODE_TIMEOUT_MS: '1000',
        LOG_LEVEL: 'info',
        TLS_CERT_FILE: file('server.crt'),
        TLS_KEY_FILE: file('server.key'),
        TLS_CA_FILE: file('ca.crt'),
        TLS_CLIENT_CERT_FILE: file('proxy-client.crt'),
        TLS_CLIENT_KEY_FILE: file('proxy-client.key'),
      },
    });
    await proxy.start(() => healthy(`${proxyUrl}/health/ready`, { ca: ca() }));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([proxy, ...nodes.map((node) => node.process)].filter((p) => p !== undefined).map((p) => p.stop(5000)));
    if (dir !== undefined && !keepClusterFiles()) rmSync(dir, { recursive: true, force: true });
  });

  test('the CLI sets, gets, shows the status and benchmarks through the HTTPS proxy with --cacert, and refuses a proxy it cannot verify', async () => {
    expect(await kv(['--server', proxyUrl, '--cacert', file('ca.crt'), 'set', 'tls-key', 'over tls'])).toMatchObject({ code: 0 });
    expect(await kv(['--server', proxyUrl, '--cacert', file('ca.crt'), 'get', 'tls-key'])).toEqual({ code: 0, stdout: 'over tls\n', stderr: '' });
    const status = await kv(['--server', proxyUrl, '--cacert', file('ca.crt'), '--json', 'status']);
    expect(status.code).toBe(0);
    const bench = await kv(['--server', proxyUrl, '--cacert', file('ca.crt'), '--json', 'bench', '--ops', '50', '--connections', '2']);
    expect(bench).toMatchObject({ code: 0, stderr: '' });
    const unverified = await kv(['--server', proxyUrl, '--cacert', file('other-ca.crt'), 'get', 'tls-key']);
    expect(unverified.code).toBe(3);
    expect(unverified.stderr).toContain('certificate verification failed');
  });

  test('a certificate without its key, or with another key, stops either server with exit 2 and one line naming the files', async () => {
    const proxyBase = { NODES: 'n1=https://127.0.0.1:1', REPLICAS: '1', WRITE_QUORUM: '1', READ_QUORUM: '1', DATA_DIR: file('refused-proxy'), PORT: '0' };
    const nodeBase = { DATA_DIR: file('refused-node'), PORT: '0' };
    expect(await runServer('datanode', { ...nodeBase, TLS_CERT_FILE: file('server.crt') })).toEqual({
      code: 2,
      stderr: 'datanode: TLS_CERT_FILE is set without TLS_KEY_FILE: set both to serve HTTPS, or neither for plain HTTP\n',
    });
    expect(await runServer('proxy', { ...proxyBase, TLS_CERT_FILE: file('server.crt'), TLS_KEY_FILE: file('rogue.key') })).toEqual({
      code: 2,
      stderr: `proxy: TLS_KEY_FILE=${file('rogue.key')} is not the key of the certificate in TLS_CERT_FILE=${file('server.crt')}\n`,
    });
    expect(await runServer('proxy', { ...proxyBase, TLS_CA_FILE: file('missing-ca.crt') })).toEqual({
      code: 2,
      stderr: `proxy: TLS_CA_FILE=${file('missing-ca.crt')} cannot be read (ENOENT): check the path and that this user may read it\n`,
    });
  });

  test('plain HTTP to a TLS port is answered 400 saying to use https://, and the server goes on serving HTTPS', async () => {
    const plain = new KvClient({ baseUrl: proxyUrl.replace('https:', 'http:'), timeoutMs: 2000 });
    try {
      await expect(plain.get('tls-key')).rejects.toMatchObject({
        code: 'KV_BAD_REQUEST',
        message: 'this port serves HTTPS: use an https:// URL',
      } satisfies Partial<KvError>);
    } finally {
      plain.close();
    }
    const secure = new KvClient({ baseUrl: proxyUrl, tls: { ca: ca() } });
    try {
      expect((await secure.get('tls-key')).value).toBe('over tls');
    } finally {
      secure.close();
    }
  });

  test('with mutual TLS a data node refuses a client without a certificate', async () => {
    const url = `https://127.0.0.1:${nodes[0].port}/health`;
    await expect(httpsGet(url, { ca: ca() })).rejects.toThrow();
    expect((await httpsGet(url, clientTls())).status).toBe(200);
  });

  test('a data node with a certificate of another CA is refused: it shows down, writes go to the others, the log says why', async () => {
    const node3 = nodes[2];
    await node3.process.stop(5000);
    Object.assign(node3.process.env, nodeEnv(node3.id, node3.port, 'rogue'));
    await node3.process.start(async () => {
      await until('node3 listening', async () => {
        // It answers those who trust its CA (and present the proxy's certificate).
        const reply = await httpsGet(`https://127.0.0.1:${node3.port}/health`, { ...clientTls(), ca: readFileSync(file('other-ca.crt'), 'utf8') });
        return reply.status === 200 ? true : undefined;
      });
    });
    // The node was down while it restarted: what tells it is refused now is the log line, then that it stays down.
    const refusal = /certificate verification failed[^\n]*node3|node3[^\n]*certificate verification failed/;
    await until('the refusal logged', async () => (refusal.test(readFileSync(file('proxy.log'), 'utf8')) ? true : undefined));
    const reply = await httpsGet(`${proxyUrl}/cluster`, { ca: ca() });
    expect((reply.body as { nodes: { id: string; status: string }[] }).nodes.find((n) => n.id === 'node3')?.status).toBe('down');
    const client = new KvClient({ baseUrl: proxyUrl, tls: { ca: ca() } });
    try {
      const put = await client.set('after-rogue', 'still written');
      expect(put.acks).toBe(2);
      expect((await client.get('after-rogue')).value).toBe('still written');
    } finally {
      client.close();
    }
  });
});
