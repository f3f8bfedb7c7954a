import { ErrorCode } from './errors';
import fc from 'fast-check';
import {
  decodeEntryLine,
  decodeInternalBatch,
  decodeInternalResults,
  decodeReadResult,
  decodeWriteResult,
  encodeEntryLine,
  encodeInternalBatch,
  encodeInternalResults,
  readResultOf,
  writeOpOf,
  writeResultOf,
  internalOpError,
  isInternalOpError,
  kvErrorFromOpError,
  parseInternalBatch,
} from './internal-codec';
import { InternalOp, InternalOpResult } from './internal-messages';
import { isInvalidOp } from './invalid-op';
import { KvError } from './kv-error';
import { INTERNAL_BATCH_OPS_MAX } from './limits';
import { kvErrorOf } from './testing/kv-error-of';

const V1 = '0192f1a2b3c4-0000-proxy';
const limits = { valueBytesMax: 10 };

describe('parseInternalBatch', () => {
  it('types valid operations in order', () => {
    const ops: InternalOp[] = [
      ['s', 'a', '1', V1],
      ['d', 'b', V1],
      ['g', 'c/d'],
    ];
    expect(parseInternalBatch(JSON.parse(encodeInternalBatch(ops).toString('utf8')), limits)).toEqual(ops);
  });

  it('reports each invalid operation in its place', () => {
    const ops = parseInternalBatch(
      {
        ops: [
          ['g', 'a'],
          ['x', 'a'],
          { op: 'get', key: 'a' },
          ['s', 'a', '1'],
          ['s', 'a', '1', V1, 60, 'extra'],
          ['s', '', '1', V1],
          ['s', 'a', 1, V1],
          ['s', 'a', 'x'.repeat(11), V1],
          ['s', 'a', '1', '0192F1A2B3C4-0000-proxy'],
          ['d', 'a', 'not-a-version'],
          ['d', 'a'],
          ['g', 'a', 'b'],
          ['g', 7],
          [],
          ['d', 'a', V1],
        ],
      },
      limits,
    );
    expect(ops.map((op) => (isInvalidOp(op) ? op.error.code : 'ok'))).toEqual([
      'ok',
      ErrorCode.BadRequest,
      ErrorCode.BadRequest,
      ErrorCode.BadRequest,
      ErrorCode.BadRequest,
      ErrorCode.InvalidKey,
      ErrorCode.BadRequest,
      ErrorCode.TooLarge,
      ErrorCode.BadRequest,
      ErrorCode.BadRequest,
      ErrorCode.BadRequest,
      ErrorCode.BadRequest,
      ErrorCode.InvalidKey,
      ErrorCode.BadRequest,
      'ok',
    ]);
  });

  it.each([
    ['not an object', '[]'],
    ['an array', [['g', 'a']]],
    ['without ops', { results: [] }],
    ['with too many ops', { ops: new Array(INTERNAL_BATCH_OPS_MAX + 1).fill(['g', 'a']) }],
  ])('rejects a body %s as a whole with KV_BAD_REQUEST', (_name, body) => {
    expect(kvErrorOf(() => parseInternalBatch(body, limits)).code).toBe(ErrorCode.BadRequest);
  });
});

describe('per-operation errors', () => {
  it('round-trips a KvError through the wire form', () => {
    const result = internalOpError(new KvError(ErrorCode.TooLarge, 'value too large'));
    expect(result).toEqual({ error: { code: 'KV_TOO_LARGE', message: 'value too large' } });
    const err = kvErrorFromOpError(JSON.parse(JSON.stringify(result)));
    expect(err.code).toBe(ErrorCode.TooLarge);
    expect(err.status).toBe(413);
  });

  it('hides unexpected errors', () => {
    expect(internalOpError(new RangeError('offset 77 of /data/x'))).toEqual({
      error: { code: 'KV_INTERNAL', message: 'internal error' },
    });
  });

  it('tells error results from the other results', () => {
    const results: InternalOpResult[] = [[1, V1], [0, V1], [V1, 'v'], [V1, null], null, { error: { code: 'KV_X', message: 'm' } }];
    expect(results.map(isInternalOpError)).toEqual([false, false, false, false, false, true]);
  });
});

const version = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 0xffff }), fc.stringMatching(/^[a-z0-9_-]{1,16}$/))
  .map(([ms, counter, id]) => `${ms.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-${id}`);
const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
const value = fc.string({ unit: 'grapheme', maxLength: 60 });
const op: fc.Arbitrary<InternalOp> = fc.oneof(
  fc.tuple(fc.constant('s' as const), key, value, version),
  fc.tuple(fc.constant('d' as const), key, version),
  fc.tuple(fc.constant('g' as const), key),
);

describe('the internal codec', () => {
  it('decodes every batch it encodes to the same operations (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        expect(decodeInternalBatch(encodeInternalBatch(ops), { valueBytesMax: 1024 })).toEqual(ops);
      }),
    );
  });

  it('decodes every answer it encodes, result by result (property)', () => {
    const entry = fc.option(fc.record({ version, value: fc.option(value, { nil: null }) }), { nil: undefined });
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.tuple(fc.boolean(), version), entry), { maxLength: 30 }), (items) => {
        const results = items.map((item) => (Array.isArray(item) ? writeResultOf(item[0], item[1]) : readResultOf(item)));
        const decoded = decodeInternalResults(encodeInternalResults(results), results.length);
        decoded.forEach((result, i) => {
          const item = items[i];
          if (Array.isArray(item)) expect(decodeWriteResult(result)).toEqual({ applied: item[0], version: item[1] });
          else expect(decodeReadResult(result)).toEqual(item);
        });
      }),
    );
  });

  it("turns an operation's error result into its KvError", () => {
    const [result] = decodeInternalResults(encodeInternalResults([internalOpError(new KvError(ErrorCode.TooLarge, 'big'))]), 1);
    expect(kvErrorOf(() => decodeWriteResult(result)).code).toBe(ErrorCode.TooLarge);
    expect(kvErrorOf(() => decodeReadResult(result)).code).toBe(ErrorCode.TooLarge);
  });

  it('refuses answers without one result per operation, and results of the wrong shape', () => {
    expect(kvErrorOf(() => decodeInternalResults(encodeInternalResults([null]), 2)).code).toBe(ErrorCode.Internal);
    expect(kvErrorOf(() => decodeInternalResults('not json', 0)).code).toBe(ErrorCode.Internal);
    expect(kvErrorOf(() => decodeWriteResult([V1, 'v'])).code).toBe(ErrorCode.Internal);
    expect(kvErrorOf(() => decodeReadResult([1, V1])).code).toBe(ErrorCode.Internal);
  });

  it('carries the expiry of a value that expires: a 5-element set, a 3-element read result, a 4-element entry line', () => {
    const write = { key: 'k', value: 'v', version: V1, expiresAt: 1_700_000_000_000 };
    expect(writeOpOf(write)).toEqual(['s', 'k', 'v', V1, 1_700_000_000_000]);
    expect(decodeInternalBatch(encodeInternalBatch([writeOpOf(write)]), limits)).toEqual([['s', 'k', 'v', V1, 1_700_000_000_000]]);
    // A tombstone never carries an expiry.
    expect(writeOpOf({ key: 'k', value: null, version: V1, expiresAt: 5 })).toEqual(['d', 'k', V1]);
    const result = readResultOf({ value: 'v', version: V1, expiresAt: 42 });
    expect(result).toEqual([V1, 'v', 42]);
    expect(decodeReadResult(result)).toEqual({ value: 'v', version: V1, expiresAt: 42 });
    expect(readResultOf({ value: 'v', version: V1 })).toEqual([V1, 'v']);
    expect(decodeEntryLine(encodeEntryLine('k', V1, 'v', 42).slice(0, -1))).toEqual(['k', V1, 'v', 42]);
    expect(encodeEntryLine('k', V1, 'v')).toBe(`["k","${V1}","v"]\n`);
  });

  it('refuses an expiry that is not a whole number of ms, in its operation, and malformed expiring results', () => {
    for (const expiresAt of [-1, 1.5, '5', null]) {
      const [parsed] = parseInternalBatch({ ops: [['s', 'k', 'v', V1, expiresAt]] }, limits);
      expect(isInvalidOp(parsed) && parsed.error.code).toBe(ErrorCode.BadRequest);
    }
    expect(kvErrorOf(() => decodeReadResult([V1, 'v', '5'] as unknown as InternalOpResult)).code).toBe(ErrorCode.Internal);
    expect(kvErrorOf(() => decodeReadResult([V1, null, 5] as unknown as InternalOpResult)).code).toBe(ErrorCode.Internal);
    expect(kvErrorOf(() => decodeEntryLine(`["k", "${V1}", null, 5]`)).code).toBe(ErrorCode.Internal);
    expect(kvErrorOf(() => decodeEntryLine(`["k", "${V1}", "v", -5]`)).code).toBe(ErrorCode.Internal);
  });

  it('writes tombstones as deletes', () => {
    expect(writeOpOf({ key: 'k', value: null, version: V1 })).toEqual(['d', 'k', V1]);
    expect(writeOpOf({ key: 'k', value: 'v', version: V1 })).toEqual(['s', 'k', 'v', V1]);
  });

  it('round-trips entry lines, and refuses lines that are not entries', () => {
    fc.assert(
      fc.property(key, version, fc.option(value, { nil: null }), (k, v, val) => {
        const line = encodeEntryLine(k, v, val);
        expect(line.endsWith('\n')).toBe(true);
        expect(line.slice(0, -1).includes('\n')).toBe(false);
        expect(decodeEntryLine(line.slice(0, -1))).toEqual([k, v, val]);
      }),
    );
    expect(kvErrorOf(() => decodeEntryLine('["k", "v"]')).code).toBe(ErrorCode.Internal);
    expect(kvErrorOf(() => decodeEntryLine('{')).code).toBe(ErrorCode.Internal);
  });
});
