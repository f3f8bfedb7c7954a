import { ErrorCode, KvError } from '@kv/protocol';
import { COMMAND_TABLE } from './command-table';
import { MemoryBackend } from './testing/memory-backend';
import { SessionHarness, type Parsed } from './testing/session-harness';

/** Runs commands on a fresh connection and returns their replies (RESP2, read by redis-parser). */
async function run(commands: (string | Buffer)[][], options: ConstructorParameters<typeof SessionHarness>[0] = {}): Promise<Parsed[]> {
  const h = new SessionHarness(options);
  h.command(...commands);
  return h.waitForReplies(commands.length);
}

describe('commands', () => {
  test.each<[string, (string | Buffer)[][], Parsed[]]>([
    ['PING', [['PING'], ['ping', 'hi']], ['PONG', 'hi']],
    ['ECHO', [['ECHO', 'x y']], ['x y']],
    ['SET then GET', [['SET', 'k', 'v'], ['GET', 'k']], ['OK', 'v']],
    ['GET of a missing key is nil', [['GET', 'nope']], [null]],
    ['UTF-8 keys and values', [['SET', 'clé', 'été'], ['GET', 'clé'], ['STRLEN', 'clé']], ['OK', 'été', 5]],
    ['an empty value', [['SET', 'k', ''], ['GET', 'k'], ['EXISTS', 'k']], ['OK', '', 1]],
    ['DEL counts the keys that existed', [['MSET', 'a', '1', 'b', '2'], ['DEL', 'a', 'b', 'c', 'a'], ['MGET', 'a', 'b']], ['OK', 2, [null, null]]],
    ['UNLINK is DEL', [['SET', 'a', '1'], ['UNLINK', 'a'], ['EXISTS', 'a']], ['OK', 1, 0]],
    ['EXISTS counts repeats', [['SET', 'a', '1'], ['EXISTS', 'a', 'a', 'b']], ['OK', 2]],
    ['MSET: the last value of a key wins', [['MSET', 'a', '1', 'a', '2'], ['GET', 'a']], ['OK', '2']],
    ['MGET', [['SET', 'a', '1'], ['MGET', 'a', 'b', 'a']], ['OK', ['1', null, '1']]],
    ['STRLEN of a missing key', [['STRLEN', 'x']], [0]],
    ['SELECT 0', [['SELECT', '0']], ['OK']],
    ['SELECT 1', [['SELECT', '1']], [{ error: 'ERR DB index is out of range (kv has one keyspace: database 0)' }]],
    ['SELECT x', [['SELECT', 'x']], [{ error: 'ERR value is not an integer or out of range' }]],
    ['CLIENT SETNAME / GETNAME / ID', [['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', 'app'], ['CLIENT', 'GETNAME'], ['CLIENT', 'ID']], [null, 'OK', 'app', 7]],
    ['CLIENT SETNAME refuses spaces', [['CLIENT', 'SETNAME', 'a b']], [{ error: 'ERR Client names cannot contain spaces, newlines or special characters.' }]],
    ['CLIENT SETINFO is accepted', [['CLIENT', 'SETINFO', 'LIB-NAME', 'ioredis']], ['OK']],
    ['CLIENT with an unknown subcommand', [['CLIENT', 'KILL']], [{ error: "ERR unknown subcommand 'KILL'. Try CLIENT HELP." }]],
    ['CLIENT SETNAME with wrong arity', [['CLIENT', 'SETNAME']], [{ error: "ERR wrong number of arguments for 'client|setname' command" }]],
    ['CLIENT KV-QUORUM shows and sets', [['CLIENT', 'KV-QUORUM'], ['CLIENT', 'KV-QUORUM', '3', '1'], ['CLIENT', 'KV-QUORUM'], ['CLIENT', 'KV-QUORUM', '0', '0'], ['CLIENT', 'KV-QUORUM']], [['w', 2, 'r', 2, 'replicas', 3], 'OK', ['w', 3, 'r', 1, 'replicas', 3], 'OK', ['w', 2, 'r', 2, 'replicas', 3]]],
    ['CLIENT KV-QUORUM refuses more than N', [['CLIENT', 'KV-QUORUM', '4', '1']], [{ error: "ERR kv: w must be an integer in 0..3 (0: the cluster's W, 2)" }]],
    ['CLIENT KV-QUORUM with one number', [['CLIENT', 'KV-QUORUM', '1']], [{ error: "ERR wrong number of arguments for 'client|kv-quorum' command" }]],
    ['DBSIZE says why not', [['DBSIZE']], [{ error: 'ERR kv: DBSIZE is not supported: the proxy cannot count keys without reading every replica, and replicas may disagree until repaired, so any number would be a guess' }]],
    ['TIME', [['TIME']], [['1700000000', '123000']]],
    ['COMMAND COUNT', [['COMMAND', 'COUNT']], [COMMAND_TABLE.length]],
    ['COMMAND LIST', [['COMMAND', 'LIST']], [COMMAND_TABLE.map((s) => s.name)]],
    ['COMMAND INFO get', [['COMMAND', 'INFO', 'get', 'nope']], [[['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@string'], [], [], []], null]]],
    ['QUIT', [['QUIT']], ['OK']],
    ['without a token, the default user takes any password', [['AUTH', 'default', 'x'], ['AUTH', 'other', 'x']], ['OK', { error: 'WRONGPASS invalid username-password pair or user is disabled.' }]],
  ])('%s', async (_name, commands, expected) => {
    expect(await run(commands)).toEqual(expected);
  });

  test('CLIENT KV-QUORUM is passed to the backend as w and r', async () => {
    const backend = new MemoryBackend();
    await run([['CLIENT', 'KV-QUORUM', '3', '1'], ['SET', 'k', 'v'], ['GET', 'k']], { backend });
    expect(backend.quorums).toEqual([{ w: 3 }, { r: 1 }]);
  });

  test('COMMAND DOCS has what redis-cli builds its hints from', async () => {
    const [docs] = await run([['COMMAND', 'DOCS', 'set', 'client']]);
    const flat = docs as Parsed[];
    expect(flat[0]).toBe('set');
    const set = flat[1] as Parsed[];
    expect(set.slice(0, 6)).toEqual(['summary', expect.stringContaining('Writes a key'), 'since', '1.0.0', 'group', 'string']);
    expect(set[7]).toContainEqual(['name', 'key', 'type', 'key']);
    const client = flat[3] as Parsed[];
    const subcommands = client[client.indexOf('subcommands') + 1] as Parsed[];
    expect(subcommands).toContain('client|kv-quorum');
  });

  test('COMMAND describes every command', async () => {
    const [all] = await run([['COMMAND']]);
    expect((all as Parsed[][]).map((entry) => entry[0])).toEqual(COMMAND_TABLE.map((s) => s.name));
  });

  test('INFO: server, clients, stats, replication as N/W/R and nodes; says MSET is not atomic', async () => {
    const h = new SessionHarness();
    h.command(['SET', 'a', '1'], ['GET', 'a'], ['GET', 'b']);
    await h.waitForReplies(3);
    h.command(['INFO']);
    const [text] = await h.waitForReplies(1);
    expect(text).toEqual(expect.stringContaining('# Server\r\nredis_version:7.0.0\r\n'));
    for (const line of ['connected_clients:1', 'tcp_port:6379', 'keyspace_hits:1', 'keyspace_misses:1', 'kv_replicas:3', 'kv_write_quorum:2', 'kv_read_quorum:2', 'kv_nodes_up:2', 'kv_node2:id=node3,status=down', 'uptime_in_seconds:5']) {
      expect(text).toEqual(expect.stringContaining(`${line}\r\n`));
    }
    expect(text).toMatch(/kv_note:MSET .*not atomic/);
    const [replication] = await run([['INFO', 'replication']]);
    expect(replication).toMatch(/^# Replication\r\n/);
    expect(replication).not.toMatch(/# Server/);
  });
});

describe('errors in Redis shape', () => {
  test.each<[string, (string | Buffer)[], string]>([
    ['unknown command', ['FLUSHALL', 'ASYNC'], "ERR unknown command 'FLUSHALL', with args beginning with: 'ASYNC' "],
    ['unknown command without args', ['foo'], "ERR unknown command 'foo', with args beginning with: "],
    ['wrong arity of GET', ['GET'], "ERR wrong number of arguments for 'get' command"],
    ['wrong arity of GET (too many)', ['GET', 'a', 'b'], "ERR wrong number of arguments for 'get' command"],
    ['MSET with an odd count', ['MSET', 'a', '1', 'b'], "ERR wrong number of arguments for 'mset' command"],
    ['SET with a bad option', ['SET', 'k', 'v', 'FOO'], 'ERR syntax error'],
    ['SET EX without a number', ['SET', 'k', 'v', 'EX'], 'ERR syntax error'],
    ['SET EX 0', ['SET', 'k', 'v', 'EX', '0'], "ERR invalid expire time in 'set' command"],
    ['SET EX without TTL support', ['SET', 'k', 'v', 'EX', '10'], 'ERR kv: expiry (EX, PX, EXAT, PXAT, KEEPTTL, SETEX, PSETEX, TTL, PTTL, EXPIRE, PEXPIRE, PERSIST) needs TTL support, which this backend does not have'],
    ['SET KEEPTTL without TTL support', ['SET', 'k', 'v', 'KEEPTTL'], expect.stringContaining('needs TTL support') as unknown as string],
    ['TTL without TTL support', ['TTL', 'k'], expect.stringContaining('needs TTL support') as unknown as string],
    ['EXPIRE without TTL support', ['EXPIRE', 'k', '10'], expect.stringContaining('needs TTL support') as unknown as string],
    ['PERSIST without TTL support', ['PERSIST', 'k'], expect.stringContaining('needs TTL support') as unknown as string],
    ['SET NX', ['SET', 'k', 'v', 'NX'], 'ERR kv: SET NX, XX and GET need compare-and-set, which this kv cluster does not support'],
    ['SET XX GET', ['SET', 'k', 'v', 'XX', 'GET'], 'ERR kv: SET NX, XX and GET need compare-and-set, which this kv cluster does not support'],
    ['SET NX XX', ['SET', 'k', 'v', 'NX', 'XX'], 'ERR syntax error'],
    ['a key that is not UTF-8', ['SET', Buffer.from([0xff]), 'v'], 'ERR kv stores UTF-8 text: the key is not valid UTF-8'],
    ['a value that is not UTF-8', ['SET', 'k', Buffer.from([0xc3, 0x28])], 'ERR kv stores UTF-8 text: the value is not valid UTF-8'],
    ['an encoded surrogate', ['SET', 'k', Buffer.from([0xed, 0xa0, 0x80])], 'ERR kv stores UTF-8 text: the value is not valid UTF-8'],
    ['an empty key', ['GET', ''], 'ERR kv: key must be 1 to 1024 bytes of UTF-8, got 0'],
    ['a key over 1024 bytes', ['GET', 'k'.repeat(1025)], 'ERR kv: key must be 1 to 1024 bytes of UTF-8, got 1025'],
    ['a value over MAX_VALUE_BYTES', ['SET', 'k', 'v'.repeat(1025)], 'ERR kv: value must be at most 1024 bytes of UTF-8 (MAX_VALUE_BYTES), got 1025'],
    ['a bad key in MSET', ['MSET', 'a', '1', '', '2'], 'ERR kv: key must be 1 to 1024 bytes of UTF-8, got 0'],
    ['HELLO 4', ['HELLO', '4'], 'NOPROTO unsupported protocol version'],
    ['HELLO x', ['HELLO', 'x'], 'ERR Protocol version is not an integer or out of range'],
    ['AUTH without a token configured', ['AUTH', 'secret'], 'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'],
  ])('%s', async (_name, command, message) => {
    expect(await run([command])).toEqual([{ error: message }]);
  });

  test('a quorum failure is TRYAGAIN with what the replicator said; a missing key is nil', async () => {
    const backend = new MemoryBackend();
    backend.failures.set('k', new KvError(ErrorCode.QuorumFailed, 'write acknowledged by 1 of 2 required replicas; the outcome is unknown', { details: { acks: 1, required: 2 } }));
    expect(await run([['SET', 'k', 'v'], ['GET', 'other']], { backend })).toEqual([
      { error: 'TRYAGAIN kv: write acknowledged by 1 of 2 required replicas; the outcome is unknown' },
      null,
    ]);
  });

  test.each([
    [ErrorCode.NotReady, 'this proxy has not joined the cluster yet'],
    [ErrorCode.Overloaded, 'too many requests in flight'],
    [ErrorCode.Unavailable, 'the coordinator is stopping'],
  ])('%s, a refusal that passes with time, is TRYAGAIN too', async (code, message) => {
    const backend = new MemoryBackend();
    backend.failures.set('k', new KvError(code, message));
    expect(await run([['GET', 'k']], { backend })).toEqual([{ error: `TRYAGAIN kv: ${message}` }]);
  });

  test('an object with a code is mapped too; anything else is an internal error without details', async () => {
    const backend = new MemoryBackend();
    backend.failures.set('bad', Object.assign(new Error('key must be well-formed'), { code: 'KV_INVALID_KEY' }));
    backend.failures.set('bug', new Error('secret stack'));
    expect(await run([['GET', 'bad'], ['GET', 'bug']], { backend })).toEqual([{ error: 'ERR kv: key must be well-formed' }, { error: 'ERR kv: internal error' }]);
  });

  test('MSET that fails for some keys says how many were written, and that it is not atomic', async () => {
    const backend = new MemoryBackend();
    backend.failures.set('b', new KvError(ErrorCode.QuorumFailed, 'write acknowledged by 0 of 2 required replicas; the outcome is unknown', { details: { acks: 0, required: 2 } }));
    const [answer] = await run([['MSET', 'a', '1', 'b', '2', 'c', '3']], { backend });
    expect(answer).toEqual({
      error: 'TRYAGAIN kv: MSET wrote 2 of 3 keys (not atomic: the others stay as they are); first failure: write acknowledged by 0 of 2 required replicas; the outcome is unknown',
    });
    expect([...backend.entries.keys()].sort()).toEqual(['a', 'c']);
  });

  test('MGET fails whole when a read fails', async () => {
    const backend = new MemoryBackend();
    backend.failures.set('b', new KvError(ErrorCode.QuorumFailed, 'read answered by 1 of 2 required replicas', { details: { acks: 1, required: 2 } }));
    expect(await run([['MGET', 'a', 'b']], { backend })).toEqual([{ error: 'TRYAGAIN kv: read answered by 1 of 2 required replicas' }]);
  });

  test('more keys than /batch allows', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => `k${i}`);
    expect(await run([['MGET', ...keys]])).toEqual([{ error: 'ERR kv: a command takes at most 1000 keys (like /batch), got 1001' }]);
  });
});

describe('with TTL support in the backend', () => {
  const ttl = () => new MemoryBackend({ ttl: true });

  test('SET EX/PX/EXAT/PXAT, SETEX, PSETEX, TTL, PTTL', async () => {
    const backend = ttl();
    const now = backend.clockMs;
    const replies = await run(
      [
        ['SET', 'a', '1', 'EX', '10'],
        ['TTL', 'a'],
        ['PTTL', 'a'],
        ['SET', 'a', '2'],
        ['TTL', 'a'],
        ['SET', 'b', '1', 'PX', '1500'],
        ['PTTL', 'b'],
        ['SET', 'c', '1', 'EXAT', String(Math.floor(now / 1000) + 20)],
        ['SET', 'd', '1', 'PXAT', String(now + 2000)],
        ['PTTL', 'd'],
        ['SETEX', 'e', '30', 'x'],
        ['TTL', 'e'],
        ['PSETEX', 'f', '250', 'y'],
        ['PTTL', 'f'],
        ['GET', 'f'],
        ['SETEX', 'g', '0', 'x'],
        ['TTL', 'missing'],
      ],
      { backend },
    );
    expect(replies).toEqual([
      'OK', 10, 10000, 'OK', -1, 'OK', 1500, 'OK', 'OK', 2000, 'OK', 30, 'OK', 250, 'y',
      { error: "ERR invalid expire time in 'setex' command" }, -2,
    ]);
  });

  test('KEEPTTL, EXPIRE, PEXPIRE and PERSIST need compare-and-set: refused, naming why', async () => {
    const replies = await run([['SET', 'a', '1', 'KEEPTTL'], ['EXPIRE', 'a', '10'], ['PEXPIRE', 'a', '10'], ['PERSIST', 'a']], { backend: ttl() });
    for (const r of replies) expect(r).toEqual({ error: expect.stringContaining('needs compare-and-set (a SET in between would be lost)') as unknown as string });
  });

  test('SETEX and PSETEX without TTL support are refused', async () => {
    expect(await run([['SETEX', 'a', '10', 'v']])).toEqual([{ error: expect.stringContaining('needs TTL support') as unknown as string }]);
  });

  test('with compare-and-set too: KEEPTTL, EXPIRE, PERSIST rewrite the value', async () => {
    const backend = new MemoryBackend({ ttl: true, compareAndSet: true });
    const now = backend.clockMs;
    const replies = await run(
      [
        ['SET', 'a', '1', 'EX', '10'],
        ['TTL', 'a'],
        ['PTTL', 'a'],
        ['SET', 'a', '2', 'KEEPTTL'],
        ['PTTL', 'a'],
        ['PERSIST', 'a'],
        ['TTL', 'a'],
        ['PEXPIRE', 'a', '1500'],
        ['PTTL', 'a'],
        ['TTL', 'missing'],
        ['SET', 'b', '1', 'PXAT', String(now + 2000)],
        ['PTTL', 'b'],
        ['EXPIRE', 'b', '0'],
        ['EXISTS', 'b'],
      ],
      { backend },
    );
    expect(replies).toEqual(['OK', 10, 10000, 'OK', 10000, 1, -1, 1, 1500, -2, 'OK', 2000, 1, 0]);
  });

  test('EXPIRE NX needs compare-and-set', async () => {
    expect(await run([['EXPIRE', 'a', '10', 'NX']], { backend: ttl() })).toEqual([
      { error: 'ERR kv: EXPIRE options NX, XX, GT and LT need compare-and-set, which this kv cluster does not support' },
    ]);
  });
});
