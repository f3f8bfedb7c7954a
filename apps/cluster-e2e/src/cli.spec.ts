import { TestCluster, keepClusterFiles, repoRoot } from '@kv/testkit';
import { spawn } from 'node:child_process';
import path from 'node:path';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a launcher of the repository root (`bin/kv`, `bin/client`) with arguments, environment and standard input. */
function run(launcher: 'kv' | 'client', args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot(), 'bin', launcher), args, {
      env: { ...process.env, KV_SERVER: '', KV_TOKEN: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

let cluster: TestCluster;
let server: string;

beforeAll(async () => {
  cluster = await TestCluster.start({ proxyEnv: { AUTH_TOKEN: 'cli-token' } });
  server = cluster.proxyUrl;
});

afterAll(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
});

describe('the kv CLI against a running cluster', () => {
  test('the original client usage works verbatim: bin/client -server URL set / get', async () => {
    const env = { KV_TOKEN: 'cli-token' };
    expect(await run('client', ['-server', server, 'set', 'mykey', 'myvalue'], { env })).toMatchObject({ code: 0 });
    expect(await run('client', ['-server', server, 'get', 'mykey'], { env })).toEqual({ code: 0, stdout: 'myvalue\n', stderr: '' });
  });

  test('set, get, del, with --token, KV_SERVER and a value from standard input', async () => {
    const token = ['--token', 'cli-token'];
    expect((await run('kv', ['--server', server, ...token, 'set', 'k 1/é', 'v1'])).code).toBe(0);
    expect((await run('kv', [...token, 'get', 'k 1/é'], { env: { KV_SERVER: server } })).stdout).toBe('v1\n');
    expect((await run('kv', ['--server', server, ...token, 'set', 'multi', '-'], { stdin: 'line one\nline two\n' })).code).toBe(0);
    expect((await run('kv', ['--server', server, ...token, 'get', 'multi'])).stdout).toBe('line one\nline two\n\n');
    expect((await run('kv', ['--server', server, ...token, 'del', 'k 1/é'])).code).toBe(0);
    expect(await run('kv', ['--server', server, ...token, 'get', 'k 1/é'])).toMatchObject({ code: 1, stdout: '' });
  });

  test('--json prints the server answers', async () => {
    const base = ['--server', server, '--token', 'cli-token', '--json'];
    const set = await run('kv', [...base, 'set', 'j', 'value']);
    expect(JSON.parse(set.stdout)).toEqual({ key: 'j', version: expect.any(String), acks: 2 });
    const get = await run('kv', [...base, 'get', 'j']);
    expect(JSON.parse(get.stdout)).toEqual({ key: 'j', value: 'value', version: JSON.parse(set.stdout).version });
    const status = await run('kv', [...base, 'status']);
    expect(JSON.parse(status.stdout)).toMatchObject({ replicas: 3, writeQuorum: 2, readQuorum: 2 });
  });

  test('status prints a table of nodes', async () => {
    const status = await run('kv', ['--server', server, 'status']);
    expect(status.code).toBe(0);
    for (const node of cluster.nodes) expect(status.stdout).toMatch(new RegExp(`${node.id}\\s+\\S+\\s+up`));
  });

  test('exit codes: 1 not found, 2 usage, 3 unauthorized, server error or unreachable', async () => {
    expect((await run('kv', ['--server', server, '--token', 'cli-token', 'get', 'no-such-key'])).code).toBe(1);
    expect((await run('kv', ['--server', server, 'frobnicate'])).code).toBe(2);
    expect((await run('kv', ['--server', server, 'set', 'only-key'])).code).toBe(2);
    const unauthorized = await run('kv', ['--server', server, 'get', 'j']);
    expect(unauthorized.code).toBe(3);
    expect(unauthorized.stderr).toContain('KV_UNAUTHORIZED');
    const unreachable = await run('kv', ['--server', 'http://127.0.0.1:1', 'get', 'j']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('http://127.0.0.1:1');
  });

  test('a quorum failure exits 3 and says the outcome is unknown', async () => {
    await cluster.killNode('node1');
    await cluster.killNode('node2');
    try {
      const res = await run('kv', ['--server', server, '--token', 'cli-token', 'set', 'q', 'v']);
      expect(res.code).toBe(3);
      expect(res.stderr).toContain('KV_QUORUM_FAILED');
      expect(res.stderr).toContain('unknown');
    } finally {
      await cluster.restartNode('node1');
      await cluster.restartNode('node2');
    }
  });

  test('bench runs against the cluster and reports its figures as JSON', async () => {
    const res = await run('kv', ['--server', server, '--token', 'cli-token', '--json', 'bench', '--ops', '400', '--connections', '8', '--keys', '50']);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(JSON.stringify(report)).toContain('p99');
  });
});
