import { describeType } from './describe-type';
import { ErrorCode } from './errors';
import { InternalPutRequest } from './internal-messages';
import { assertKnownFields } from './known-fields';
import { KvError } from './kv-error';
import { validateValue } from './value';
import { validateVersion } from './version';

/**
 * The value of a `PUT /kv/{key}` body (already parsed JSON): `{"value": "..."}`.
 * @throws KvError `KV_BAD_REQUEST` when the body is not an object, has a field other than `value`, or `value` is missing, not a string or not well-formed;
 * `KV_TOO_LARGE` when `value` is over `valueBytesMax` bytes of UTF-8.
 */
export function parsePutBody(body: unknown, valueBytesMax: number): string {
  return validateValue(fieldsOf(body, '{"value": "..."}', PUT_FIELDS).value, valueBytesMax);
}

/**
 * A `PUT /internal/kv/{key}` body (already parsed JSON): `{"value": "...", "version": "..."}`.
 * @throws KvError `KV_BAD_REQUEST` when the body is not an object, has another field, `value` is missing or not a
 * string, or `version` is not a well-formed version; `KV_TOO_LARGE` when `value` is over `valueBytesMax` bytes of UTF-8.
 */
export function parseInternalPutBody(body: unknown, valueBytesMax: number): InternalPutRequest {
  const fields = fieldsOf(body, '{"value": "...", "version": "..."}', INTERNAL_PUT_FIELDS);
  return { value: validateValue(fields.value, valueBytesMax), version: validateVersion(fields.version) };
}

const PUT_FIELDS = ['value'] as const;
const INTERNAL_PUT_FIELDS = ['value', 'version'] as const;

function fieldsOf(body: unknown, shape: string, allowed: readonly string[]): { value?: unknown; version?: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new KvError(ErrorCode.BadRequest, `request body must be an object ${shape}, got ${describeType(body)}`);
  }
  assertKnownFields(body, allowed, 'the request body');
  return body as { value?: unknown; version?: unknown };
}
