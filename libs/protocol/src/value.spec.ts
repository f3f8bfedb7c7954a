import { ErrorCode } from './errors';
import { kvErrorOf as errorOf } from './testing/kv-error-of';
import { validateValue } from './value';

describe('validateValue', () => {
  it('accepts strings up to the limit in bytes of UTF-8', () => {
    expect(validateValue('', 10)).toBe('');
    expect(validateValue('0123456789', 10)).toBe('0123456789');
    expect(validateValue('ééééé', 10)).toBe('ééééé');
    expect(validateValue('😀😀', 8)).toBe('😀😀');
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['a number', 1],
    ['an object', { v: 'x' }],
    ['an array', ['x']],
  ])('rejects %s with KV_BAD_REQUEST', (_name, value) => {
    const err = errorOf(() => validateValue(value, 10));
    expect(err.code).toBe(ErrorCode.BadRequest);
    expect(err.status).toBe(400);
  });

  it('rejects a lone surrogate with KV_BAD_REQUEST', () => {
    expect(errorOf(() => validateValue('a\ud800', 10)).code).toBe(ErrorCode.BadRequest);
  });

  it.each([
    ['too many characters', 'x'.repeat(11)],
    ['too many bytes', 'éééééé'],
    ['too many bytes in emoji', '😀😀😀'],
  ])('rejects %s with KV_TOO_LARGE', (_name, value) => {
    const err = errorOf(() => validateValue(value, 10));
    expect(err.code).toBe(ErrorCode.TooLarge);
    expect(err.status).toBe(413);
  });

  it('rejects a bad limit as a bug', () => {
    expect(() => validateValue('x', 0)).toThrow(TypeError);
  });
});
