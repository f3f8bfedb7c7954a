import { ERROR_STATUS, ErrorCode, isErrorCode, isServerErrorCode, statusOf } from './errors';

describe('error registry', () => {
  it.each([
    [ErrorCode.BadRequest, 400],
    [ErrorCode.InvalidKey, 400],
    [ErrorCode.Unauthorized, 401],
    [ErrorCode.NotFound, 404],
    [ErrorCode.TooLarge, 413],
    [ErrorCode.QuorumFailed, 503],
    [ErrorCode.Internal, 500],
    [ErrorCode.Unavailable, 503],
  ])('%s has status %i', (code, status) => {
    expect(statusOf(code)).toBe(status);
    expect(ERROR_STATUS[code]).toBe(status);
  });

  it('has a status for every code and no other entry', () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('every code is KV_ and upper snake case', () => {
    for (const code of Object.values(ErrorCode)) expect(code).toMatch(/^KV_[A-Z_]+$/);
  });

  it('rejects unknown codes', () => {
    expect(() => statusOf('KV_NOPE' as ErrorCode)).toThrow(TypeError);
    expect(isErrorCode('KV_NOPE')).toBe(false);
    expect(isErrorCode(404)).toBe(false);
    expect(isErrorCode('KV_NOT_FOUND')).toBe(true);
  });

  it('only KV_UNAVAILABLE is client side', () => {
    const clientOnly = Object.values(ErrorCode).filter((c) => !isServerErrorCode(c));
    expect(clientOnly).toEqual([ErrorCode.Unavailable]);
  });
});
