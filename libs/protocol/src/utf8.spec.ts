import fc from 'fast-check';
import { fitsUtf8Bytes, isWellFormedString, utf8ByteLength } from './utf8';

// Any UTF-16 string, lone surrogates included.
const anyString = fc.string({ unit: 'binary', maxLength: 200 });
const ascii = fc.string({ unit: 'grapheme-ascii', maxLength: 200 });

describe('utf8ByteLength', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['\ud800', 3],
    ['a\udc00b', 5],
  ])('%j is %i bytes', (s, bytes) => {
    expect(utf8ByteLength(s)).toBe(bytes);
  });

  it('equals the length of the encoded bytes (property)', () => {
    fc.assert(fc.property(anyString, (s) => utf8ByteLength(s) === Buffer.from(s, 'utf8').length));
  });
});

describe('fitsUtf8Bytes', () => {
  it('agrees with utf8ByteLength (property)', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, ascii), fc.integer({ min: 1, max: 700 }), (s, max) => {
        return fitsUtf8Bytes(s, max) === utf8ByteLength(s) <= max;
      }),
    );
  });
});

describe('isWellFormedString', () => {
  it.each([
    ['', true],
    ['plain', true],
    ['😀', true],
    ['\ud83d', false],
    ['\ude00', false],
    ['\ude00\ud83d', false],
    ['a\ud83d\ude00b', true],
  ])('%j -> %s', (s, ok) => {
    expect(isWellFormedString(s)).toBe(ok);
  });

  it('is true exactly when the string survives a round trip through UTF-8 (property)', () => {
    fc.assert(fc.property(anyString, (s) => isWellFormedString(s) === (Buffer.from(s, 'utf8').toString('utf8') === s)));
  });
});
