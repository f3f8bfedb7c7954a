import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { closedPort, FakeProxy, startFakeProxy } from './testing/fake-proxy';

const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'dist/apps/client/main.js');

interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
}

// Asynchronous on purpose: the fake proxy runs in this process and must keep answering while the child runs.
function spawn(file: string, args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Spawned> {
  return new Promise((done) => {
    const child = execFile(
      file,
      args,
      { env: options.env ?? { PATH: process.env.PATH }, maxBuffer: 16 * 1024 * 1024, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

// `nx test client` builds first (the target depends on `build`); a direct jest run without a build skips, and says so.
const built = existsSync(MAIN);
if (!built) console.warn(`skipping the tests of the built client: ${MAIN} is missing (run: npx nx build client)`);
const describeBuilt = built ? describe : describe.skip;

describeBuilt('the built client (dist/apps/client/main.js) and the launchers', () => {
  let proxy: FakeProxy;

  beforeAll(async () => {
    proxy = await startFakeProxy();
  });

  afterAll(async () => {
    await proxy.close();
  });

  it('is an executable node script and the package exposes it as the bin "kv"', () => {
    expect(readFileSync(MAIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'dist/apps/client/package.json'), 'utf8')) as {
      bin?: unknown;
      dependencies?: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ kv: './main.js' });
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(expect.arrayContaining(['yargs', 'cli-progress', 'axios']));
  });

  it('runs commands with the exit codes of the contract', async () => {
    expect(await spawn('node', [MAIN, '--server', proxy.url, 'set', 'k', 'v'])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
    expect(await spawn('node', [MAIN, '--server', proxy.url, 'get', 'k'])).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
    expect((await spawn('node', [MAIN, '--server', proxy.url, 'get', 'nope'])).code).toBe(1);
    expect((await spawn('node', [MAIN, 'get'])).code).toBe(2);
    const unreachable = await spawn('node', [MAIN, '--server', `http://127.0.0.1:${await closedPort()}`, 'get', 'k']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/^kv: cannot reach http:\/\/127\.0\.0\.1:\d+: /);
    // Six processes in turn: allow for a loaded machine.
  }, 30_000);

  it('reads KV_SERVER and a value from standard input', async () => {
    const env = { PATH: process.env.PATH, KV_SERVER: proxy.url };
    expect((await spawn('node', [MAIN, 'set', 'piped', '-'], { env, stdin: 'from stdin\n' })).code).toBe(0);
    expect(proxy.store.get('piped')?.value).toBe('from stdin\n');
  });

  it('writes a large value to a pipe completely before exiting', async () => {
    const value = 'x'.repeat(1_000_000);
    proxy.store.set('large', { value, version: '0192f1a2b3c4-0000-fake' });
    const run = await spawn('node', [MAIN, '--server', proxy.url, 'get', 'large']);
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(value.length + 1);
  });

  it("works verbatim as the Go client's bin/client, and as bin/kv", async () => {
    const set = await spawn(join(ROOT, 'bin/client'), ['-server', proxy.url, 'set', 'mykey', 'myvalue']);
    expect(set).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
    const get = await spawn(join(ROOT, 'bin/client'), ['-server', proxy.url, 'get', 'mykey']);
    expect(get).toEqual({ code: 0, stdout: 'myvalue\n', stderr: '' });
    const viaKv = await spawn(join(ROOT, 'bin/kv'), ['--server', proxy.url, '--json', 'get', 'mykey']);
    expect(JSON.parse(viaKv.stdout)).toMatchObject({ key: 'mykey', value: 'myvalue' });
  });
});

describe('bin/kv when the client is not built', () => {
  let dir: string;

  beforeEach(() => {
    // A copy of the launcher in an empty checkout, with a stand-in npx on the PATH: no real build runs.
    dir = mkdtempSync(join(tmpdir(), 'kv-launcher-'));
    mkdirSync(join(dir, 'repo/bin'), { recursive: true });
    mkdirSync(join(dir, 'path'));
    copyFileSync(join(ROOT, 'bin/kv'), join(dir, 'repo/bin/kv'));
    chmodSync(join(dir, 'repo/bin/kv'), 0o755);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const fakeNpx = (script: string): void => {
    writeFileSync(join(dir, 'path/npx'), `#!/usr/bin/env bash\n${script}\n`);
    chmodSync(join(dir, 'path/npx'), 0o755);
  };
  const env = (): NodeJS.ProcessEnv => ({ PATH: `${join(dir, 'path')}:${process.env.PATH}` });

  it('builds it first, then runs it with every argument', async () => {
    fakeNpx(
      'echo "npx $*" > npx-args\nmkdir -p dist/apps/client\necho \'console.log(process.argv.slice(2).join("|"))\' > dist/apps/client/main.js',
    );
    const run = await spawn(join(dir, 'repo/bin/kv'), ['-server', 'http://h:1', 'set', 'a b', ''], { env: env() });
    expect(run).toEqual({
      code: 0,
      stdout: '-server|http://h:1|set|a b|\n',
      stderr: `kv: ${join(dir, 'repo/dist/apps/client/main.js')} is missing: building the client (npx nx build client)...\n`,
    });
    expect(readFileSync(join(dir, 'repo/npx-args'), 'utf8')).toBe('npx nx build client --output-style=static\n');
  });

  it('exits 2 with the build log and what to do when the build fails', async () => {
    fakeNpx('echo "error TS1234: something broke"\nexit 1');
    const run = await spawn(join(dir, 'repo/bin/kv'), ['get', 'k'], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error TS1234: something broke');
    expect(run.stderr).toContain("kv: the build failed; run 'npm install' and then 'npm run build' in");
  });
});
