import { closedPort, FakeProxy, startFakeProxy } from './testing/fake-proxy';
import { runCli } from './testing/run-cli';

describe('kv (in-process, against a fake proxy)', () => {
  let proxy: FakeProxy;
  let server: string[];

  beforeEach(async () => {
    proxy = await startFakeProxy();
    server = ['--server', proxy.url];
  });

  afterEach(async () => {
    await proxy.close();
  });

  describe('set, get, del', () => {
    it('stores, prints and deletes a value', async () => {
      expect(await runCli([...server, 'set', 'user:42', 'Ada'])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
      expect(await runCli([...server, 'get', 'user:42'])).toEqual({ code: 0, stdout: 'Ada\n', stderr: '' });
      expect(await runCli([...server, 'del', 'user:42'])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
      const missing = await runCli([...server, 'get', 'user:42']);
      expect(missing).toEqual({ code: 1, stdout: '', stderr: 'kv: key "user:42" not found\n' });
    });

    it('sends the documented requests', async () => {
      await runCli([...server, 'set', 'a', 'x']);
      await runCli([...server, 'get', 'a']);
      await runCli([...server, 'delete', 'a']);
      expect(proxy.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /kv/a', 'GET /kv/a', 'DELETE /kv/a']);
      expect(JSON.parse(proxy.requests[0].body)).toEqual({ value: 'x' });
    });

    it('deletes a missing key successfully (idempotent)', async () => {
      expect(await runCli([...server, 'del', 'never-set'])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
    });

    it('keeps values and keys exactly as typed (no number parsing)', async () => {
      await runCli([...server, 'set', '007', '1e3']);
      expect(proxy.store.get('007')?.value).toBe('1e3');
      expect((await runCli([...server, 'get', '007'])).stdout).toBe('1e3\n');
    });

    it.each([
      ['a/b', '/kv/a%2Fb'],
      ['what? #1', '/kv/what%3F%20%231'],
      ['café ☕', '/kv/caf%C3%A9%20%E2%98%95'],
      ['100%', '/kv/100%25'],
      ['..', '/kv/%2E%2E'],
    ])('round-trips the key %j (sent as %s)', async (key, path) => {
      expect((await runCli([...server, 'set', key, `value of ${key}`])).code).toBe(0);
      expect(proxy.requests.at(-1)?.url).toBe(path);
      expect(proxy.store.get(key)?.value).toBe(`value of ${key}`);
      expect(await runCli([...server, 'get', key])).toEqual({ code: 0, stdout: `value of ${key}\n`, stderr: '' });
    });

    it('reads the value from standard input with "-", exactly', async () => {
      const value = 'line 1\nline 2 ünïcödé\n\n';
      expect(await runCli([...server, 'set', 'doc', '-'], { stdin: value })).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
      expect(proxy.store.get('doc')?.value).toBe(value);
      expect((await runCli([...server, 'get', 'doc'])).stdout).toBe(`${value}\n`);
    });

    it('stores an empty standard input as the empty value', async () => {
      expect((await runCli([...server, 'set', 'empty', '-'], { stdin: '' })).code).toBe(0);
      expect(proxy.store.get('empty')?.value).toBe('');
    });

    it('refuses standard input that is not UTF-8 (exit 2, nothing sent)', async () => {
      const run = await runCli([...server, 'set', 'bin', '-'], { stdin: Buffer.from([0x61, 0xff, 0x62]) });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('kv: standard input is not valid UTF-8');
      expect(proxy.requests).toHaveLength(0);
    });

    it('accepts values that start with a dash after --', async () => {
      expect((await runCli([...server, 'set', 'neg', '--', '-1'])).code).toBe(0);
      expect(proxy.store.get('neg')?.value).toBe('-1');
      expect((await runCli([...server, 'set', '--', '-k', '--json'])).code).toBe(0);
      expect(proxy.store.get('-k')?.value).toBe('--json');
    });

    it('set --ttl sends "ttl" and prints when the key expires; get --json shows expiresAt', async () => {
      expect(await runCli([...server, 'set', 'session', 'S', '--ttl', '30'])).toEqual({ code: 0, stdout: 'OK, expires at 2030-01-01T00:00:30.000Z\n', stderr: '' });
      expect(JSON.parse(proxy.requests[proxy.requests.length - 1].body)).toEqual({ value: 'S', ttl: 30 });
      const json = await runCli([...server, '--json', 'set', 'session', 'S', '--ttl', '60']);
      expect(JSON.parse(json.stdout)).toMatchObject({ key: 'session', expiresAt: Date.UTC(2030, 0, 1, 0, 1) });
      expect(JSON.parse((await runCli([...server, '--json', 'get', 'session'])).stdout)).toMatchObject({ value: 'S', expiresAt: Date.UTC(2030, 0, 1, 0, 1) });
      expect(await runCli([...server, 'get', 'session'])).toEqual({ code: 0, stdout: 'S\n', stderr: '' });
    });

    it.each(['0', '-1', '1.5', '315360001', 'soon'])('refuses --ttl %s before sending (exit 2)', async (ttl) => {
      const run = await runCli([...server, 'set', 'k', 'v', '--ttl', ttl]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--ttl must be an integer from 1 to 315360000');
      expect(proxy.requests).toHaveLength(0);
    });

    it('sends --w and --r as ?w= and ?r=', async () => {
      await runCli([...server, 'set', 'k', 'v', '--w', '3']);
      await runCli([...server, 'get', 'k', '--r', '1']);
      await runCli([...server, 'del', 'k', '-w', '1']);
      expect(proxy.requests.map((r) => r.url)).toEqual(['/kv/k?w=3', '/kv/k?r=1', '/kv/k?w=1']);
    });

    it('reports a quorum the server refuses (?w= above N) as a server error, exit 3', async () => {
      const run = await runCli([...server, 'set', 'k', 'v', '--w', '4']);
      expect(run.code).toBe(3);
      expect(run.stderr).toBe(`kv: ${proxy.url}: KV_BAD_REQUEST: w must be an integer from 1 to 3, got "4"\n`);
    });
  });

  describe('--json', () => {
    it("prints the server's answers", async () => {
      const set = await runCli([...server, '--json', 'set', 'k', 'v']);
      expect(set.code).toBe(0);
      const version = proxy.store.get('k')?.version;
      expect(JSON.parse(set.stdout)).toEqual({ key: 'k', version, acks: 2 });
      expect(set.stdout.endsWith('}\n')).toBe(true);
      const get = await runCli([...server, '--json', 'get', 'k']);
      expect(JSON.parse(get.stdout)).toEqual({ key: 'k', value: 'v', version });
      const del = await runCli([...server, 'del', 'k', '--json']);
      expect(JSON.parse(del.stdout)).toMatchObject({ key: 'k', acks: 2 });
    });

    it('prints the error body of a failed request on stdout and the message on stderr', async () => {
      const run = await runCli([...server, '--json', 'get', 'missing']);
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'KV_NOT_FOUND', message: 'key not found' } });
      expect(run.stderr).toBe('kv: key "missing" not found\n');
    });

    it('prints the cluster answer for status, with the proxy that gave it', async () => {
      const run = await runCli([...server, '--json', 'status']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        server: proxy.url,
        servers: [{ url: proxy.url, status: 'up', answered: true }],
        nodes: [
          { id: 'node1', url: 'http://127.0.0.1:8001', status: 'up' },
          { id: 'node2', url: 'http://127.0.0.1:8002', status: 'up' },
          { id: 'node3', url: 'http://127.0.0.1:8003', status: 'up' },
        ],
        replicas: 3,
        writeQuorum: 2,
        readQuorum: 2,
        vnodes: 128,
      });
    });
  });

  describe('status', () => {
    it('prints the nodes, their health and the quorum settings as an aligned table', async () => {
      await proxy.close();
      proxy = await startFakeProxy({
        nodes: [
          { id: 'node1', url: 'http://127.0.0.1:8001', status: 'up', walSync: 'always', keys: 12, tombstones: 3 },
          { id: 'node-two', url: 'http://10.0.0.2:8002', status: 'down' },
        ],
      });
      const run = await runCli(['--server', proxy.url, 'status']);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(
        [
          `server  ${proxy.url}`,
          'nodes   1 of 2 up',
          'quorum  N=3 W=2 R=2 (128 vnodes per node)',
          '',
          'node      url                    status  sync    keys  tombstones',
          'node1     http://127.0.0.1:8001  up      always  12    3',
          'node-two  http://10.0.0.2:8002   down    -       -     -',
          '',
        ].join('\n'),
      );
    });

    it('says which nodes acknowledge writes before they are on disk (WAL_SYNC interval or none)', async () => {
      await proxy.close();
      proxy = await startFakeProxy({
        nodes: [
          { id: 'node1', url: 'http://127.0.0.1:8001', status: 'up', walSync: 'interval' },
          { id: 'node2', url: 'http://127.0.0.1:8002', status: 'up', walSync: 'always' },
        ],
      });
      const run = await runCli(['--server', proxy.url, 'status']);
      expect(run.stdout).toBe(
        [
          `server      ${proxy.url}`,
          'nodes       2 of 2 up',
          'quorum      N=3 W=2 R=2 (128 vnodes per node)',
          'durability  node1 (WAL_SYNC=interval) acknowledges writes before they are on disk',
          '',
          'node   url                    status  sync      keys  tombstones',
          'node1  http://127.0.0.1:8001  up      interval  -     -',
          'node2  http://127.0.0.1:8002  up      always    -     -',
          '',
        ].join('\n'),
      );
    });

    it('shows "(hidden)" for a node whose URL the proxy leaves out (it shows them only to the cluster token)', async () => {
      await proxy.close();
      proxy = await startFakeProxy({ nodes: [{ id: 'node1', status: 'up' }] });
      const run = await runCli(['--server', proxy.url, 'status']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('node1  (hidden)  up      -     -     -\n');
    });
  });

  describe('exit codes and messages', () => {
    it('exits 3 on a quorum failure, naming the server and saying a write outcome is unknown', async () => {
      proxy.quorumFailures.add('hot');
      const set = await runCli([...server, 'set', 'hot', 'v']);
      expect(set).toEqual({
        code: 3,
        stdout: '',
        stderr: `kv: ${proxy.url}: KV_QUORUM_FAILED: write quorum not reached: 1 of 2 replicas acknowledged; the outcome is unknown\n`,
      });
      const get = await runCli([...server, 'get', 'hot']);
      expect(get.code).toBe(3);
      expect(get.stderr).toBe(`kv: ${proxy.url}: KV_QUORUM_FAILED: read quorum not reached: 1 of 2 replicas answered\n`);
    });

    it('prints the 503 body with --json, acks and required included', async () => {
      proxy.quorumFailures.add('hot');
      const run = await runCli([...server, '--json', 'del', 'hot']);
      expect(run.code).toBe(3);
      expect(JSON.parse(run.stdout)).toEqual({
        error: { code: 'KV_QUORUM_FAILED', message: 'write quorum not reached: 1 of 2 replicas acknowledged' },
        acks: 1,
        required: 2,
      });
    });

    it('exits 3 on a server bug', async () => {
      proxy.internalFailures.add('bug');
      const run = await runCli([...server, 'get', 'bug']);
      expect(run).toEqual({ code: 3, stdout: '', stderr: `kv: ${proxy.url}: KV_INTERNAL: internal error\n` });
    });

    it('exits 3 when the server cannot be reached, naming it and the reason', async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      for (const command of [['get', 'k'], ['set', 'k', 'v'], ['del', 'k'], ['status']]) {
        const run = await runCli(['--server', url, ...command]);
        expect(run.code).toBe(3);
        expect(run.stdout).toBe('');
        expect(run.stderr).toMatch(new RegExp(`^kv: cannot reach ${url.replace(/\./g, '\\.')}: .*ECONNREFUSED.*\n$`));
      }
    });

    it('exits 3 when the server does not answer within --timeout', async () => {
      const silent = await startSilentServer();
      try {
        const run = await runCli(['--server', silent.url, '--timeout', '50', 'get', 'k']);
        expect(run).toEqual({ code: 3, stdout: '', stderr: `kv: ${silent.url} did not answer within 50 ms\n` });
      } finally {
        await silent.close();
      }
    });

    it.each([
      [[], 'a command is required'],
      [['frobnicate'], 'Unknown argument: frobnicate'],
      [['get'], 'Not enough non-option arguments: got 0, need at least 1'],
      [['set', 'k'], 'Not enough non-option arguments: got 1, need at least 2'],
      [['get', 'a', 'b'], 'Unknown argument: b'],
      [['get', 'k', '--bogus'], 'Unknown argument: bogus'],
      [['--timeout', 'soon', 'get', 'k'], '--timeout must be an integer from 1 to 3600000, got a value that is not a number'],
      [['--timeout', '0', 'get', 'k'], '--timeout must be an integer from 1 to 3600000, got 0'],
      [['set', 'k', 'v', '--w', '0'], '--w must be a positive integer, got 0'],
      [['get', 'k', '--r', 'x'], '--r must be a positive integer, got a value that is not a number'],
      [['--server'], 'Not enough arguments following: server'],
    ])('exits 2 with the usage message for %j', async (argv, message) => {
      const run = await runCli([...argv]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(message);
      expect(run.stderr).toMatch(/^kv /);
      expect(proxy.requests).toHaveLength(0);
    });

    it.each([
      ['', 'key must be 1 to 1024 bytes of UTF-8, got 0'],
      ['k'.repeat(1025), 'key must be 1 to 1024 bytes of UTF-8, got 1025'],
      ['é'.repeat(513), 'key must be 1 to 1024 bytes of UTF-8, got 1026'],
      ['\ud800', 'lone UTF-16 surrogate'],
    ])('exits 2 for an invalid key before sending anything (%#)', async (key, message) => {
      const run = await runCli([...server, 'get', key]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('kv: invalid key');
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain("Run 'kv get --help' for usage.");
      expect(proxy.requests).toHaveLength(0);
    });

    it('exits 2 for a --server that is not an http(s) URL', async () => {
      const run = await runCli(['--server', 'localhost:8000', 'get', 'k']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('kv: --server: baseUrl must be an http(s) URL');
    });
  });

  describe('server, token and the one-dash forms', () => {
    it('takes the server from KV_SERVER, and --server wins over it', async () => {
      expect((await runCli(['set', 'k', 'v'], { env: { KV_SERVER: proxy.url } })).code).toBe(0);
      expect(proxy.store.get('k')?.value).toBe('v');
      const closed = `http://127.0.0.1:${await closedPort()}`;
      const run = await runCli(['--server', proxy.url, 'get', 'k'], { env: { KV_SERVER: closed } });
      expect(run).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
    });

    it('defaults to http://localhost:8000', async () => {
      const run = await runCli(['--timeout', '2000', 'status']);
      // Either nothing listens there (exit 3, named), or something does: the default URL is what was used.
      if (run.code === 3) expect(run.stderr).toMatch(/^kv: (cannot reach )?http:\/\/localhost:8000/);
    });

    it('accepts the Go client\'s one-dash options: -server, -json, -timeout, -token', async () => {
      expect(await runCli(['-server', proxy.url, 'set', 'mykey', 'myvalue'])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
      expect(await runCli(['-server', proxy.url, 'get', 'mykey'])).toEqual({ code: 0, stdout: 'myvalue\n', stderr: '' });
      const json = await runCli([`-server=${proxy.url}`, '-json', '-timeout', '2000', '-token', 't', 'get', 'mykey']);
      expect(JSON.parse(json.stdout)).toMatchObject({ key: 'mykey', value: 'myvalue' });
      expect(proxy.requests.at(-1)?.headers.authorization).toBe('Bearer t');
    });

    it('takes a token that starts with a dash as the value of --token', async () => {
      await runCli(['--server', proxy.url, '--token', '-json', 'get', 'k']);
      expect(proxy.requests).toHaveLength(1);
      expect(proxy.requests.at(-1)?.headers.authorization).toBe('Bearer -json');
    });

    it('sends --token (or KV_TOKEN) as Authorization: Bearer', async () => {
      await proxy.close();
      proxy = await startFakeProxy({ token: 's3cret' });
      server = ['--server', proxy.url];
      const denied = await runCli([...server, 'set', 'k', 'v']);
      expect(denied).toEqual({ code: 3, stdout: '', stderr: `kv: ${proxy.url}: KV_UNAUTHORIZED: missing or wrong token\n` });
      expect((await runCli([...server, '--token', 's3cret', 'set', 'k', 'v'])).code).toBe(0);
      expect(proxy.requests.at(-1)?.headers.authorization).toBe('Bearer s3cret');
      expect((await runCli([...server, 'get', 'k'], { env: { KV_TOKEN: 's3cret' } })).stdout).toBe('v\n');
      expect((await runCli([...server, '--token', 'wrong', 'get', 'k'], { env: { KV_TOKEN: 's3cret' } })).code).toBe(3);
      // A list, as the servers take during a rotation: the first is sent.
      expect((await runCli([...server, 'get', 'k'], { env: { KV_TOKEN: 's3cret,old-one' } })).stdout).toBe('v\n');
      expect(proxy.requests.at(-1)?.headers.authorization).toBe('Bearer s3cret');
    });
  });

  describe('--cacert', () => {
    it('refuses a CA file that cannot be read (--cacert or KV_CACERT) as a usage error, before sending', async () => {
      const missing = '/nonexistent/kv-ca.pem';
      expect(await runCli([...server, '--cacert', missing, 'get', 'k'])).toEqual({
        code: 2,
        stdout: '',
        stderr: `kv: --cacert: cannot read ${missing} (ENOENT)\nRun 'kv get --help' for usage.\n`,
      });
      expect((await runCli([...server, 'get', 'k'], { env: { KV_CACERT: missing } })).code).toBe(2);
      expect(proxy.requests).toHaveLength(0);
    });
  });

  describe('--help and --version', () => {
    it('prints the program help with every command and the exit codes', async () => {
      const run = await runCli(['--help']);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      for (const text of ['kv set <key> <value>', 'kv get <key>', 'kv del <key>', 'kv status', 'kv bench', 'kv batch <file>']) {
        expect(run.stdout).toContain(text);
      }
      expect(run.stdout).toContain('Exit codes:');
      expect(run.stdout).toContain('KV_SERVER');
    });

    it.each(['set', 'get', 'del', 'delete', 'status', 'bench', 'batch'])('prints help with examples for %s', async (command) => {
      const run = await runCli([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toContain('--server');
    });

    it('accepts -help, the Go form', async () => {
      expect((await runCli(['-help'])).stdout).toContain('Commands:');
    });

    it('prints the package version', async () => {
      const { version } = require('../package.json') as { version: string };
      expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    });
  });
});

async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const http = await import('node:http');
  const server = http.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
