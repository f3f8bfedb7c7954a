import fc from 'fast-check';
import { reply, type Reply } from './reply';
import { parseReplies, type Parsed } from './testing/session-harness';
import { encodeReply } from './writer';

// ioredis's RESP3 decoder (adapted from node-redis): an independent reader of what the writer writes on RESP3.
 
const { Decoder, RESP_TYPES } = require('ioredis/built/resp/decoder') as {
  Decoder: new (config: {
    onReply: (r: unknown) => void;
    onErrorReply: (e: Error) => void;
    onPush: (p: unknown) => void;
    getTypeMapping: () => Record<number, unknown>;
  }) => { write(chunk: Buffer): void };
  RESP_TYPES: Record<string, number>;
};

function decode3(bytes: Buffer): unknown[] {
  const out: unknown[] = [];
  const decoder = new Decoder({
    onReply: (r) => out.push(r),
    onErrorReply: (e) => out.push({ error: e.message }),
    onPush: (p) => out.push({ push: p }),
    getTypeMapping: () => ({ [RESP_TYPES.MAP]: Array, [RESP_TYPES.SET]: Array }),
  });
  decoder.write(bytes);
  return out;
}

const seed = Number(process.env.KV_PROPERTY_SEED ?? Date.now() % 2 ** 31);
beforeAll(() => process.stdout.write(`writer properties: seed ${seed} (replay with KV_PROPERTY_SEED=${seed})\n`));

describe('encodeReply', () => {
  test.each<[string, Reply, string, string]>([
    ['OK', reply.ok, '+OK\r\n', '+OK\r\n'],
    ['simple', reply.simple('PONG'), '+PONG\r\n', '+PONG\r\n'],
    ['error', reply.error('ERR bad'), '-ERR bad\r\n', '-ERR bad\r\n'],
    ['error with a line break', reply.error('ERR a\r\nb'), '-ERR a  b\r\n', '-ERR a  b\r\n'],
    ['integer', reply.integer(-42), ':-42\r\n', ':-42\r\n'],
    ['bulk', reply.bulk('héllo'), '$6\r\nhéllo\r\n', '$6\r\nhéllo\r\n'],
    ['empty bulk', reply.bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['null', reply.nil, '$-1\r\n', '_\r\n'],
    ['array', reply.array([reply.integer(1), reply.nil]), '*2\r\n:1\r\n$-1\r\n', '*2\r\n:1\r\n_\r\n'],
    ['map', reply.fields({ a: reply.integer(1) }), '*2\r\n$1\r\na\r\n:1\r\n', '%1\r\n$1\r\na\r\n:1\r\n'],
    ['set', reply.set([reply.simple('x')]), '*1\r\n+x\r\n', '~1\r\n+x\r\n'],
    ['double', reply.double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['infinity', reply.double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['negative zero', reply.double(-0), '$2\r\n-0\r\n', ',-0\r\n'],
    ['boolean', reply.boolean(true), ':1\r\n', '#t\r\n'],
    ['verbatim', reply.verbatim('a:b'), '$3\r\na:b\r\n', '=7\r\ntxt:a:b\r\n'],
  ])('%s', (_name, value, resp2, resp3) => {
    expect(encodeReply(value, 2).toString('utf8')).toBe(resp2);
    expect(encodeReply(value, 3).toString('utf8')).toBe(resp3);
  });

  test('an integer that is not safe is a bug', () => {
    expect(() => encodeReply(reply.integer(2 ** 53), 2)).toThrow(TypeError);
  });
});

/** Replies with what each protocol reads back. */
const leaf: fc.Arbitrary<Reply> = fc.oneof(
  fc.string({ unit: 'grapheme' }).map((s) => reply.bulk(s)),
  fc.stringMatching(/^[^\r\n]*$/).map((s) => reply.simple(s)),
  fc.stringMatching(/^ERR [^\r\n]*$/).map((s) => reply.error(s)),
  fc.maxSafeInteger().map((n) => reply.integer(n)),
  fc.constant(reply.nil),
  fc.double({ noNaN: true }).map((n) => reply.double(n)),
  fc.boolean().map((b) => reply.boolean(b)),
);
const { tree } = fc.letrec<{ tree: Reply }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('tree'), { maxLength: 5 }).map((items) => reply.array(items)),
    fc.array(fc.tuple(leaf, tie('tree')), { maxLength: 4 }).map((pairs) => reply.map(pairs)),
    fc.array(leaf, { maxLength: 4 }).map((items) => reply.set(items)),
  ),
}));

/** What redis-parser gives for a reply written on RESP2. */
function expected2(r: Reply): Parsed {
  switch (r.type) {
    case 'simple':
      return r.value;
    case 'error':
      return { error: r.message };
    case 'integer':
      return r.value;
    case 'bulk':
      return typeof r.value === 'string' ? r.value : Buffer.from(r.value).toString('utf8');
    case 'null':
      return null;
    case 'array':
    case 'set':
      return r.value.map(expected2);
    case 'map':
      return r.value.flatMap(([k, v]) => [expected2(k), expected2(v)]);
    case 'double':
      if (Object.is(r.value, -0)) return '-0';
      return Number.isFinite(r.value) ? String(r.value) : r.value > 0 ? 'inf' : '-inf';
    case 'boolean':
      return r.value ? 1 : 0;
    case 'verbatim':
      return r.value;
  }
}

/** What ioredis's decoder gives for a reply written on RESP3. */
function expected3(r: Reply): unknown {
  switch (r.type) {
    case 'simple':
      return r.value;
    case 'error':
      return { error: r.message };
    case 'integer':
      return r.value;
    case 'bulk':
      return typeof r.value === 'string' ? r.value : Buffer.from(r.value).toString('utf8');
    case 'null':
      return null;
    case 'array':
    case 'set':
      return r.value.map(expected3);
    case 'map':
      return r.value.flatMap(([k, v]) => [expected3(k), expected3(v)]);
    case 'double':
      return r.value;
    case 'boolean':
      return r.value;
    case 'verbatim':
      return r.value;
  }
}

function normalize3(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize3);
  if (value instanceof Error) return { error: value.message };
  if (value instanceof String) return String(value);
  return value;
}

describe('parse(write(x)) round-trips through clients written by others', () => {
  test('RESP2, read by redis-parser', () => {
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 4 }), (replies) => {
        const bytes = Buffer.concat(replies.map((r) => encodeReply(r, 2)));
        expect(parseReplies(bytes)).toEqual(replies.map(expected2));
      }),
      { seed, numRuns: 300 },
    );
  });

  test('RESP3, read by the decoder of ioredis', () => {
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 4 }), (replies) => {
        const bytes = Buffer.concat(replies.map((r) => encodeReply(r, 3)));
        expect(decode3(bytes).map(normalize3)).toEqual(replies.map(expected3));
      }),
      { seed, numRuns: 300 },
    );
  });
});
