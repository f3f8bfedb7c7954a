import { batchOpsOf } from './batch-body';
import { describeType } from './describe-type';
import { errorResponse, kvErrorFromBody } from './error-body';
import { ErrorCode } from './errors';
import { InternalOp, InternalOpError, InternalOpResult } from './internal-messages';
import { invalidOp, InvalidOp } from './invalid-op';
import { KvError } from './kv-error';
import { validateKey } from './key';
import { assertByteLimit, INTERNAL_BATCH_OPS_MAX, ProtocolLimits } from './limits';
import { validateValue } from './value';
import { validateVersion } from './version';

/** An operation of a parsed internal batch: a valid operation, or the error that operation alone answers with. */
export type ParsedInternalOp = InternalOp | InvalidOp;

/**
 * Validates a `POST /internal/batch` body (already parsed JSON) into typed operations, one per operation and in order.
 * An operation must have exactly its elements: `["s", key, value, version]`, `["d", key, version]`, `["g", key]`.
 * Each valid operation is returned as a fresh array.
 * @param limits `valueBytesMax` (the node's `MAX_VALUE_BYTES`) and `opsMax` (default {@link INTERNAL_BATCH_OPS_MAX}).
 * @returns per operation either the operation or an {@link InvalidOp}: a malformed operation or version
 * (`KV_BAD_REQUEST`), a bad key (`KV_INVALID_KEY`), a value over the limit (`KV_TOO_LARGE`).
 * @throws KvError `KV_BAD_REQUEST` for the whole request when the body is not an object, `ops` is not an array, or has
 * more than `opsMax` operations. TypeError when the limits are not positive integers.
 */
export function parseInternalBatch(body: unknown, limits: ProtocolLimits): ParsedInternalOp[] {
  const opsMax = limits.opsMax ?? INTERNAL_BATCH_OPS_MAX;
  assertByteLimit(limits.valueBytesMax, 'valueBytesMax');
  assertByteLimit(opsMax, 'opsMax');
  const raw = batchOpsOf(body, opsMax);
  const parsed: ParsedInternalOp[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    try {
      parsed[i] = parseInternalOp(raw[i], limits.valueBytesMax);
    } catch (err) {
      if (!(err instanceof KvError)) throw err;
      parsed[i] = invalidOp(err);
    }
  }
  return parsed;
}

function parseInternalOp(raw: unknown, valueBytesMax: number): InternalOp {
  if (!Array.isArray(raw)) {
    throw new KvError(ErrorCode.BadRequest, `an internal operation must be an array, got ${describeType(raw)}`);
  }
  const tag: unknown = raw[0];
  switch (tag) {
    case 's':
      expectLength(raw, 4, '["s", key, value, version]');
      return ['s', validateKey(raw[1]), validateValue(raw[2], valueBytesMax), validateVersion(raw[3])];
    case 'd':
      expectLength(raw, 3, '["d", key, version]');
      return ['d', validateKey(raw[1]), validateVersion(raw[2])];
    case 'g':
      expectLength(raw, 2, '["g", key]');
      return ['g', validateKey(raw[1])];
    default:
      throw new KvError(ErrorCode.BadRequest, 'an internal operation must start with "s", "d" or "g"');
  }
}

function expectLength(op: unknown[], length: number, shape: string): void {
  if (op.length !== length) {
    throw new KvError(ErrorCode.BadRequest, `an internal operation must be ${shape}, got ${op.length} elements`);
  }
}

/**
 * Serializes an internal batch once, to send the same string to several replicas (`NodeClient.batchSerialized`).
 * Does not validate the operations (the coordinator built them).
 */
export function serializeInternalBatch(ops: readonly InternalOp[]): string {
  return JSON.stringify({ ops });
}

/**
 * The per-operation error result for any thrown value, as {@link errorResponse} reports it (a non-`KvError` becomes
 * `KV_INTERNAL` with a generic message).
 */
export function internalOpError(thrown: unknown): InternalOpError {
  const { error } = errorResponse(thrown);
  return { error: { code: error.code, message: error.message } };
}

/** True when an internal batch result is a per-operation error. */
export function isInternalOpError(result: InternalOpResult): result is InternalOpError {
  return result !== null && !Array.isArray(result) && typeof result === 'object';
}

/** The {@link KvError} a per-operation error result describes (status from the code's table). */
export function kvErrorFromOpError(result: InternalOpError): KvError {
  return kvErrorFromBody(result);
}
