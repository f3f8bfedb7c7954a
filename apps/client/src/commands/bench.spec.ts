import type { BenchReport } from '../bench/report';
import { closedPort, FakeProxy, startFakeProxy } from '../testing/fake-proxy';
import { runCli } from '../testing/run-cli';

describe('kv bench', () => {
  let proxy: FakeProxy;

  beforeEach(async () => {
    proxy = await startFakeProxy();
  });

  afterEach(async () => {
    await proxy.close();
  });

  it('prints machine-readable results with --json that add up', async () => {
    const run = await runCli(['--server', proxy.url, '--json', 'bench', '--ops', '300', '--connections', '8', '--seed', '7']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(report.settings).toEqual({
      server: proxy.url,
      connections: 8,
      valueSize: 100,
      keys: 100000,
      mix: { set: 50, get: 50, del: 0 },
      batch: null,
      ops: 300,
      durationS: null,
      preload: false,
      w: null,
      r: null,
      seed: 7,
    });
    expect(Object.keys(report.operations)).toEqual(['set', 'get']);
    const { set, get } = report.operations;
    expect((set?.count ?? 0) + (get?.count ?? 0)).toBe(300);
    expect(report.total.count).toBe(300);
    expect(report.total.ok + report.total.notFound + report.total.errorCount).toBe(300);
    expect(report.requests.count).toBe(300);
    expect(report.total.errorCount).toBe(0);
    expect(report.total.latencyMs).toEqual({
      p50: expect.any(Number),
      p90: expect.any(Number),
      p99: expect.any(Number),
      max: expect.any(Number),
      mean: expect.any(Number),
    });
    const l = report.total.latencyMs;
    expect(l !== null && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max).toBe(true);
    expect(report.elapsedS).toBeGreaterThan(0);
    expect(report.interrupted).toBe(false);
  });

  it('prints a table by default, with a row per operation and the total', async () => {
    const run = await runCli(['--server', proxy.url, 'bench', '--ops', '100', '--mix', 'set=1,get=1,del=1', '--connections', '4']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`kv bench ${proxy.url}: 100 operations in ${lines[0].match(/in (\S+) s/)?.[1]} s`);
    expect(lines[1]).toMatch(/^ {2}4 connections, one request per operation, mix set=1,get=1,del=1, 100-byte values, 100000 keys, seed \d+$/);
    expect(lines[3]).toMatch(/^op +count +ops\/s +not found +errors +p50 ms +p90 ms +p99 ms +max ms$/);
    expect(lines.slice(4, 8).map((l) => l.split(/ +/)[0])).toEqual(['set', 'get', 'del', 'total']);
    expect(lines[7].split(/ +/)[1]).toBe('100');
    // Without a TTY and in a short run, stderr stays quiet.
    expect(run.stderr).toBe('');
  });

  it('preloads so that gets find values, and reports keys/s with --batch', async () => {
    const run = await runCli([
      '--server', proxy.url, '--json', 'bench', '--ops', '200', '--keys', '300', '--mix', 'get=1', '--preload', '--batch', '50',
    ]);
    expect(run.code).toBe(0);
    expect(proxy.store.size).toBe(300);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(report.operations.get).toMatchObject({ count: 200, ok: 200, notFound: 0, errorCount: 0 });
    expect(report.requests.count).toBe(4);
    const table = await runCli(['--server', proxy.url, 'bench', '--ops', '20', '--keys', '300', '--batch', '10']);
    expect(table.stdout).toMatch(/^op +count +keys\/s /m);
    expect(table.stdout).toMatch(/^requests: 2 \(\d+\.\d\/s\), 0 failed as a whole; latency p50 /m);
  });

  it('counts gets of missing keys as not found, not as errors', async () => {
    const run = await runCli(['--server', proxy.url, '--json', 'bench', '--ops', '50', '--mix', 'get=1']);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(run.code).toBe(0);
    expect(report.total).toMatchObject({ count: 50, ok: 0, notFound: 50, errorCount: 0 });
  });

  it('runs for --duration seconds', async () => {
    const run = await runCli(['--server', proxy.url, '--json', 'bench', '--duration', '0.2', '--connections', '2']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(report.settings.durationS).toBe(0.2);
    expect(report.elapsedS).toBeGreaterThanOrEqual(0.2);
    expect(report.total.count).toBeGreaterThan(0);
  });

  it('draws a progress bar on a terminal', async () => {
    const run = await runCli(['--server', proxy.url, 'bench', '--ops', '200', '--connections', '2'], { stderrIsTTY: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('kv bench [');
    expect(run.stderr).toContain('200 ops');
  });

  it('exits 3 with a clear message when the proxy cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await runCli(['--server', url, 'bench', '--ops', '10']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^kv: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('exits 3 when every operation failed, and reports the codes', async () => {
    await proxy.close();
    proxy = await startFakeProxy({ token: 'secret' });
    const run = await runCli(['--server', proxy.url, '--json', 'bench', '--ops', '20']);
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(report.total.errors).toEqual({ KV_UNAUTHORIZED: 20 });
    expect(run.stderr).toBe(`kv: ${proxy.url}: every operation failed (KV_UNAUTHORIZED 20)\n`);
    const allowed = await runCli(['--server', proxy.url, '--token', 'secret', 'bench', '--ops', '20']);
    expect(allowed.code).toBe(0);
  });

  it.each([
    [['--mix', 'put=1'], '--mix: unknown operation "put"'],
    [['--mix', 'set=0'], '--mix: the weights must add up to more than 0'],
    [['--ops', '10', '--duration', '1'], 'are mutually exclusive'],
    [['--ops', '0'], '--ops must be an integer from 1 to'],
    [['--duration', '-1'], '--duration must be a number greater than 0'],
    [['--connections', '0'], '--connections must be an integer from 1 to 4096'],
    [['--batch', '1001'], '--batch must be an integer from 1 to 1000'],
    [['--value-size', 'big'], '--value-size must be an integer from 0 to'],
  ])('exits 2 for %j', async (options, message) => {
    const run = await runCli(['--server', proxy.url, 'bench', ...options]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(proxy.requests).toHaveLength(0);
  });
});
