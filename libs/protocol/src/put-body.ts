import { describeType } from './describe-type';
import { ErrorCode } from './errors';
import { InternalPutRequest } from './internal-messages';
import { assertKnownFields } from './known-fields';
import { KvError } from './kv-error';
import { validateTtl } from './ttl';
import { validateValue } from './value';
import { validateVersion } from './version';

/**
 * The value of a `PUT /kv/{key}` body (already parsed JSON): `{"value": "...", "ttl": <seconds>}` (`ttl` optional; read
 * it with {@link parsePutTtl}).
 * @throws KvError `KV_BAD_REQUEST` when the body is not an object, has a field other than `value` and `ttl`, or `value` is missing, not a string or not well-formed;
 * `KV_TOO_LARGE` when `value` is over `valueBytesMax` bytes of UTF-8.
 */
export function parsePutBody(body: unknown, valueBytesMax: number): string {
  return validateValue(fieldsOf(body, '{"value": "..."}', PUT_FIELDS).value, valueBytesMax);
}

/**
 * The `ttl` of a `PUT /kv/{key}` body that {@link parsePutBody} accepted: undefined when absent (the key does not
 * expire), else a whole number of seconds from 1 to `TTL_SECONDS_MAX`.
 * @throws KvError `KV_BAD_REQUEST` naming `ttl` when it is present and not such a number (`null` included).
 */
export function parsePutTtl(body: unknown): number | undefined {
  const ttl = (body as { ttl?: unknown }).ttl;
  return ttl === undefined ? undefined : validateTtl(ttl);
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

const PUT_FIELDS = ['value', 'ttl'] as const;
const INTERNAL_PUT_FIELDS = ['value', 'version'] as const;

function fieldsOf(body: unknown, shape: string, allowed: readonly string[]): { value?: unknown; version?: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new KvError(ErrorCode.BadRequest, `request body must be an object ${shape}, got ${describeType(body)}`);
  }
  assertKnownFields(body, allowed, 'the request body');
  return body as { value?: unknown; version?: unknown };
}
