import { ErrorCode } from './errors';
import { isInvalidOp } from './invalid-op';
import { KvError } from './kv-error';
import { BATCH_OPS_MAX } from './limits';
import { batchErrorResult, parsePublicBatch } from './public-batch';
import { kvErrorOf } from './testing/kv-error-of';

const limits = { valueBytesMax: 10 };

describe('parsePublicBatch', () => {
  it('types valid operations in order', () => {
    const ops = parsePublicBatch({ ops: [{ op: 'set', key: 'a', value: '1' }, { op: 'get', key: 'b' }, { op: 'del', key: 'c/d' }] }, limits);
    expect(ops).toEqual([
      { op: 'set', key: 'a', value: '1' },
      { op: 'get', key: 'b' },
      { op: 'del', key: 'c/d' },
    ]);
  });

  it('refuses, in its place, an operation with a field its op does not take, naming the field', () => {
    const ops = parsePublicBatch(
      {
        ops: [
          { op: 'set', key: 'a', value: '1', nx: true },
          { op: 'get', key: 'b', value: 'x' },
          { op: 'del', key: 'c', value: 'x' },
          { op: 'set', key: 'd', value: '4' },
        ],
      },
      limits,
    );
    const messages = ops.map((op) => (isInvalidOp(op) ? `${op.error.code}: ${op.error.message}` : op));
    expect(messages).toEqual([
      'KV_BAD_REQUEST: unknown field "nx" in batch operation 0 (set) (accepted: "op", "key", "value", "ttl")',
      'KV_BAD_REQUEST: unknown field "value" in batch operation 1 (get) (accepted: "op", "key")',
      'KV_BAD_REQUEST: unknown field "value" in batch operation 2 (del) (accepted: "op", "key")',
      { op: 'set', key: 'd', value: '4' },
    ]);
  });

  it('takes a "ttl" on sets only, and refuses a bad one in its place, naming the operation\'s field', () => {
    const ops = parsePublicBatch(
      {
        ops: [
          { op: 'set', key: 'a', value: '1', ttl: 30 },
          { op: 'set', key: 'b', value: '2', ttl: 0 },
          { op: 'get', key: 'c', ttl: 30 },
          { op: 'set', key: 'd', value: '4' },
        ],
      },
      limits,
    );
    const messages = ops.map((op) => (isInvalidOp(op) ? `${op.error.code}: ${op.error.message}` : op));
    expect(messages).toEqual([
      { op: 'set', key: 'a', value: '1', ttl: 30 },
      'KV_BAD_REQUEST: "ops[1].ttl" must be a whole number of seconds from 1 to 315360000 (10 years), got 0',
      'KV_BAD_REQUEST: unknown field "ttl" in batch operation 2 (get) (accepted: "op", "key")',
      { op: 'set', key: 'd', value: '4' },
    ]);
    expect('ttl' in (ops[3] as object)).toBe(false);
  });

  it('refuses a batch body with a field other than "ops", as a whole', () => {
    expect(() => parsePublicBatch({ ops: [], atomic: true }, limits)).toThrow('unknown field "atomic" in the batch body (accepted: "ops")');
  });

  it('accepts an empty batch', () => {
    expect(parsePublicBatch({ ops: [] }, limits)).toEqual([]);
  });

  it('reports each invalid operation in its place, the others unaffected', () => {
    const ops = parsePublicBatch(
      {
        ops: [
          { op: 'set', key: 'a', value: '1' },
          { op: 'put', key: 'a', value: '1' },
          'get a',
          { op: 'get', key: '' },
          { op: 'get' },
          { op: 'set', key: 'a' },
          { op: 'set', key: 'a', value: 7 },
          { op: 'set', key: 'a', value: 'x'.repeat(11) },
          { op: 'del', key: 'k'.repeat(1025) },
          null,
          { op: 'del', key: 'ok' },
        ],
      },
      limits,
    );
    const codes = ops.map((op) => (isInvalidOp(op) ? op.error.code : 'ok'));
    expect(codes).toEqual([
      'ok',
      ErrorCode.BadRequest,
      ErrorCode.BadRequest,
      ErrorCode.InvalidKey,
      ErrorCode.InvalidKey,
      ErrorCode.BadRequest,
      ErrorCode.BadRequest,
      ErrorCode.TooLarge,
      ErrorCode.InvalidKey,
      ErrorCode.BadRequest,
      'ok',
    ]);
  });

  it.each([
    ['not an object', 'ops'],
    ['an array', [{ op: 'get', key: 'a' }]],
    ['null', null],
    ['without ops', {}],
    ['with ops not an array', { ops: { op: 'get', key: 'a' } }],
    ['with too many ops', { ops: new Array(BATCH_OPS_MAX + 1).fill({ op: 'get', key: 'a' }) }],
  ])('rejects a body %s as a whole with KV_BAD_REQUEST', (_name, body) => {
    const err = kvErrorOf(() => parsePublicBatch(body, limits));
    expect(err.code).toBe(ErrorCode.BadRequest);
    expect(err.status).toBe(400);
  });

  it('accepts exactly BATCH_OPS_MAX operations', () => {
    expect(parsePublicBatch({ ops: new Array(BATCH_OPS_MAX).fill({ op: 'get', key: 'a' }) }, limits)).toHaveLength(
      BATCH_OPS_MAX,
    );
  });

  it('honours a smaller opsMax', () => {
    expect(kvErrorOf(() => parsePublicBatch({ ops: [{ op: 'get', key: 'a' }, { op: 'get', key: 'b' }] }, { ...limits, opsMax: 1 })).code).toBe(
      ErrorCode.BadRequest,
    );
  });
});

describe('batchErrorResult', () => {
  it('is the error body with its status', () => {
    expect(batchErrorResult(new KvError(ErrorCode.NotFound, 'key not found'))).toEqual({
      status: 404,
      error: { code: 'KV_NOT_FOUND', message: 'key not found' },
    });
  });

  it('adds acks and required for a quorum failure', () => {
    expect(batchErrorResult(KvError.quorumFailed('write', { acks: 1, required: 2 }))).toEqual({
      status: 503,
      error: { code: 'KV_QUORUM_FAILED', message: 'write quorum not reached: 1 of 2 replicas acknowledged' },
      acks: 1,
      required: 2,
    });
  });

  it('hides unexpected errors', () => {
    expect(batchErrorResult(new Error('secret'))).toEqual({
      status: 500,
      error: { code: 'KV_INTERNAL', message: 'internal error' },
    });
  });
});
