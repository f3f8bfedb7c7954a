import fc from 'fast-check';
import { respLimits } from './limits';
import { RequestParser, splitInlineArgs, type ParsedRequest } from './request-parser';
import { encodeCommand } from './testing/session-harness';

// redis-parser reads multibulk frames too (they are valid RESP2 replies): a reference for what the parser must return.
 
const ReferenceParser = require('redis-parser') as new (options: {
  returnReply: (reply: unknown) => void;
  returnError: (error: Error) => void;
  returnBuffers?: boolean;
}) => { execute(buffer: Buffer): void };

const seed = Number(process.env.KV_PROPERTY_SEED ?? Date.now() % 2 ** 31);
beforeAll(() => process.stdout.write(`request parser properties: seed ${seed} (replay with KV_PROPERTY_SEED=${seed})\n`));

const limits = { ...respLimits(1024), argsMax: 16, argBytesMax: 4096, commandBytesMax: 8192, inlineBytesMax: 256 };

function parseAll(parser: RequestParser): ParsedRequest[] {
  const out: ParsedRequest[] = [];
  for (let r = parser.next(); r !== undefined; r = parser.next()) {
    out.push(r);
    if (r.kind === 'protocol-error') break;
  }
  return out;
}

function args(requests: ParsedRequest[]): (string[] | string)[] {
  return requests.map((r) => (r.kind === 'command' ? r.args.map((a) => a.toString('latin1')) : r.message));
}

function feed(...chunks: (string | Buffer)[]): (string[] | string)[] {
  const parser = new RequestParser(limits);
  const out: ParsedRequest[] = [];
  for (const chunk of chunks) {
    parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    out.push(...parseAll(parser));
  }
  return args(out);
}

describe('RequestParser: multibulk', () => {
  test('one command, and several pipelined in one chunk', () => {
    expect(feed('*1\r\n$4\r\nPING\r\n')).toEqual([['PING']]);
    expect(feed('*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$0\r\n\r\n')).toEqual([['GET', 'a'], ['SET', 'a', '']]);
  });

  test('split anywhere, even inside a header or a CRLF', () => {
    const frame = '*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n';
    for (let i = 1; i < frame.length; i++) {
      expect(feed(frame.slice(0, i), frame.slice(i))).toEqual([['ECHO', 'hello']]);
    }
    expect(feed(...frame.split(''))).toEqual([['ECHO', 'hello']]);
  });

  test('binary arguments stay as sent', () => {
    const parser = new RequestParser(limits);
    parser.push(encodeCommand(['SET', 'k', Buffer.from([0, 0xff, 13, 10])]));
    const request = parser.next();
    expect(request?.kind === 'command' && request.args[2]).toEqual(Buffer.from([0, 0xff, 13, 10]));
  });

  test('empty commands are skipped, as Redis skips them', () => {
    expect(feed('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n')).toEqual([['PING']]);
  });

  test.each([
    ['a count that is not a number', '*x\r\n', 'Protocol error: invalid multibulk length'],
    ['too many arguments', '*17\r\n', 'Protocol error: invalid multibulk length (a command has at most 16 arguments)'],
    ['a bulk without $', '*1\r\n:4\r\n', "Protocol error: expected '$', got ':'"],
    ['a negative bulk length', '*1\r\n$-1\r\n', 'Protocol error: invalid bulk length (an argument has at most 4096 bytes)'],
    ['a bulk over the argument limit', '*1\r\n$4097\r\n', 'Protocol error: invalid bulk length (an argument has at most 4096 bytes)'],
    ['a command over the byte limit', '*3\r\n$4000\r\n' + 'a'.repeat(4000) + '\r\n$4000\r\n' + 'b'.repeat(4000) + '\r\n$4000\r\n', 'Protocol error: invalid bulk length (a command has at most 8192 bytes)'],
    ['a bulk not ended by CRLF', '*1\r\n$1\r\nab\r\n', 'Protocol error: bulk string not terminated by CRLF'],
    ['a header line without end', '*' + '1'.repeat(40), 'Protocol error: too big mbulk count string'],
  ])('%s is a protocol error', (_name, input, message) => {
    expect(feed(input)).toEqual([message]);
  });

  test('after a protocol error the parser stays failed', () => {
    const parser = new RequestParser(limits);
    parser.push(Buffer.from('*x\r\n'));
    expect(parser.next()?.kind).toBe('protocol-error');
    parser.push(Buffer.from('*1\r\n$4\r\nPING\r\n'));
    expect(parser.next()?.kind).toBe('protocol-error');
  });

  test('a bulk announced but not arrived is not buffered past what came', () => {
    const parser = new RequestParser(limits);
    parser.push(Buffer.from('*1\r\n$4000\r\nabc'));
    expect(parser.next()).toBeUndefined();
    expect(parser.bufferedBytes).toBe(3);
    expect(parser.idle).toBe(false);
  });
});

describe('RequestParser: inline commands', () => {
  test.each([
    ['PING\r\n', [['PING']]],
    ['PING\n', [['PING']]],
    ['set  a   b\r\n', [['set', 'a', 'b']]],
    ['\r\n\r\nPING\r\n', [['PING']]],
    ['set k "a b\\x41\\n"\r\n', [['set', 'k', 'a bA\n']]],
    ["set k 'it\\'s'\r\n", [['set', 'k', "it's"]]],
    ['PING\r\n*1\r\n$4\r\nPING\r\n', [['PING'], ['PING']]],
  ])('%j', (input, expected) => {
    expect(feed(input)).toEqual(expected);
  });

  test.each([
    ['set k "abc\r\n', 'Protocol error: unbalanced quotes in request'],
    ['set k "abc"d\r\n', 'Protocol error: unbalanced quotes in request'],
    ['x'.repeat(300), 'Protocol error: too big inline request'],
  ])('%j is a protocol error', (input, message) => {
    expect(feed(input)).toEqual([message]);
  });

  test('splitInlineArgs keeps bytes as latin1', () => {
    expect(splitInlineArgs(Buffer.from('a "\\xff"', 'latin1'))?.map((b) => [...b])).toEqual([[0x61], [0xff]]);
  });
});

describe('RequestParser: properties', () => {
  const command = fc.array(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { minLength: 1, maxLength: 6 });

  test('any commands, cut into any chunks, come back as sent, and as redis-parser reads them', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (commands, cuts) => {
        const bytes = Buffer.concat(commands.map(encodeCommand));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const p of points) {
          chunks.push(bytes.subarray(from, p));
          from = p;
        }
        chunks.push(bytes.subarray(from));
        const parser = new RequestParser(limits);
        const got: Buffer[][] = [];
        for (const chunk of chunks) {
          parser.push(chunk);
          for (const r of parseAll(parser)) {
            if (r.kind !== 'command') throw new Error(r.message);
            got.push(r.args.map((a) => Buffer.from(a)));
          }
        }
        expect(got).toEqual(commands);
        const reference: unknown[] = [];
        new ReferenceParser({ returnReply: (r) => reference.push(r), returnError: (e) => reference.push(e), returnBuffers: true }).execute(bytes);
        expect(reference).toEqual(commands);
        expect(parser.idle).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });
});
