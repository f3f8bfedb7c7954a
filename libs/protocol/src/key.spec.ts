import fc from 'fast-check';
import { ErrorCode } from './errors';
import { decodeKey, encodeKey, isDotSegment, validateKey } from './key';
import { KEY_BYTES_MAX } from './limits';
import { kvErrorOf } from './testing/kv-error-of';

const codeOf = (fn: () => unknown): string => kvErrorOf(fn).code;

describe('decodeKey', () => {
  it.each([
    ['user%3A42', 'user:42'],
    ['a%2Fb', 'a/b'],
    ['what%3F%20%231', 'what? #1'],
    ['caf%C3%A9', 'café'],
    ['100%25', '100%'],
    ['a+b', 'a+b'],
    ['plain', 'plain'],
    ['%F0%9F%98%80', '😀'],
    ['%2E', '.'],
    ['%2E%2E', '..'],
    ['k'.repeat(KEY_BYTES_MAX), 'k'.repeat(KEY_BYTES_MAX)],
    ['%C3%A9'.repeat(KEY_BYTES_MAX / 2), 'é'.repeat(KEY_BYTES_MAX / 2)],
  ])('decodes %s', (raw, key) => {
    expect(decodeKey(raw)).toBe(key);
  });

  it.each([
    ['empty', ''],
    ['a lone %', '%'],
    ['a short escape', 'ab%4'],
    ['a non-hex escape', '%zz'],
    ['a byte that is not UTF-8', '%FF'],
    ['a truncated sequence', '%C3'],
    ['an encoded surrogate', '%ED%A0%80'],
    ['an overlong encoding', '%C0%AF'],
    ['over 1024 bytes', 'k'.repeat(KEY_BYTES_MAX + 1)],
    ['over 1024 bytes once decoded', '%C3%A9'.repeat(KEY_BYTES_MAX / 2 + 1)],
    ['a very long segment', '%41'.repeat(5000)],
    ['a raw lone surrogate', 'a\ud800'],
  ])('rejects %s with KV_INVALID_KEY', (_name, raw) => {
    expect(codeOf(() => decodeKey(raw))).toBe(ErrorCode.InvalidKey);
  });

  it('reports the byte count of a long key', () => {
    expect(() => decodeKey('é'.repeat(600))).toThrow('key must be 1 to 1024 bytes of UTF-8, got 1200');
  });

  it('inverts encodeKey for every valid key (property)', () => {
    const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }).filter((k) => Buffer.byteLength(k) <= KEY_BYTES_MAX);
    fc.assert(fc.property(key, (k) => decodeKey(encodeKey(k)) === k));
  });

  it('keeps /, ?, #, % and spaces inside one segment', () => {
    for (const k of ['a/b', 'a?b', 'a#b', 'a%b', 'a b', '.', '..']) {
      expect(encodeKey(k)).not.toMatch(/[/?# ]/);
      expect(isDotSegment(encodeKey(k))).toBe(k === '.' || k === '..');
    }
  });
});

describe('validateKey', () => {
  it.each([
    ['a number', 42],
    ['null', null],
    ['missing', undefined],
    ['empty', ''],
    ['over 1024 bytes', 'é'.repeat(513)],
    ['a lone surrogate', 'x\udfff'],
  ])('rejects %s with KV_INVALID_KEY', (_name, key) => {
    expect(codeOf(() => validateKey(key))).toBe(ErrorCode.InvalidKey);
  });

  it('accepts 1 to 1024 bytes', () => {
    expect(validateKey('k')).toBe('k');
    expect(validateKey('😀'.repeat(256))).toBe('😀'.repeat(256));
    expect(validateKey('a'.repeat(1024))).toHaveLength(1024);
  });

  it('throws KvError with status 400', () => {
    expect(kvErrorOf(() => validateKey('')).status).toBe(400);
  });
});
