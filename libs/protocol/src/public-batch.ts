import { batchOpsOf } from './batch-body';
import { describeType } from './describe-type';
import { errorBody, errorResponse } from './error-body';
import { ErrorCode } from './errors';
import { invalidOp, InvalidOp } from './invalid-op';
import { assertKnownFields } from './known-fields';
import { KvError } from './kv-error';
import { validateKey } from './key';
import { assertByteLimit, BATCH_OPS_MAX, ProtocolLimits } from './limits';
import { BatchErrorResult, BatchOp } from './public-messages';
import { validateTtl } from './ttl';
import { validateValue } from './value';

/** An operation of a parsed public batch: a valid operation, or the error that operation alone answers with. */
export type ParsedBatchOp = BatchOp | InvalidOp;

/**
 * Validates a `POST /batch` body (already parsed JSON, see `parseJsonBody`) into typed operations, one per operation of
 * the body and in its order. Each valid operation is a fresh object with its fields; a field its `op` does not take
 * (`"value"` or `"ttl"` on a get or del, ...) makes that operation invalid. A set's `"ttl"` is a whole number of
 * seconds from 1 to `TTL_SECONDS_MAX`.
 * @param limits `valueBytesMax` (the server's `MAX_VALUE_BYTES`) and `opsMax` (default {@link BATCH_OPS_MAX}).
 * @returns per operation either the operation or an {@link InvalidOp}: an operation that is not an object or has an
 * unknown `op` or field (`KV_BAD_REQUEST`), a bad key (`KV_INVALID_KEY`), a missing or non-string value (`KV_BAD_REQUEST`), a value
 * over the limit (`KV_TOO_LARGE`).
 * @throws KvError `KV_BAD_REQUEST` for the whole request when the body is not an object, `ops` is not an array, or has
 * more than `opsMax` operations. TypeError when the limits are not positive integers.
 */
export function parsePublicBatch(body: unknown, limits: ProtocolLimits): ParsedBatchOp[] {
  const opsMax = limits.opsMax ?? BATCH_OPS_MAX;
  assertByteLimit(limits.valueBytesMax, 'valueBytesMax');
  assertByteLimit(opsMax, 'opsMax');
  const raw = batchOpsOf(body, opsMax);
  const parsed: ParsedBatchOp[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    try {
      parsed[i] = parseOp(raw[i], i, limits.valueBytesMax);
    } catch (err) {
      if (!(err instanceof KvError)) throw err;
      parsed[i] = invalidOp(err);
    }
  }
  return parsed;
}

const SET_FIELDS = ['op', 'key', 'value', 'ttl'] as const;
const KEY_FIELDS = ['op', 'key'] as const;

function parseOp(raw: unknown, index: number, valueBytesMax: number): BatchOp {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new KvError(ErrorCode.BadRequest, `a batch operation must be an object, got ${describeType(raw)}`);
  }
  const { op, key, value, ttl } = raw as { op?: unknown; key?: unknown; value?: unknown; ttl?: unknown };
  switch (op) {
    case 'set': {
      assertKnownFields(raw, SET_FIELDS, `batch operation ${index} (set)`);
      const set = { op, key: validateKey(key), value: validateValue(value, valueBytesMax) };
      return ttl === undefined ? set : { ...set, ttl: validateTtl(ttl, `ops[${index}].ttl`) };
    }
    case 'get':
    case 'del':
      assertKnownFields(raw, KEY_FIELDS, `batch operation ${index} (${op})`);
      return { op, key: validateKey(key) };
    default:
      throw new KvError(
        ErrorCode.BadRequest,
        `"op" must be "set", "get" or "del", got ${typeof op === 'string' ? JSON.stringify(op.slice(0, 16)) : describeType(op)}`,
      );
  }
}

/**
 * The batch entry of a failed operation: `{"status", "error": {...}}` (plus `acks`/`required` for a quorum failure), for
 * any thrown value as {@link errorResponse} reports it (a non-`KvError` becomes `KV_INTERNAL`).
 */
export function batchErrorResult(thrown: unknown): BatchErrorResult {
  const { status, error } = errorResponse(thrown);
  return { status, ...errorBody(error) };
}
