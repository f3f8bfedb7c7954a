import { ErrorCode } from './errors';
import { KvError } from './kv-error';
import { KEY_BYTES_MAX } from './limits';
import { isWellFormedString, utf8ByteLength } from './utf8';
import { describeType } from './describe-type';

/**
 * A percent-encoded segment longer than this cannot decode to a valid key: every byte of a key takes at most 3 characters
 * (`%XX`) and every character at least one byte, so the decoded key would exceed {@link KEY_BYTES_MAX}.
 */
const ENCODED_KEY_LENGTH_MAX = 3 * KEY_BYTES_MAX;

/**
 * Decodes a key from one raw (still percent-encoded) URL path segment, as sent by clients (`encodeURIComponent`).
 * Pass the segment as it appears in the request line, not one a router already decoded: decoding twice would turn
 * `%2525` into `%`. `+` stays a plus sign.
 * @returns the key, 1 to {@link KEY_BYTES_MAX} bytes of well-formed UTF-8.
 * @throws KvError `KV_INVALID_KEY` for an empty segment, invalid percent-encoding (`%zz`, a lone `%`), bytes that are not
 * UTF-8 (`%FF`, an encoded surrogate), or a key over {@link KEY_BYTES_MAX} bytes.
 */
export function decodeKey(rawPathSegment: string): string {
  if (rawPathSegment.length > ENCODED_KEY_LENGTH_MAX) throw keyTooLong(`more than ${KEY_BYTES_MAX}`);
  let key = rawPathSegment;
  if (rawPathSegment.includes('%')) {
    try {
      key = decodeURIComponent(rawPathSegment);
    } catch (cause) {
      // decodeURIComponent throws URIError both for malformed escapes and for escapes that are not UTF-8.
      throw new KvError(ErrorCode.InvalidKey, 'key is not valid percent-encoded UTF-8', { cause });
    }
  }
  return validateKey(key);
}

/**
 * Checks a key that arrives already decoded (a JSON batch body, an internal operation, a client call).
 * @returns `key`, typed as a string.
 * @throws KvError `KV_INVALID_KEY` when `key` is not a string, is empty, is over {@link KEY_BYTES_MAX} bytes of UTF-8, or
 * has a lone UTF-16 surrogate (no UTF-8 form).
 */
export function validateKey(key: unknown): string {
  if (typeof key !== 'string') {
    throw new KvError(ErrorCode.InvalidKey, `key must be a string, got ${describeType(key)}`);
  }
  const n = key.length;
  // One UTF-16 code unit is 1 to 3 bytes of UTF-8: most keys are decided by their length alone.
  if (n === 0 || n > KEY_BYTES_MAX) throw keyTooLong(n === 0 ? 0 : utf8ByteLength(key));
  if (n * 3 > KEY_BYTES_MAX) {
    const bytes = utf8ByteLength(key);
    if (bytes > KEY_BYTES_MAX) throw keyTooLong(bytes);
  }
  if (!isWellFormedString(key)) {
    throw new KvError(ErrorCode.InvalidKey, 'key must be well-formed Unicode (it has a lone UTF-16 surrogate)');
  }
  return key;
}

/**
 * Encodes a key as one URL path segment: `encodeURIComponent`, except that the keys `.` and `..` become `%2E` and
 * `%2E%2E` (URL parsers still treat those as dot segments: send such a path as is, see `KvClient`).
 */
export function encodeKey(key: string): string {
  if (key === '.') return '%2E';
  if (key === '..') return '%2E%2E';
  return encodeURIComponent(key);
}

/** True when an encoded key is a dot segment that a WHATWG URL parser would remove from a path. */
export function isDotSegment(encodedKey: string): boolean {
  const lower = encodedKey.toLowerCase();
  return lower === '.' || lower === '%2e' || lower === '..' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e';
}

function keyTooLong(bytes: number | string): KvError {
  return new KvError(ErrorCode.InvalidKey, `key must be 1 to ${KEY_BYTES_MAX} bytes of UTF-8, got ${bytes}`);
}
