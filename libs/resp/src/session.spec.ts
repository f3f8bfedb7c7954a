import type { RespCallOptions } from './backend';
import { MemoryBackend } from './testing/memory-backend';
import { SessionHarness, encodeCommand } from './testing/session-harness';

describe('pipelining', () => {
  test('replies come in the order sent, whatever order commands finish in', async () => {
    const backend = new MemoryBackend();
    backend.delays.set('slow', 30);
    const h = new SessionHarness({ backend });
    h.command(['SET', 'slow', '1'], ['SET', 'fast', '2'], ['GET', 'slow'], ['PING'], ['GET', 'fast']);
    expect(await h.waitForReplies(5)).toEqual(['OK', 'OK', '1', 'PONG', '2']);
    // The write of the fast key did not wait for the slow one; the read of the slow key did.
    expect(backend.calls).toEqual(['set slow', 'set fast', 'get fast', 'get slow']);
  });

  test('commands on one key run in the order sent', async () => {
    const backend = new MemoryBackend();
    backend.delays.set('k', 5);
    const h = new SessionHarness({ backend });
    h.command(['SET', 'k', 'a'], ['GET', 'k'], ['SET', 'k', 'b'], ['DEL', 'k'], ['GET', 'k'], ['SET', 'k', 'c'], ['MGET', 'k']);
    expect(await h.waitForReplies(7)).toEqual(['OK', 'a', 'OK', 1, null, 'OK', ['c']]);
  });

  test('a state change (AUTH, CLIENT KV-QUORUM) applies to the commands after it, not before', async () => {
    const backend = new MemoryBackend();
    backend.delays.set('k', 10);
    const h = new SessionHarness({ backend, authToken: 's3cret' });
    h.command(['GET', 'k'], ['AUTH', 's3cret'], ['CLIENT', 'KV-QUORUM', '3', '3'], ['GET', 'k'], ['CLIENT', 'KV-QUORUM', '0', '0'], ['GET', 'k']);
    expect(await h.waitForReplies(6)).toEqual([{ error: 'NOAUTH Authentication required.' }, 'OK', 'OK', null, 'OK', null]);
    expect(backend.quorums).toEqual([{ r: 3 }, {}]);
  });

  test('a command running when its connection closes is told that its client went away', async () => {
    const backend = new MemoryBackend();
    let clientGone: (() => boolean) | undefined;
    const get = backend.get.bind(backend);
    backend.get = (key: string, options: { r?: number } & RespCallOptions) => {
      clientGone = options.clientGone;
      return get(key, options);
    };
    const h = new SessionHarness({ backend });
    h.command(['GET', 'k']);
    for (let i = 0; i < 10 && clientGone === undefined; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(clientGone?.()).toBe(false);
    h.session.closed();
    expect(clientGone?.()).toBe(true);
  });

  test('inline and multibulk commands mix', async () => {
    const h = new SessionHarness();
    h.send('SET a 1\r\n' + encodeCommand(['GET', 'a']).toString('latin1') + 'ECHO "x y"\n');
    expect(await h.waitForReplies(3)).toEqual(['OK', '1', 'x y']);
  });

  test('at most pipelineCommandsMax commands unanswered: reading pauses, then resumes', async () => {
    const backend = new MemoryBackend();
    backend.delays.set('k', 20);
    const h = new SessionHarness({ backend, pipelineCommandsMax: 2 });
    h.command(['GET', 'k'], ['GET', 'k'], ['GET', 'k'], ['PING']);
    expect(h.paused).toBe(true);
    expect(h.session.unanswered).toBe(2);
    expect(await h.waitForReplies(4)).toEqual([null, null, null, 'PONG']);
    expect(h.paused).toBe(false);
    expect(h.events).toEqual(['pause', 'resume']);
  });

  test('a slow reader: reading stops while output is not drained, and goes on after drain', async () => {
    const h = new SessionHarness({ outputBytesHighWater: 100 });
    h.pendingOutputBytes = 150;
    h.command(['PING'], ['PING']);
    expect(h.paused).toBe(true);
    expect(h.take().length).toBe(0);
    h.pendingOutputBytes = 0;
    h.session.drained();
    expect(h.paused).toBe(false);
    expect(h.replies()).toEqual(['PONG', 'PONG']);
  });

  test('many pipelined commands in one chunk do not grow the stack', async () => {
    const h = new SessionHarness({ pipelineCommandsMax: 100_000 });
    h.send(Buffer.concat(Array.from({ length: 20_000 }, () => Buffer.from('*1\r\n$4\r\nPING\r\n'))));
    expect(h.replies().length).toBe(20_000);
  });

  test('QUIT: nothing after it runs; the connection closes once the replies before are out', async () => {
    const backend = new MemoryBackend();
    backend.delays.set('k', 10);
    const h = new SessionHarness({ backend });
    h.command(['SET', 'k', 'v'], ['QUIT'], ['SET', 'other', 'v']);
    expect(await h.waitForReplies(2)).toEqual(['OK', 'OK']);
    expect(h.ended).toBe(true);
    expect(backend.calls).toEqual(['set k']);
  });

  test('a protocol error is answered after the replies before it, then the connection closes', async () => {
    const h = new SessionHarness();
    h.send(encodeCommand(['PING']).toString('latin1') + '*1\r\n$x\r\n');
    expect(await h.waitForReplies(2)).toEqual(['PONG', { error: 'ERR Protocol error: invalid bulk length' }]);
    expect(h.ended).toBe(true);
  });

  test('a bulk over the argument limit is a protocol error; a value over MAX_VALUE_BYTES only an error', async () => {
    const h = new SessionHarness({ limits: { valueBytesMax: 10, argBytesMax: 100 } });
    h.command(['SET', 'k', 'x'.repeat(11)]);
    expect(await h.waitForReplies(1)).toEqual([{ error: 'ERR kv: value must be at most 10 bytes of UTF-8 (MAX_VALUE_BYTES), got 11' }]);
    expect(h.ended).toBe(false);
    h.send('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$101\r\n');
    expect(await h.waitForReplies(1)).toEqual([{ error: 'ERR Protocol error: invalid bulk length (an argument has at most 100 bytes)' }]);
    expect(h.ended).toBe(true);
  });

  test('metrics records: one per command, with its name (unknown for unknown ones) and status', async () => {
    const h = new SessionHarness();
    h.command(['SET', 'k', 'v'], ['GET'], ['NOPE'], ['DBSIZE']);
    await h.waitForReplies(4);
    // In the order they finished: the write took a turn of the event loop.
    expect(h.records.map((r) => [r.command, r.status]).sort()).toEqual([
      ['dbsize', 'err'],
      ['get', 'err'],
      ['set', 'ok'],
      ['unknown', 'err'],
    ]);
  });
});

describe('authentication', () => {
  test('with AUTH_TOKEN, everything but AUTH, HELLO and QUIT needs AUTH first', async () => {
    const h = new SessionHarness({ authToken: 's3cret' });
    h.command(['PING'], ['GET', 'k'], ['AUTH', 'wrong'], ['AUTH', 'other', 's3cret'], ['AUTH', 'default', 's3cret'], ['PING']);
    expect(await h.waitForReplies(6)).toEqual([
      { error: 'NOAUTH Authentication required.' },
      { error: 'NOAUTH Authentication required.' },
      { error: 'WRONGPASS invalid username-password pair or user is disabled.' },
      { error: 'WRONGPASS invalid username-password pair or user is disabled.' },
      'OK',
      'PONG',
    ]);
  });

  test('with a list of tokens (a rotation), AUTH takes any of them and nothing else', async () => {
    for (const token of ['new-token', 'old-token']) {
      const h = new SessionHarness({ authToken: ['new-token', 'old-token'] });
      h.command(['AUTH', 'new-token,old-token'], ['AUTH', 'other'], ['GET', 'k'], ['AUTH', token], ['PING']);
      expect(await h.waitForReplies(5)).toEqual([
        { error: 'WRONGPASS invalid username-password pair or user is disabled.' },
        { error: 'WRONGPASS invalid username-password pair or user is disabled.' },
        { error: 'NOAUTH Authentication required.' },
        'OK',
        'PONG',
      ]);
    }
  });

  test('unknown commands and wrong arity are reported before authentication, as Redis does', async () => {
    const h = new SessionHarness({ authToken: 's3cret' });
    h.command(['NOPE'], ['GET']);
    expect(await h.waitForReplies(2)).toEqual([
      { error: "ERR unknown command 'NOPE', with args beginning with: " },
      { error: "ERR wrong number of arguments for 'get' command" },
    ]);
  });

  test('HELLO without AUTH is refused until authenticated; HELLO ... AUTH authenticates', async () => {
    const h = new SessionHarness({ authToken: 's3cret' });
    h.command(['HELLO', '3']);
    const [refused] = await h.waitForReplies(1);
    expect(refused).toEqual({ error: expect.stringMatching(/^NOAUTH HELLO must be called with the client already authenticated/) });
    expect(h.state.protocol).toBe(2);
    h.command(['HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'app']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const bytes = h.take().toString('latin1');
    expect(bytes.startsWith('%8\r\n$6\r\nserver\r\n$2\r\nkv\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:7\r\n')).toBe(true);
    expect(h.state.authenticated).toBe(true);
    expect(h.state.name).toBe('app');
  });
});

describe('RESP3', () => {
  test('HELLO 3 switches the encoding from its own reply on; HELLO 2 switches back', async () => {
    const h = new SessionHarness();
    h.command(['GET', 'missing'], ['HELLO', '3'], ['GET', 'missing'], ['CLIENT', 'KV-QUORUM']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const bytes = h.take().toString('latin1');
    expect(bytes.startsWith('$-1\r\n%8\r\n')).toBe(true);
    expect(bytes.endsWith('_\r\n%3\r\n$1\r\nw\r\n:2\r\n$1\r\nr\r\n:2\r\n$8\r\nreplicas\r\n:3\r\n')).toBe(true);
    h.command(['HELLO', '2'], ['GET', 'missing']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(h.take().toString('latin1').endsWith('$-1\r\n')).toBe(true);
  });
});
