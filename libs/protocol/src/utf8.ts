/**
 * The length of `s` in bytes of UTF-8, as written to the wire and the log (a lone surrogate counts 3 bytes, the
 * replacement character it would be written as).
 *
 * `Buffer.byteLength` is the measurement: V8 counts strings natively without encoding them, which matches a JavaScript
 * loop over `charCodeAt` on the shortest keys and beats it 3 to 7 times from 32 characters up
 * (`bench/utf8-byte-length.bench.ts`). For limit checks prefer {@link fitsUtf8Bytes}, which usually needs no count.
 */
export function utf8ByteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * True when `s` takes at most `bytesMax` bytes of UTF-8. Decides from `s.length` alone when it can, since one UTF-16 code
 * unit is 1 to 3 bytes of UTF-8: a string no longer than `bytesMax / 3` always fits, one longer than `bytesMax` never does.
 */
export function fitsUtf8Bytes(s: string, bytesMax: number): boolean {
  const n = s.length;
  if (n * 3 <= bytesMax) return true;
  if (n > bytesMax) return false;
  return Buffer.byteLength(s, 'utf8') <= bytesMax;
}

interface WellFormedString {
  isWellFormed(): boolean;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * True when `s` has no lone UTF-16 surrogate, i.e. it has a UTF-8 form and survives a round trip through UTF-8 unchanged.
 * Uses `String.prototype.isWellFormed` (Node 20) when present.
 */
export function isWellFormedString(s: string): boolean {
  const native = (s as unknown as Partial<WellFormedString>).isWellFormed;
  if (typeof native === 'function') return native.call(s);
  return !LONE_SURROGATE.test(s);
}
