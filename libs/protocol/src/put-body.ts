import { describeType } from './describe-type';
import { ErrorCode } from './errors';
import { InternalPutRequest } from './internal-messages';
import { KvError } from './kv-error';
import { validateValue } from './value';
import { validateVersion } from './version';

/**
 * The value of a `PUT /kv/{key}` body (already parsed JSON): `{"value": "..."}`; other fields are ignored.
 * @throws KvError `KV_BAD_REQUEST` when the body is not an object or `value` is missing, not a string or not well-formed;
 * `KV_TOO_LARGE` when `value` is over `valueBytesMax` bytes of UTF-8.
 */
export function parsePutBody(body: unknown, valueBytesMax: number): string {
  return validateValue(fieldsOf(body, '{"value": "..."}').value, valueBytesMax);
}

/**
 * A `PUT /internal/kv/{key}` body (already parsed JSON): `{"value": "...", "version": "..."}`.
 * @throws KvError `KV_BAD_REQUEST` when the body is not an object, `value` is missing or not a string, or `version` is
 * not a well-formed version; `KV_TOO_LARGE` when `value` is over `valueBytesMax` bytes of UTF-8.
 */
export function parseInternalPutBody(body: unknown, valueBytesMax: number): InternalPutRequest {
  const fields = fieldsOf(body, '{"value": "...", "version": "..."}');
  return { value: validateValue(fields.value, valueBytesMax), version: validateVersion(fields.version) };
}

function fieldsOf(body: unknown, shape: string): { value?: unknown; version?: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new KvError(ErrorCode.BadRequest, `request body must be an object ${shape}, got ${describeType(body)}`);
  }
  return body as { value?: unknown; version?: unknown };
}
