import { describeType } from './describe-type';
import { ErrorCode } from './errors';
import { KvError } from './kv-error';
import { assertByteLimit } from './limits';
import { fitsUtf8Bytes, isWellFormedString, utf8ByteLength } from './utf8';

/**
 * Checks a value read from a request body.
 * @param valueBytesMax the server's `MAX_VALUE_BYTES`.
 * @returns `value`, typed as a string.
 * @throws KvError `KV_BAD_REQUEST` when `value` is missing or not a string, or has a lone UTF-16 surrogate (it has no
 * UTF-8 form, so it could not be stored and read back unchanged); `KV_TOO_LARGE` when it is over `valueBytesMax` bytes of
 * UTF-8. TypeError when `valueBytesMax` is not a positive integer.
 */
export function validateValue(value: unknown, valueBytesMax: number): string {
  assertByteLimit(valueBytesMax, 'valueBytesMax');
  if (typeof value !== 'string') {
    throw new KvError(ErrorCode.BadRequest, `value must be a string, got ${describeType(value)}`);
  }
  if (!fitsUtf8Bytes(value, valueBytesMax)) {
    throw new KvError(
      ErrorCode.TooLarge,
      `value must be at most ${valueBytesMax} bytes of UTF-8, got ${utf8ByteLength(value)}`,
    );
  }
  if (!isWellFormedString(value)) {
    throw new KvError(ErrorCode.BadRequest, 'value must be well-formed Unicode (it has a lone UTF-16 surrogate)');
  }
  return value;
}
