import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, FakeProxy, startFakeProxy } from '../testing/fake-proxy';
import { runCli } from '../testing/run-cli';

const line = (op: object): string => JSON.stringify(op);

describe('kv batch', () => {
  let proxy: FakeProxy;
  let dir: string;

  beforeEach(async () => {
    proxy = await startFakeProxy();
    dir = mkdtempSync(join(tmpdir(), 'kv-batch-'));
  });

  afterEach(async () => {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (lines: string[]): string => {
    const path = join(dir, 'ops.jsonl');
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };

  it('runs a file of operations and prints a summary by status', async () => {
    const path = file([
      line({ op: 'set', key: 'a', value: '1' }),
      line({ op: 'set', key: 'b/c', value: '2' }),
      line({ op: 'del', key: 'a' }),
    ]);
    const run = await runCli(['--server', proxy.url, 'batch', path]);
    expect(run).toEqual({
      code: 0,
      stdout: [
        `3 operations in 1 request to ${proxy.url}`,
        'status  code  set  get  del  total',
        '200     ok      2    0    1      3',
        '',
      ].join('\n'),
      stderr: '',
    });
    expect([...proxy.store.keys()]).toEqual(['b/c']);
    expect(JSON.parse(proxy.requests[0].body)).toEqual({
      ops: [
        { op: 'set', key: 'a', value: '1' },
        { op: 'set', key: 'b/c', value: '2' },
        { op: 'del', key: 'a' },
      ],
    });
  });

  it('sends chunks of at most --chunk operations, one after another, with ?w= and ?r=', async () => {
    const ops = Array.from({ length: 7 }, (_, i) => line({ op: 'set', key: `k${i}`, value: String(i) }));
    const run = await runCli(['--server', proxy.url, 'batch', file(ops), '--chunk', '3', '--w', '3', '--r', '1']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`7 operations in 3 requests to ${proxy.url}`);
    expect(proxy.requests.map((r) => r.url)).toEqual(['/batch?w=3&r=1', '/batch?w=3&r=1', '/batch?w=3&r=1']);
    expect(proxy.requests.map((r) => (JSON.parse(r.body) as { ops: unknown[] }).ops.length)).toEqual([3, 3, 1]);
  });

  it('prints every result as JSON Lines with --json, in order, and reads standard input with "-"', async () => {
    proxy.store.set('x', { value: 'old', version: '0192f1a2b3c4-0000-fake' });
    const input = [line({ op: 'get', key: 'x' }), line({ op: 'get', key: 'missing' }), line({ op: 'set', key: 'y', value: 'v' })];
    const run = await runCli(['--server', proxy.url, '--json', 'batch', '-'], { stdin: input.join('\n') });
    const results = run.stdout
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as unknown);
    expect(results).toEqual([
      { status: 200, key: 'x', value: 'old', version: '0192f1a2b3c4-0000-fake' },
      { status: 404, error: { code: 'KV_NOT_FOUND', message: 'key not found' } },
      { status: 200, key: 'y', version: expect.any(String), acks: 2 },
    ]);
    // Only not-found reads failed: exit 1.
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
  });

  it('exits 3 when an operation failed on the server, and says which codes', async () => {
    proxy.quorumFailures.add('hot');
    const path = file([
      line({ op: 'set', key: 'hot', value: '1' }),
      line({ op: 'get', key: 'missing' }),
      line({ op: 'set', key: 'fine', value: '1' }),
      line({ op: 'set', key: 'big', value: 'x'.repeat(2_000_000) }),
    ]);
    const run = await runCli(['--server', proxy.url, 'batch', path]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe(
      [
        `4 operations in 1 request to ${proxy.url}`,
        'status  code              set  get  del  total',
        '200     ok                  1    0    0      1',
        '404     KV_NOT_FOUND        0    1    0      1',
        '413     KV_TOO_LARGE        1    0    0      1',
        '503     KV_QUORUM_FAILED    1    0    0      1',
        '',
      ].join('\n'),
    );
    expect(run.stderr).toBe(`kv: ${proxy.url}: 2 operations failed (KV_TOO_LARGE 1, KV_QUORUM_FAILED 1)\n`);
  });

  it('stops at a request that fails as a whole and exits 3', async () => {
    await proxy.close();
    proxy = await startFakeProxy({ token: 'secret' });
    const run = await runCli(['--server', proxy.url, 'batch', file([line({ op: 'set', key: 'a', value: '1' })])]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `kv: ${proxy.url}: KV_UNAUTHORIZED: missing or wrong token\nkv: stopped after 0 of 1 operations\n`,
    );
    const url = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await runCli(['--server', url, 'batch', file([line({ op: 'get', key: 'a' })])]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/^kv: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('exits 2 and sends nothing for a malformed file or one that cannot be read', async () => {
    const malformed = await runCli(['--server', proxy.url, 'batch', file([line({ op: 'get', key: 'a' }), '{oops'])]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain(`kv: ${join(dir, 'ops.jsonl')}:2: not valid JSON`);
    expect(malformed.stderr).toContain("Run 'kv batch --help' for usage.");
    const missing = await runCli(['--server', proxy.url, 'batch', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('kv: cannot read');
    expect(missing.stderr).toContain('ENOENT');
    expect(proxy.requests).toHaveLength(0);
  });

  it('draws a progress bar on a terminal', async () => {
    const ops = Array.from({ length: 5 }, (_, i) => line({ op: 'get', key: `k${i}` }));
    const run = await runCli(['--server', proxy.url, 'batch', file(ops), '--chunk', '2'], { stderrIsTTY: true });
    expect(run.stderr).toContain('kv batch [');
    expect(run.stderr).toContain('5 of 5 operations');
  });
});
