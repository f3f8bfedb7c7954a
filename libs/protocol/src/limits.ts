/**
 * Limits of the protocol: every size a request can grow by has a named maximum here (see `docs/protocol/http.md`,
 * Limits). Body limits are derived from the value limit, so raising `MAX_VALUE_BYTES` raises them with it.
 */

/** Longest key, in bytes of UTF-8: 1 to 1024 (docs/protocol/http.md#keys). */
export const KEY_BYTES_MAX = 1024;

/** Default largest value, in bytes of UTF-8: 1 MiB keeps one write well below a WAL segment and a socket buffer's worth. */
export const VALUE_BYTES_MAX_DEFAULT = 1_048_576;

/**
 * The largest `MAX_VALUE_BYTES` a server accepts: a value must fit in one record of a data node's log (16 MiB; the
 * data node's tests check it against `@kv/wal`'s record limit).
 */
export const VALUE_BYTES_LIMIT = 16 * 1024 * 1024;

/** Most operations in one public batch (docs/protocol/http.md#limits): bounds the fan-out and answer of a request. */
export const BATCH_OPS_MAX = 1000;

/**
 * Most operations in one internal batch: room for a whole public batch plus the single-key operations the coordinator
 * gathers in the same event-loop turn; the coordinator starts another batch beyond it.
 */
export const INTERNAL_BATCH_OPS_MAX = 4 * BATCH_OPS_MAX;

/**
 * Worst-case growth of a string when written as JSON: a control character (1 byte of UTF-8) becomes `\u00XX` (6 bytes).
 * A body that carries a valid value must be allowed to be this much larger than the value.
 */
export const JSON_ESCAPE_EXPANSION_MAX = 6;

/** Room in a single-key body besides the escaped value: field names, a version, whitespace, ignored fields. */
export const BODY_ENVELOPE_BYTES = 16 * 1024;

/**
 * Room per batch operation besides its value: a key of {@link KEY_BYTES_MAX} escaped at worst (6144 bytes) plus the field
 * names and punctuation of the operation.
 */
export const BATCH_OP_ENVELOPE_BYTES = JSON_ESCAPE_EXPANSION_MAX * KEY_BYTES_MAX + 256;

/**
 * Default largest public batch body: the proxy holds the parsed batch and a serialized copy per replica set in memory, so
 * 16 MiB bounds that to tens of MiB per request; never below what one maximal operation needs (see
 * {@link batchBodyBytesMax}).
 */
export const BATCH_BODY_BYTES_FLOOR = 16 * 1024 * 1024;

/** Default largest response body a client accepts: V8's longest string is about 2^29 characters, so a larger text body
 * could not be decoded anyway. */
export const RESPONSE_BYTES_MAX_DEFAULT = 512 * 1024 * 1024;

/**
 * Largest body of a single-key request (`PUT /kv/{key}`, `PUT /internal/kv/{key}`) for a value limit: every value valid on
 * its own fits however it is escaped ({@link JSON_ESCAPE_EXPANSION_MAX}), plus {@link BODY_ENVELOPE_BYTES}.
 * @throws TypeError when `valueBytesMax` is not a positive safe integer.
 */
export function singleBodyBytesMax(valueBytesMax: number = VALUE_BYTES_MAX_DEFAULT): number {
  assertByteLimit(valueBytesMax, 'valueBytesMax');
  return JSON_ESCAPE_EXPANSION_MAX * valueBytesMax + BODY_ENVELOPE_BYTES;
}

/**
 * Largest body of `POST /batch` for a value limit: the larger of {@link BATCH_BODY_BYTES_FLOOR} and the single-key limit
 * plus {@link BATCH_OPS_MAX} operations of {@link BATCH_OP_ENVELOPE_BYTES}, so an operation valid alone is valid in a batch.
 * @throws TypeError when `valueBytesMax` is not a positive safe integer.
 */
export function batchBodyBytesMax(valueBytesMax: number = VALUE_BYTES_MAX_DEFAULT): number {
  return Math.max(BATCH_BODY_BYTES_FLOOR, singleBodyBytesMax(valueBytesMax) + BATCH_OPS_MAX * BATCH_OP_ENVELOPE_BYTES);
}

/**
 * Largest body of `POST /internal/batch` for a value limit: twice the public batch limit, room for a whole public batch
 * (its versions add about 40 bytes per operation) and the single-key operations of the same event-loop turn.
 * @throws TypeError when `valueBytesMax` is not a positive safe integer.
 */
export function internalBatchBodyBytesMax(valueBytesMax: number = VALUE_BYTES_MAX_DEFAULT): number {
  return 2 * batchBodyBytesMax(valueBytesMax);
}

/** Public single-key body limit for {@link VALUE_BYTES_MAX_DEFAULT} (6 MiB + 16 KiB). */
export const SINGLE_BODY_BYTES_MAX_DEFAULT = singleBodyBytesMax(VALUE_BYTES_MAX_DEFAULT);
/** Public batch body limit for {@link VALUE_BYTES_MAX_DEFAULT} (16 MiB). */
export const BATCH_BODY_BYTES_MAX_DEFAULT = batchBodyBytesMax(VALUE_BYTES_MAX_DEFAULT);
/** Internal batch body limit for {@link VALUE_BYTES_MAX_DEFAULT} (32 MiB). */
export const INTERNAL_BATCH_BODY_BYTES_MAX_DEFAULT = internalBatchBodyBytesMax(VALUE_BYTES_MAX_DEFAULT);

/**
 * Default idle time of a pooled socket before the client closes it: below the 5 s `keepAliveTimeout` of a Node server, so
 * the client drops an idle connection before the server does and never sends a request on a socket being closed.
 */
export const SOCKET_IDLE_MS_DEFAULT = 4000;

/**
 * The limits validation applies to a request; `valueBytesMax` is the server's `MAX_VALUE_BYTES`.
 */
export interface ProtocolLimits {
  /** Largest value in bytes of UTF-8. */
  valueBytesMax: number;
  /** Most operations of a batch; defaults to {@link BATCH_OPS_MAX} (public) or {@link INTERNAL_BATCH_OPS_MAX}. */
  opsMax?: number;
}

/**
 * Checks that `n` is a usable byte or count limit.
 * @throws TypeError when `n` is not a positive safe integer.
 */
export function assertByteLimit(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n <= 0) throw new TypeError(`${name} must be a positive integer, got ${n}`);
}
