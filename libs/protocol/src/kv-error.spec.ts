import {
  codeForStatus,
  errorBody,
  errorResponse,
  INTERNAL_ERROR_MESSAGE,
  isErrorBody,
  kvErrorFromBody,
  toKvError,
} from './error-body';
import { ErrorCode } from './errors';
import { isKvError, KvError } from './kv-error';

describe('KvError', () => {
  it('carries code, status from the table, message and cause', () => {
    const cause = new Error('disk');
    const err = new KvError(ErrorCode.NotFound, 'key not found', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('KvError');
    expect(err.code).toBe('KV_NOT_FOUND');
    expect(err.status).toBe(404);
    expect(err.message).toBe('key not found');
    expect(err.cause).toBe(cause);
    expect(err.details).toBeUndefined();
  });

  it('requires quorum details for KV_QUORUM_FAILED', () => {
    expect(() => new KvError(ErrorCode.QuorumFailed, 'x')).toThrow(TypeError);
    expect(() => new KvError(ErrorCode.QuorumFailed, 'x', { details: { acks: -1, required: 2 } })).toThrow(TypeError);
    const err = KvError.quorumFailed('write', { acks: 1, required: 2 });
    expect(err.details).toEqual({ acks: 1, required: 2 });
    expect(err.status).toBe(503);
    expect(err.message).toBe('write quorum not reached: 1 of 2 replicas acknowledged');
  });

  it('ignores details for other codes', () => {
    expect(new KvError(ErrorCode.Internal, 'x', { details: { acks: 1, required: 2 } }).details).toBeUndefined();
  });

  it('rejects unknown codes and impossible statuses', () => {
    expect(() => new KvError('KV_NOPE' as ErrorCode, 'x')).toThrow(TypeError);
    expect(() => new KvError(ErrorCode.Internal, 'x', { status: 99 })).toThrow(TypeError);
  });

  it('isKvError matches by class and optional code, also across package copies', () => {
    const err = new KvError(ErrorCode.NotFound, 'x');
    expect(isKvError(err)).toBe(true);
    expect(isKvError(err, ErrorCode.NotFound)).toBe(true);
    expect(isKvError(err, ErrorCode.Internal)).toBe(false);
    expect(isKvError(new Error('x'))).toBe(false);
    const foreign = Object.assign(new Error('x'), { name: 'KvError', code: 'KV_NOT_FOUND' });
    expect(isKvError(foreign, ErrorCode.NotFound)).toBe(true);
  });

  it('serializes to JSON without the cause', () => {
    const err = new KvError(ErrorCode.Internal, 'boom', { cause: new Error('secret') });
    expect(JSON.parse(JSON.stringify(err))).toEqual({ name: 'KvError', code: 'KV_INTERNAL', status: 500, message: 'boom' });
  });
});

describe('errorBody', () => {
  it('is exactly {"error": {"code", "message"}}', () => {
    const body = errorBody(new KvError(ErrorCode.InvalidKey, 'bad key', { cause: new Error('x') }));
    expect(JSON.stringify(body)).toBe('{"error":{"code":"KV_INVALID_KEY","message":"bad key"}}');
  });

  it('adds top-level acks and required for a quorum failure', () => {
    const body = errorBody(KvError.quorumFailed('read', { acks: 1, required: 2 }));
    expect(JSON.stringify(body)).toBe(
      '{"error":{"code":"KV_QUORUM_FAILED","message":"read quorum not reached: 1 of 2 replicas answered"},"acks":1,"required":2}',
    );
  });
});

describe('toKvError and errorResponse', () => {
  it('passes a KvError through', () => {
    const err = new KvError(ErrorCode.TooLarge, 'big');
    expect(toKvError(err)).toBe(err);
    expect(errorResponse(err)).toEqual({ status: 413, body: { error: { code: 'KV_TOO_LARGE', message: 'big' } }, error: err });
  });

  it.each([new Error('/etc/secret at line 3'), 'a string', undefined, { stack: 'x' }])(
    'turns %p into a generic KV_INTERNAL without leaking it',
    (thrown) => {
      const { status, body, error } = errorResponse(thrown);
      expect(status).toBe(500);
      expect(body).toEqual({ error: { code: 'KV_INTERNAL', message: INTERNAL_ERROR_MESSAGE } });
      expect(JSON.stringify(body)).not.toMatch(/secret|stack|at /);
      expect(error.cause).toBe(thrown);
    },
  );

  it('never sends the client-side KV_UNAVAILABLE', () => {
    const { status, body } = errorResponse(new KvError(ErrorCode.Unavailable, 'cannot reach http://n1'));
    expect(status).toBe(500);
    expect(body.error.code).toBe('KV_INTERNAL');
  });

  it('answers with the table status even for an error read from a response with another status', () => {
    const { status } = errorResponse(new KvError(ErrorCode.NotFound, 'x', { status: 400 }));
    expect(status).toBe(404);
  });
});

describe('kvErrorFromBody', () => {
  it('keeps code, message, status and quorum details', () => {
    const err = kvErrorFromBody(
      { error: { code: 'KV_QUORUM_FAILED', message: 'write quorum not reached' }, acks: 1, required: 2 },
      503,
    );
    expect(err.code).toBe('KV_QUORUM_FAILED');
    expect(err.message).toBe('write quorum not reached');
    expect(err.status).toBe(503);
    expect(err.details).toEqual({ acks: 1, required: 2 });
  });

  it('defaults missing quorum counts to 0', () => {
    expect(kvErrorFromBody({ error: { code: 'KV_QUORUM_FAILED', message: 'm' } }).details).toEqual({ acks: 0, required: 0 });
  });

  it.each([
    [400, 'KV_BAD_REQUEST'],
    [401, 'KV_UNAUTHORIZED'],
    [404, 'KV_NOT_FOUND'],
    [413, 'KV_TOO_LARGE'],
    [502, 'KV_UNAVAILABLE'],
    [503, 'KV_UNAVAILABLE'],
    [504, 'KV_UNAVAILABLE'],
    [500, 'KV_INTERNAL'],
    [418, 'KV_INTERNAL'],
  ])('derives the code of a %i without a kv body', (status, code) => {
    expect(codeForStatus(status)).toBe(code);
    const err = kvErrorFromBody('<html>', status, 'http://h:1');
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(err.message).toBe(`http://h:1 answered ${status} without a kv error body`);
  });

  it('derives the code of an unknown KV_ code from the status, keeping the message', () => {
    const err = kvErrorFromBody({ error: { code: 'KV_CONFLICT', message: 'newer' } }, 400);
    expect(err.code).toBe('KV_BAD_REQUEST');
    expect(err.message).toBe('newer');
  });

  it('recognizes error bodies', () => {
    expect(isErrorBody({ error: { code: 'KV_X', message: 'm' } })).toBe(true);
    expect(isErrorBody({ error: { code: 1, message: 'm' } })).toBe(false);
    expect(isErrorBody(null)).toBe(false);
    expect(isErrorBody([1, 'v'])).toBe(false);
  });
});
