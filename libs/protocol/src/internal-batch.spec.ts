import { ErrorCode } from './errors';
import {
  internalOpError,
  isInternalOpError,
  kvErrorFromOpError,
  parseInternalBatch,
  serializeInternalBatch,
} from './internal-batch';
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
    expect(parseInternalBatch(JSON.parse(serializeInternalBatch(ops)), limits)).toEqual(ops);
  });

  it('reports each invalid operation in its place', () => {
    const ops = parseInternalBatch(
      {
        ops: [
          ['g', 'a'],
          ['x', 'a'],
          { op: 'get', key: 'a' },
          ['s', 'a', '1'],
          ['s', 'a', '1', V1, 60],
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
