import { ErrorCode } from './errors';
import { parseJsonBody } from './json-body';
import { parseInternalPutBody, parsePutBody, parsePutTtl } from './put-body';
import { TTL_SECONDS_MAX } from './ttl';
import { kvErrorOf } from './testing/kv-error-of';

const codeOf = (fn: () => unknown): string => kvErrorOf(fn).code;

describe('parseJsonBody', () => {
  it('parses text and bytes', () => {
    expect(parseJsonBody('{"value":"é"}', 100)).toEqual({ value: 'é' });
    expect(parseJsonBody(Buffer.from('{"value":"é"}'), 100)).toEqual({ value: 'é' });
    expect(parseJsonBody(new Uint8Array(Buffer.from('[1]')), 100)).toEqual([1]);
  });

  it.each([
    ['malformed JSON', '{"value":'],
    ['trailing garbage', '{} x'],
    ['empty body', ''],
  ])('rejects %s with KV_BAD_REQUEST', (_name, text) => {
    expect(codeOf(() => parseJsonBody(text, 100))).toBe(ErrorCode.BadRequest);
    expect(codeOf(() => parseJsonBody(Buffer.from(text), 100))).toBe(ErrorCode.BadRequest);
  });

  it('keeps the parser error as cause and names the problem', () => {
    const err = kvErrorOf(() => parseJsonBody('{"value":', 100));
    expect(err.message).toMatch(/^malformed JSON: /);
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it('rejects bytes that are not UTF-8 with KV_BAD_REQUEST', () => {
    expect(codeOf(() => parseJsonBody(Buffer.from([0x22, 0xff, 0x22]), 100))).toBe(ErrorCode.BadRequest);
  });

  it('rejects a body over the limit with KV_TOO_LARGE', () => {
    expect(codeOf(() => parseJsonBody(`"${'x'.repeat(20)}"`, 10))).toBe(ErrorCode.TooLarge);
    expect(codeOf(() => parseJsonBody(`"${'é'.repeat(4)}"`, 9))).toBe(ErrorCode.TooLarge);
    expect(codeOf(() => parseJsonBody(Buffer.alloc(11, 0x20), 10))).toBe(ErrorCode.TooLarge);
  });
});

describe('parsePutBody', () => {
  it('returns the value', () => {
    expect(parsePutBody({ value: 'v' }, 10)).toBe('v');
  });

  it('refuses a field other than "value" and "ttl", naming it (a client learns that it was not applied)', () => {
    expect(() => parsePutBody({ value: 'v', nx: true }, 10)).toThrow('unknown field "nx" in the request body (accepted: "value", "ttl")');
    expect(codeOf(() => parsePutBody({ value: 'v', nx: true }, 10))).toBe(ErrorCode.BadRequest);
  });

  it('reads "ttl": absent, or a whole number of seconds from 1 to 10 years; anything else is refused naming it', () => {
    expect(parsePutTtl({ value: 'v' })).toBeUndefined();
    expect(parsePutTtl({ value: 'v', ttl: 30 })).toBe(30);
    expect(parsePutTtl({ value: 'v', ttl: TTL_SECONDS_MAX })).toBe(315_360_000);
    for (const ttl of [0, -5, 1.5, TTL_SECONDS_MAX + 1, '30', null, true, [30]]) {
      expect(codeOf(() => parsePutTtl({ value: 'v', ttl }))).toBe(ErrorCode.BadRequest);
      expect(() => parsePutTtl({ value: 'v', ttl })).toThrow(/"ttl" must be a whole number of seconds from 1 to 315360000/);
    }
  });

  it.each([
    ['not an object', 'v', ErrorCode.BadRequest],
    ['an array', ['v'], ErrorCode.BadRequest],
    ['null', null, ErrorCode.BadRequest],
    ['missing value', {}, ErrorCode.BadRequest],
    ['a non-string value', { value: 1 }, ErrorCode.BadRequest],
    ['a null value', { value: null }, ErrorCode.BadRequest],
    ['a value over the limit', { value: 'x'.repeat(11) }, ErrorCode.TooLarge],
  ])('rejects %s', (_name, body, code) => {
    expect(codeOf(() => parsePutBody(body, 10))).toBe(code);
  });
});

describe('parseInternalPutBody', () => {
  const version = '0192f1a2b3c4-0000-proxy';

  it('returns value and version', () => {
    expect(parseInternalPutBody({ value: 'v', version }, 10)).toEqual({ value: 'v', version });
  });

  it.each([
    ['a missing version', { value: 'v' }, ErrorCode.BadRequest],
    ['a malformed version', { value: 'v', version: 'yesterday' }, ErrorCode.BadRequest],
    ['a missing value', { version }, ErrorCode.BadRequest],
    ['a value over the limit', { value: 'x'.repeat(11), version }, ErrorCode.TooLarge],
  ])('rejects %s', (_name, body, code) => {
    expect(codeOf(() => parseInternalPutBody(body, 10))).toBe(code);
  });
});
