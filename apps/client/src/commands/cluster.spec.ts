import { closedPort, FakeProxy, startFakeProxy } from '../testing/fake-proxy';
import { FakeMembership } from '../testing/fake-membership';
import { runCli } from '../testing/run-cli';

const NODE4 = 'node4=http://127.0.0.1:8004';
// Polls of the fake proxy are quick; each one moves a change on by one step.
const FAST = ['--poll-interval', '10'];

describe('kv cluster (in-process, against a fake proxy)', () => {
  let membership: FakeMembership;
  let proxy: FakeProxy;
  let server: string[];

  const restart = async (options: { membership?: FakeMembership; token?: string } = {}): Promise<void> => {
    await proxy?.close();
    membership = options.membership ?? new FakeMembership();
    proxy = await startFakeProxy({ membership, token: options.token });
    server = ['--server', proxy.url];
  };

  beforeEach(async () => {
    await restart();
  });

  afterEach(async () => {
    await proxy.close();
  });

  const changeBodies = (): unknown[] => proxy.requests.filter((r) => r.url === '/cluster/changes').map((r) => JSON.parse(r.body));

  describe('add, remove, replace --dry-run', () => {
    it('prints the plan as a table and changes nothing', async () => {
      const run = await runCli([...server, 'cluster', 'add', NODE4, '--dry-run']);
      expect(run).toEqual({
        code: 0,
        stdout: [
          'dry run: add node4 (nothing was changed)',
          'epoch    the change would start at epoch 2',
          'members  node1 active, node2 active, node3 active, node4 joining',
          'share    25.0% of the ring changes owners',
          '',
          'from               to     ranges  keys    bytes',
          'node1,node2,node3  node4       4   100  9.8 KiB',
          'total                          4   100  9.8 KiB',
          '',
          'keys and bytes are estimates: what the members hold, spread evenly over the ring',
          '',
        ].join('\n'),
        stderr: '',
      });
      expect(changeBodies()).toEqual([{ add: [{ id: 'node4', url: 'http://127.0.0.1:8004' }], remove: [], dryRun: true }]);
      expect(membership.epoch).toBe(1);
    });

    it('groups ranges that move from different members', async () => {
      await restart({
        membership: new FakeMembership({
          members: [1, 2, 3, 4].map((i) => ({ id: `node${i}`, url: `http://127.0.0.1:800${i}` })),
        }),
      });
      const run = await runCli([...server, 'cluster', 'remove', 'node1', '--dry-run']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        ['node1,node2,node3  node2       2    50  4.9 KiB', 'node2,node3,node4  node2       2    50  4.9 KiB', 'total                          4   100  9.8 KiB'].join(
          '\n',
        ),
      );
      expect(run.stdout).toContain('members  node1 leaving, node2 active, node3 active, node4 active\n');
    });

    it('plans a replacement as one change that adds and removes', async () => {
      const run = await runCli([...server, 'cluster', 'replace', 'node1', 'node5=http://127.0.0.1:8005', '--dry-run']);
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n')[0]).toBe('dry run: add node5, remove node1 (nothing was changed)');
      expect(changeBodies()).toEqual([{ add: [{ id: 'node5', url: 'http://127.0.0.1:8005' }], remove: ['node1'], dryRun: true }]);
    });

    it("prints the server's plan with --json", async () => {
      const run = await runCli([...server, '--json', 'cluster', 'add', NODE4, '--dry-run']);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      const plan = JSON.parse(run.stdout);
      expect(plan).toMatchObject({ dryRun: true, epoch: 2, keys: 100, bytes: 10_000, share: 0.25 });
      expect(plan.ranges).toHaveLength(4);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
    });
  });

  describe('add, remove, replace without --wait', () => {
    it('prints the change started, its epoch and how to follow it', async () => {
      const run = await runCli([...server, 'cluster', 'add', NODE4, 'node5=http://127.0.0.1:8005']);
      expect(run).toEqual({
        code: 0,
        stdout: 'change c2-fake1 started at epoch 2: add node4, node5\n',
        stderr: "kv: the change runs in the background: follow it with 'kv cluster status', or use --wait\n",
      });
      expect(changeBodies()).toEqual([
        {
          add: [
            { id: 'node4', url: 'http://127.0.0.1:8004' },
            { id: 'node5', url: 'http://127.0.0.1:8005' },
          ],
          remove: [],
        },
      ]);
    });

    it("prints the server's answer with --json, and no hint", async () => {
      const run = await runCli([...server, '--json', 'cluster', 'replace', 'node2', 'node5=http://127.0.0.1:8005']);
      expect(run).toEqual({ code: 0, stdout: '{"dryRun":false,"epoch":2,"change":"c2-fake1"}\n', stderr: '' });
      expect(changeBodies()).toEqual([{ add: [{ id: 'node5', url: 'http://127.0.0.1:8005' }], remove: ['node2'] }]);
    });

    it('sends the token, and reports a missing one as the server refuses it (exit 3)', async () => {
      await restart({ token: 's3cret' });
      const refused = await runCli([...server, 'cluster', 'add', NODE4]);
      expect(refused).toEqual({ code: 3, stdout: '', stderr: `kv: ${proxy.url}: KV_UNAUTHORIZED: missing or wrong token\n` });
      const run = await runCli([...server, '--token', 's3cret', 'cluster', 'add', NODE4]);
      expect(run.code).toBe(0);
      expect(proxy.requests.at(-1)?.headers.authorization).toBe('Bearer s3cret');
    });
  });

  describe('--wait', () => {
    it('follows the change to its end with plain progress lines on stderr, and prints the members (exit 0)', async () => {
      const run = await runCli([...server, 'cluster', 'add', NODE4, '--wait', ...FAST]);
      expect(run).toEqual({
        code: 0,
        stdout: ['change c2-fake1 started at epoch 2: add node4', 'change c2-fake1 done: 4 members at epoch 4: node1, node2, node3, node4', ''].join('\n'),
        // A line at each new phase; others at most every 5 s, which this quick change never reaches.
        stderr: [
          'kv cluster add: 25% | epoch 2, copy: 1 of 4 ranges streamed, 25 keys, 2.4 KiB',
          'kv cluster add: 99% | epoch 3, read-new: every range streamed; reads go to the new owners',
          'kv cluster add: 100% | done at epoch 4',
          '',
        ].join('\n'),
      });
      const polls = proxy.requests.filter((r) => r.method === 'GET' && r.url === '/cluster');
      expect(polls).toHaveLength(6);
      expect(await runCli([...server, 'cluster', 'status'])).toMatchObject({ code: 0, stdout: expect.stringContaining('epoch   4\n') });
    });

    it('draws a progress bar on a terminal', async () => {
      const run = await runCli([...server, 'cluster', 'remove', 'node1', '--wait', ...FAST], { stderrIsTTY: true });
      expect(run.code).toBe(3);
      // Three members cannot lose one: the bar never starts.
      expect(run.stderr).not.toContain('[');
      await restart({
        membership: new FakeMembership({ members: [1, 2, 3, 4].map((i) => ({ id: `node${i}`, url: `http://127.0.0.1:800${i}` })) }),
      });
      const removal = await runCli([...server, 'cluster', 'remove', 'node1', '--wait', ...FAST], { stderrIsTTY: true });
      expect(removal.code).toBe(0);
      expect(removal.stderr).toContain('kv cluster remove [');
      expect(removal.stderr).toContain('] 100% | done at epoch 4');
      expect(removal.stdout).toBe(
        'change c2-fake1 started at epoch 2: remove node1\nchange c2-fake1 done: 3 members at epoch 4: node2, node3, node4\n',
      );
    });

    it("prints the change started and then the cluster it ended in with --json, one line each", async () => {
      const run = await runCli([...server, '--json', 'cluster', 'replace', 'node1', 'node5=http://127.0.0.1:8005', '--wait', ...FAST]);
      expect(run.code).toBe(0);
      const [started, done, ...rest] = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
      expect(rest).toEqual([]);
      expect(started).toEqual({ dryRun: false, epoch: 2, change: 'c2-fake1' });
      expect(done).toMatchObject({ epoch: 4, change: null });
      expect(done.nodes.map((node: { id: string; member: string }) => `${node.id}:${node.member}`)).toEqual([
        'node2:active',
        'node3:active',
        'node5:active',
      ]);
      expect(run.stderr).toContain('kv cluster replace: 100% | done at epoch 4\n');
    });

    it('gives up at --wait-timeout (exit 3) and says the change goes on', async () => {
      await restart({ membership: new FakeMembership({ rangesPerPoll: 0 }) });
      const started = Date.now();
      const run = await runCli([...server, 'cluster', 'add', NODE4, '--wait', '--wait-timeout', '0.3', ...FAST]);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('change c2-fake1 started at epoch 2: add node4\n');
      expect(run.stderr.split('\n').slice(-2)).toEqual([
        "kv: change c2-fake1 is not done after 0.3 s (epoch 2, copy: 0 of 4 ranges streamed, 0 keys, 0 B); it goes on in the background: follow it with 'kv cluster status'",
        '',
      ]);
      const status = await runCli([...server, 'cluster', 'status']);
      expect(status.stdout).toContain('change  c2-fake1: add node4, phase copy\n');
    });

    it('stops waiting when the proxy is gone for good (exit 3), naming it and the reason', async () => {
      await restart({ membership: new FakeMembership({ rangesPerPoll: 0 }) });
      const url = proxy.url;
      const pending = runCli([...server, 'cluster', 'add', NODE4, '--wait', ...FAST]);
      // The change is started once the proxy recorded it; then the proxy goes away.
      while (membership.changeRequests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await proxy.close();
      const run = await pending;
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(`poll failed (5 in a row): cannot reach ${url}`);
      expect(run.stderr).toMatch(
        new RegExp(`kv: cannot reach ${url.replace(/[.]/g, '\\.')}: .*\nkv: stopped waiting for change c2-fake1; it goes on in the background: follow it with 'kv cluster status'\n$`),
      );
    });
  });

  describe('refusals', () => {
    it.each([
      [['remove', 'node9'], 'KV_CHANGE_REFUSED', 'node node9 is not a member'],
      [['remove', 'node1'], 'KV_CHANGE_REFUSED', 'the cluster would have 2 members, fewer than N=3 copies of each key'],
      [['add', 'node1=http://127.0.0.1:9001'], 'KV_CHANGE_REFUSED', 'node node1 is already a member'],
      [['add', 'node4=http://127.0.0.1:8001'], 'KV_CHANGE_REFUSED', 'http://127.0.0.1:8001 is already the URL of member node1'],
      [['remove', 'node9', '--dry-run'], 'KV_CHANGE_REFUSED', 'node node9 is not a member'],
      [['remove', 'node1', '--wait'], 'KV_CHANGE_REFUSED', 'the cluster would have 2 members, fewer than N=3 copies of each key'],
    ])('%j: prints the code and message, exit 3', async (argv, code, message) => {
      const run = await runCli([...server, 'cluster', ...argv]);
      expect(run).toEqual({ code: 3, stdout: '', stderr: `kv: ${proxy.url}: ${code}: ${message}\n` });
      expect(membership.epoch).toBe(1);
    });

    it('refuses a second change while one is in progress (KV_CHANGE_IN_PROGRESS)', async () => {
      await restart({ membership: new FakeMembership({ rangesPerPoll: 0 }) });
      expect((await runCli([...server, 'cluster', 'add', NODE4])).code).toBe(0);
      const run = await runCli([...server, 'cluster', 'remove', 'node1']);
      expect(run).toEqual({ code: 3, stdout: '', stderr: `kv: ${proxy.url}: KV_CHANGE_IN_PROGRESS: change c2-fake1 is in progress\n` });
    });

    it('prints the error body on stdout with --json', async () => {
      const run = await runCli([...server, '--json', 'cluster', 'remove', 'node9']);
      expect(run.code).toBe(3);
      expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'KV_CHANGE_REFUSED', message: 'node node9 is not a member' } });
      expect(run.stderr).toBe(`kv: ${proxy.url}: KV_CHANGE_REFUSED: node node9 is not a member\n`);
    });

    it('exits 3, never 1, for a proxy without membership changes (it answers KV_NOT_FOUND)', async () => {
      await proxy.close();
      proxy = await startFakeProxy();
      const run = await runCli(['--server', proxy.url, 'cluster', 'remove', 'node1']);
      expect(run).toEqual({ code: 3, stdout: '', stderr: `kv: ${proxy.url}: KV_NOT_FOUND: no such route\n` });
    });

    it('exits 3 when the proxy cannot be reached, naming it and the reason', async () => {
      const port = await closedPort();
      for (const argv of [['add', NODE4], ['status']]) {
        const run = await runCli(['--server', `http://127.0.0.1:${port}`, 'cluster', ...argv]);
        expect(run).toEqual({ code: 3, stdout: '', stderr: `kv: cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n` });
      }
    });
  });

  describe('several proxies (--server with a list)', () => {
    it('goes to the next proxy when the first cannot be reached, and names the one that answered', async () => {
      const down = `http://127.0.0.1:${await closedPort()}`;
      const servers = ['--server', `${down},${proxy.url}`];
      const plan = await runCli([...servers, 'cluster', 'add', NODE4, '--dry-run']);
      expect(plan.code).toBe(0);
      const started = await runCli([...servers, 'cluster', 'add', NODE4, '--wait', ...FAST]);
      expect(started.code).toBe(0);
      expect(started.stdout).toContain('change c2-fake1 done: 4 members at epoch 4');
      const status = await runCli([...servers, 'cluster', 'status']);
      expect(status.stdout.split('\n')[0]).toBe(`server  ${proxy.url}`);
    });
  });

  describe('usage errors: exit 2, nothing sent', () => {
    it.each([
      [['add'], 'nothing to add: name each node as <id>=<url>'],
      [['remove'], 'nothing to remove: name each member by its id'],
      [['add', 'node4'], '"node4" is not <id>=<url>, e.g. node4=http://10.0.0.4:8001'],
      [['add', 'no de=http://h:1'], 'bad node id "no de" in "no de=http://h:1": 1 to 64 letters, digits, "_", "." or "-"'],
      [['add', 'node4=ftp://h:1'], 'bad URL "ftp://h:1" for node node4: expected http:// or https://, e.g. node4=http://10.0.0.4:8001'],
      [['add', 'node4=http://h:99999'], 'bad URL "http://h:99999" for node node4: not a URL, e.g. node4=http://10.0.0.4:8001'],
      [['add', NODE4, 'node4=http://127.0.0.1:9004'], 'node node4 is named twice'],
      [['add', NODE4, 'node5=http://127.0.0.1:8004'], 'nodes node4 and node5 have the same URL http://127.0.0.1:8004'],
      [['remove', 'node1', 'node1'], 'node node1 is named twice'],
      [['remove', 'node/1'], 'bad node id "node/1": 1 to 64 letters, digits, "_", "." or "-"'],
      [['replace', 'node1', 'node1=http://127.0.0.1:9001'], 'cannot replace node1 by itself: give the new node another id'],
      [['replace', 'node1', 'node5'], '"node5" is not <id>=<url>, e.g. node4=http://10.0.0.4:8001'],
      [['add', NODE4, '--dry-run', '--wait'], '--dry-run and --wait do not go together: a dry run changes nothing'],
      [['add', NODE4, '--wait-timeout', '60'], '--wait-timeout needs --wait'],
      [['remove', 'node1', '--poll-interval', '100'], '--poll-interval needs --wait'],
    ])('%j', async (argv, message) => {
      const run = await runCli([...server, 'cluster', ...argv]);
      expect(run).toEqual({ code: 2, stdout: '', stderr: `kv: ${message}\nRun 'kv cluster ${argv[0]} --help' for usage.\n` });
      expect(proxy.requests).toEqual([]);
    });

    it.each([
      [['replace', 'node1'], 'Not enough non-option arguments: got 1, need at least 2'],
      [['add', NODE4, '--wait', '--wait-timeout', '0'], '--wait-timeout must be a number greater than 0 and at most 604800, got 0'],
      [['add', NODE4, '--wait', '--poll-interval', '5'], '--poll-interval must be an integer from 10 to 60000, got 5'],
      [['frobnicate'], 'Unknown argument: frobnicate'],
      [['add', NODE4, '--force'], 'Unknown argument: force'],
      [['status', 'everything'], 'Unknown argument: everything'],
      [[], 'a cluster command is required: add, remove, replace or status'],
    ])('%j (found by the parser)', async (argv, message) => {
      const run = await runCli([...server, 'cluster', ...argv]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(message);
      expect(proxy.requests).toEqual([]);
    });
  });

  describe('status', () => {
    it('prints the members, the epoch and the change in progress with its progress', async () => {
      await restart({ membership: new FakeMembership({ rangesPerChange: 40 }) });
      await runCli([...server, 'cluster', 'add', NODE4]);
      const run = await runCli([...server, 'cluster', 'status']);
      expect(run).toEqual({
        code: 0,
        stdout: [
          `server  ${proxy.url}`,
          'epoch   2',
          'quorum  N=3 W=2 R=2 (128 vnodes per node)',
          'change  c2-fake1: add node4, phase copy',
          '        1 of 40 ranges streamed, 25 keys, 2.4 KiB',
          '',
          'node   url                    member   status  state',
          'node1  http://127.0.0.1:8001  active   up      ready',
          'node2  http://127.0.0.1:8002  active   up      ready',
          'node3  http://127.0.0.1:8003  active   up      ready',
          'node4  http://127.0.0.1:8004  joining  up      ready',
          '',
        ].join('\n'),
        stderr: '',
      });
    });

    it("prints the answer of GET /cluster with --json", async () => {
      const run = await runCli([...server, '--json', 'cluster', 'status']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ epoch: 1, change: null, replicas: 3, nodes: [{ id: 'node1', member: 'active' }, {}, {}] });
    });
  });

  describe('help', () => {
    it('lists the cluster commands in the program help', async () => {
      expect((await runCli(['--help'])).stdout).toContain('kv cluster');
    });

    it('lists the subcommands', async () => {
      const run = await runCli(['cluster', '--help']);
      expect(run.code).toBe(0);
      for (const text of ['kv cluster add', 'kv cluster remove', 'kv cluster replace', 'kv cluster status', 'Examples:']) {
        expect(run.stdout).toContain(text);
      }
    });

    it.each([
      ['add', 'kv cluster add <id>=<url>... [--dry-run | --wait]'],
      ['remove', 'kv cluster remove <id>... [--dry-run | --wait]'],
      ['replace', 'kv cluster replace <old> <id>=<url> [--dry-run | --wait]'],
      ['status', 'kv cluster status'],
    ])('prints help with its usage and examples for %s', async (command, usage) => {
      const run = await runCli(['cluster', command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n')[0]).toBe(usage);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toContain('--server');
      if (command !== 'status') for (const option of ['--dry-run', '--wait', '--wait-timeout', '--poll-interval']) expect(run.stdout).toContain(option);
    });
  });
});
