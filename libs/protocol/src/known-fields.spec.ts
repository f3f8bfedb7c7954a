import { ErrorCode } from './errors';
import { assertKnownFields, assertKnownParams } from './known-fields';
import { kvErrorOf } from './testing/kv-error-of';

describe('assertKnownFields', () => {
  it('passes an object whose fields are all accepted, or that has fewer', () => {
    expect(() => assertKnownFields({ value: 'v' }, ['value'], 'the request body')).not.toThrow();
    expect(() => assertKnownFields({}, ['value'], 'the request body')).not.toThrow();
  });

  it('refuses the first unknown field with KV_BAD_REQUEST, naming it, where it is and what is accepted', () => {
    const error = kvErrorOf(() => assertKnownFields({ value: 'v', ttl: -5, other: 1 }, ['value'], 'the request body'));
    expect({ code: error.code, message: error.message }).toEqual({
      code: ErrorCode.BadRequest,
      message: 'unknown field "ttl" in the request body (accepted: "value")',
    });
  });

  it('sees "__proto__" as JSON.parse makes it (an own field), and ignores inherited ones', () => {
    expect(() => assertKnownFields(JSON.parse('{"value": "v", "__proto__": {}}') as object, ['value'], 'the body')).toThrow('unknown field "__proto__"');
    expect(() => assertKnownFields(Object.create({ inherited: 1 }) as object, [], 'the body')).not.toThrow();
  });

  it('quotes at most 64 characters of a long name', () => {
    const error = kvErrorOf(() => assertKnownFields({ ['x'.repeat(10_000)]: 1 }, [], 'the body'));
    expect(error.message).toBe(`unknown field "${'x'.repeat(64)}..." in the body (accepted: none)`);
  });
});

describe('assertKnownParams', () => {
  it('passes no query, an empty one, and accepted parameters (repeated or not)', () => {
    expect(() => assertKnownParams(undefined, [], 'GET /health')).not.toThrow();
    expect(() => assertKnownParams(new URLSearchParams(''), [], 'GET /health')).not.toThrow();
    expect(() => assertKnownParams(new URLSearchParams('w=2&w=3'), ['w'], 'PUT /kv/{key}')).not.toThrow();
    expect(() => assertKnownParams({ ranges: '0-1' }, ['ranges'], 'GET /internal/entries')).not.toThrow();
  });

  it('refuses an unknown parameter, from URLSearchParams or a parsed query object', () => {
    expect(kvErrorOf(() => assertKnownParams(new URLSearchParams('w=2&ttl=5'), ['w'], 'PUT /kv/{key}')).message).toBe(
      'unknown query parameter "ttl" for PUT /kv/{key} (accepted: "w")',
    );
    expect(kvErrorOf(() => assertKnownParams({ verbose: '1' }, [], 'GET /health')).message).toBe(
      'unknown query parameter "verbose" for GET /health (accepted: none)',
    );
    expect(kvErrorOf(() => assertKnownParams(new URLSearchParams('W=1'), ['w'], 'PUT /kv/{key}')).code).toBe(ErrorCode.BadRequest);
  });
});
