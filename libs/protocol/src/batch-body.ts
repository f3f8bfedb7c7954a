import { describeType } from './describe-type';
import { ErrorCode } from './errors';
import { assertKnownFields } from './known-fields';
import { KvError } from './kv-error';

const BATCH_FIELDS = ['ops'] as const;

/**
 * The `ops` array of a batch body (`{"ops": [...]}`), checked as a whole.
 * @throws KvError `KV_BAD_REQUEST` when `body` is not an object, has a field other than `ops`, `ops` is not an array, or it has more than `opsMax`
 * operations.
 */
export function batchOpsOf(body: unknown, opsMax: number): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new KvError(ErrorCode.BadRequest, `batch body must be an object {"ops": [...]}, got ${describeType(body)}`);
  }
  assertKnownFields(body, BATCH_FIELDS, 'the batch body');
  const ops = (body as { ops?: unknown }).ops;
  if (!Array.isArray(ops)) {
    throw new KvError(ErrorCode.BadRequest, `batch "ops" must be an array, got ${describeType(ops)}`);
  }
  if (ops.length > opsMax) {
    throw new KvError(ErrorCode.BadRequest, `a batch has at most ${opsMax} operations, got ${ops.length}`);
  }
  return ops;
}
