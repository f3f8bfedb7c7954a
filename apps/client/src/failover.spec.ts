import type { BenchReport } from './bench/report';
import { formatTable } from './table';
import { closedPort, FakeProxy, startFakeProxy } from './testing/fake-proxy';
import { runCli } from './testing/run-cli';

const NODES = [
  { id: 'node1', url: 'http://127.0.0.1:8001', status: 'up' as const },
  { id: 'node2', url: 'http://127.0.0.1:8002', status: 'down' as const },
];

describe('kv with several proxies', () => {
  let proxies: FakeProxy[] = [];
  let down: string;

  beforeEach(async () => {
    proxies = [];
    down = `http://127.0.0.1:${await closedPort()}`;
  });

  afterEach(async () => {
    for (const proxy of proxies) await proxy.close();
  });

  const start = async (): Promise<FakeProxy> => {
    const proxy = await startFakeProxy({ nodes: NODES });
    proxies.push(proxy);
    return proxy;
  };

  describe('every command fails over when a proxy cannot be reached', () => {
    it('set, get, del and batch reach the next proxy of --server', async () => {
      const up = await start();
      const server = ['--server', `${down},${up.url}`];
      expect(await runCli([...server, 'set', 'k', 'v'])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
      expect(await runCli([...server, 'get', 'k'])).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
      expect(await runCli([...server, 'del', 'k'])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
      const batch = await runCli([...server, '--json', 'batch', '-'], { stdin: '{"op":"set","key":"b","value":"1"}\n' });
      expect(batch.code).toBe(0);
      expect(up.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'PUT /kv/k',
        'GET /kv/k',
        'DELETE /kv/k',
        'POST /batch',
      ]);
    });

    it('takes the list from KV_SERVER, and from the one-dash -server form', async () => {
      const up = await start();
      expect((await runCli(['set', 'k', 'v'], { env: { KV_SERVER: `${down}, ${up.url}` } })).code).toBe(0);
      expect(await runCli(['-server', `${down},${up.url}`, 'get', 'k'])).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
      expect(await runCli([`-server=${down},${up.url}`, 'get', 'k'])).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
    });

    it('bench measures the first proxy that answers', async () => {
      const up = await start();
      const run = await runCli(['--server', `${down},${up.url}`, '--json', 'bench', '--ops', '20', '--connections', '2']);
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as BenchReport;
      expect(report.settings.server).toBe(up.url);
      expect(report.total.ok + report.total.notFound).toBe(20);
    });
  });

  describe('messages and exit codes', () => {
    it('says once that the outcome is unknown when a write may have reached a proxy, and does not resend it', async () => {
      const dropping = await start();
      const up = await start();
      dropping.droppedConnections.add('k');
      const run = await runCli(['--server', `${dropping.url},${up.url}`, 'set', 'k', 'v']);
      expect(run).toEqual({
        code: 3,
        stdout: '',
        stderr: `kv: cannot reach ${dropping.url}: socket hang up; the outcome is unknown\n`,
      });
      expect(up.requests).toHaveLength(0);
      const del = await runCli(['--server', `${dropping.url},${up.url}`, '--json', 'del', 'k']);
      expect(del).toEqual({
        code: 3,
        stdout: '',
        stderr: `kv: cannot reach ${dropping.url}: socket hang up; the outcome is unknown\n`,
      });
    });

    it('says it for a write that timed out, with a single proxy too', async () => {
      const hung = await startSilentServer();
      try {
        const run = await runCli(['--server', hung.url, '--timeout', '100', 'set', 'k', 'v']);
        expect(run).toEqual({
          code: 3,
          stdout: '',
          stderr: `kv: ${hung.url} did not answer within 100 ms; the outcome is unknown\n`,
        });
        const read = await runCli(['--server', hung.url, '--timeout', '100', 'get', 'k']);
        expect(read.stderr).toBe(`kv: ${hung.url} did not answer within 100 ms\n`);
      } finally {
        await hung.close();
      }
    });

    it('names the proxy whose answer ended the command', async () => {
      const notReady = await start();
      notReady.ready = false;
      const run = await runCli(['--server', `${notReady.url},${down}`, 'get', 'k']);
      expect(run).toEqual({
        code: 3,
        stdout: '',
        stderr: `kv: ${notReady.url}: KV_NOT_READY: this proxy reaches 1 of 2 data nodes, fewer than W=2\n`,
      });
      const write = await runCli(['--server', `${down},${notReady.url}`, 'set', 'k', 'v']);
      expect(write.stderr).toBe(run.stderr);
    });

    it('names every proxy when none could be reached (exit 3)', async () => {
      const other = `http://127.0.0.1:${await closedPort()}`;
      for (const command of [['get', 'k'], ['set', 'k', 'v'], ['status']]) {
        const run = await runCli(['--server', `${down},${other}`, ...command]);
        expect(run.code).toBe(3);
        expect(run.stdout).toBe('');
        const reasons =
          `cannot reach ${escape(down)}: .*ECONNREFUSED.*; ` + `cannot reach ${escape(other)}: .*ECONNREFUSED[^;]*`;
        expect(run.stderr).toMatch(new RegExp(`^kv: none of 2 proxies answered: ${reasons}\n$`));
      }
    });

    it.each([
      ['the same proxy twice', 'http://a:8000,http://a:8000/', 'kv: --server: baseUrl names http://a:8000 twice'],
      ['an empty entry', 'http://a:8000,,http://b:8000', 'kv: --server: baseUrl has an empty entry'],
      // 16 here and the running proxy after them.
      ['more than 16 proxies', Array.from({ length: 16 }, (_, i) => `http://h${i}`).join(','), 'at most 16 proxies, got 17'],
      ['a name that is not a URL', 'http://a:8000,b:8000', 'kv: --server: baseUrl must be an http(s) URL'],
    ])('refuses %s as a usage error (exit 2, nothing sent)', async (_what, list, message) => {
      const up = await start();
      const run = await runCli(['--server', `${list},${up.url}`, 'get', 'k']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(up.requests).toHaveLength(0);
    });
  });

  describe('kv status', () => {
    it('shows every proxy, which one answered, above the node table', async () => {
      const notReady = await start();
      notReady.ready = false;
      const first = await start();
      const second = await start();
      const run = await runCli(['--server', [down, notReady.url, first.url, second.url].join(','), 'status']);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      // The first proxy that answered /health is asked first; it is not ready, so the next one answers.
      const downPort = new URL(down).port;
      expect(run.stdout).toBe(
        [
          `server  ${first.url}`,
          'nodes   1 of 2 up',
          'quorum  N=3 W=2 R=2 (128 vnodes per node)',
          '',
          formatTable([
            ['proxy', 'status', 'note'],
            [down, 'down', `connect ECONNREFUSED 127.0.0.1:${downPort}`],
            [notReady.url, 'up', ''],
            [first.url, 'up', 'answered'],
            [second.url, 'up', ''],
          ]),
          '',
          'node   url                    status  sync  keys  tombstones',
          'node1  http://127.0.0.1:8001  up      -     -     -',
          'node2  http://127.0.0.1:8002  down    -     -     -',
          '',
        ].join('\n'),
      );
      expect(second.requests.map((r) => r.url)).toEqual(['/health']);
    });

    it('adds server and servers to the answer of GET /cluster with --json', async () => {
      const up = await start();
      const run = await runCli(['--server', `${down},${up.url}`, '--json', 'status']);
      expect(run.code).toBe(0);
      const answer = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(answer).toEqual({
        nodes: NODES,
        replicas: 3,
        writeQuorum: 2,
        readQuorum: 2,
        vnodes: 128,
        server: up.url,
        servers: [
          {
            url: down,
            status: 'down',
            answered: false,
            error: { code: 'KV_UNAVAILABLE', message: expect.stringMatching(/^cannot reach .*ECONNREFUSED/) },
          },
          { url: up.url, status: 'up', answered: true },
        ],
      });
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

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
