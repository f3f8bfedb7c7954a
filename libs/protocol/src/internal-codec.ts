import { batchOpsOf } from './batch-body';
import { describeType } from './describe-type';
import { errorResponse, isErrorBody, kvErrorFromBody } from './error-body';
import { ErrorCode } from './errors';
import type {
  InternalEntryLine,
  InternalGetOp,
  InternalOp,
  InternalOpError,
  InternalOpResult,
  InternalReadResult,
  InternalWriteResult,
} from './internal-messages';
import { invalidOp, InvalidOp } from './invalid-op';
import { parseJsonBody } from './json-body';
import { KvError } from './kv-error';
import { validateKey } from './key';
import { assertByteLimit, INTERNAL_BATCH_OPS_MAX, internalBatchBodyBytesMax, ProtocolLimits } from './limits';
import { validateExpiresAt } from './ttl';
import { validateValue } from './value';
import { validateVersion } from './version';

/**
 * The one codec of the internal API (coordinator <-> data node): the body of `POST /internal/batch`, its answer, and the
 * lines of `GET /internal/entries`. The coordinator's batching transport, the data node and the in-memory twin of the
 * cluster all encode and decode through these functions, so the unit tests on the twin exercise the wire format too.
 * The format is described in docs/protocol/http.md (Internal API).
 */

/** Media type of internal batch bodies and answers. */
export const INTERNAL_BATCH_MEDIA_TYPE = 'application/json';
/** Media type of `GET /internal/entries`. */
export const INTERNAL_ENTRIES_MEDIA_TYPE = 'application/x-ndjson';

/** An operation of a decoded internal batch: a valid operation, or the error that operation alone answers with. */
export type ParsedInternalOp = InternalOp | InvalidOp;

/** A versioned write as the coordinator sends it: `value` null writes a tombstone; `expiresAt` for a value that expires. */
export interface InternalWrite {
  readonly key: string;
  readonly value: string | null;
  readonly version: string;
  readonly expiresAt?: number;
}

/** What a replica answered for a write: whether it applied it, and the version it holds afterwards. */
export interface DecodedWriteResult {
  readonly applied: boolean;
  readonly version: string;
}

/** What a replica holds for a key: a value or a tombstone (`value` null) at a version, and the value's expiry if any. */
export interface DecodedEntry {
  readonly value: string | null;
  readonly version: string;
  readonly expiresAt?: number;
}

/** The wire operation of a versioned write (the 5-element set only for a value that expires). */
export function writeOpOf(write: InternalWrite): InternalOp {
  if (write.value === null) return ['d', write.key, write.version];
  return write.expiresAt === undefined
    ? ['s', write.key, write.value, write.version]
    : ['s', write.key, write.value, write.version, write.expiresAt];
}

/** The wire operation of a read. */
export function readOpOf(key: string): InternalGetOp {
  return ['g', key];
}

/**
 * Encodes the operations of one batch as the body of `POST /internal/batch` (UTF-8 bytes). Does not validate them:
 * the coordinator built them; the data node validates on decoding.
 */
export function encodeInternalBatch(ops: readonly InternalOp[]): Buffer {
  return Buffer.from(JSON.stringify({ ops }), 'utf8');
}

/** Limits of {@link decodeInternalBatch}: the node's `MAX_VALUE_BYTES`, and optionally the operations and body bytes. */
export interface InternalBatchLimits extends ProtocolLimits {
  /** Largest body in bytes (default {@link internalBatchBodyBytesMax} of `valueBytesMax`). */
  bodyBytesMax?: number;
}

/**
 * Decodes and validates a `POST /internal/batch` body into typed operations, one per operation and in order. An
 * operation must have exactly its elements: `["s", key, value, version]` or `["s", key, value, version, expiresAt]`,
 * `["d", key, version]`, `["g", key]`.
 * @returns per operation either the operation or an {@link InvalidOp}: a malformed operation or version
 *   (`KV_BAD_REQUEST`), a bad key (`KV_INVALID_KEY`), a value over the limit (`KV_TOO_LARGE`).
 * @throws KvError for the whole request: `KV_TOO_LARGE` for a body over its limit, `KV_BAD_REQUEST` for a body that is
 *   not UTF-8 JSON, not an object, whose `ops` is not an array or has more than `opsMax` operations. TypeError when the
 *   limits are not positive integers.
 */
export function decodeInternalBatch(body: Uint8Array | string, limits: InternalBatchLimits): ParsedInternalOp[] {
  const bodyBytesMax = limits.bodyBytesMax ?? internalBatchBodyBytesMax(limits.valueBytesMax);
  return parseInternalBatch(parseJsonBody(body, bodyBytesMax), limits);
}

/**
 * Validates an already parsed `POST /internal/batch` body (see {@link decodeInternalBatch}).
 * @throws as {@link decodeInternalBatch}, but for the body's size and syntax.
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
      if (raw.length === 5) {
        return ['s', validateKey(raw[1]), validateValue(raw[2], valueBytesMax), validateVersion(raw[3]), validateExpiresAt(raw[4])];
      }
      expectLength(raw, 4, '["s", key, value, version] or ["s", key, value, version, expiresAt]');
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

/** The answer's result of an applied (or ignored) write. */
export function writeResultOf(applied: boolean, version: string): InternalWriteResult {
  return [applied ? 1 : 0, version];
}

/** The answer's result of a read: the entry held, or `null` when the node holds nothing for the key. */
export function readResultOf(entry: DecodedEntry | undefined): InternalReadResult {
  if (entry === undefined) return null;
  return entry.expiresAt === undefined || entry.value === null ? [entry.version, entry.value] : [entry.version, entry.value, entry.expiresAt];
}

/**
 * The per-operation error result for any thrown value, as {@link errorResponse} reports it (a non-`KvError` becomes
 * `KV_INTERNAL` with a generic message).
 */
export function internalOpError(thrown: unknown): InternalOpError {
  const { error } = errorResponse(thrown);
  return { error: { code: error.code, message: error.message } };
}

/** Encodes the answer of `POST /internal/batch`: one result per operation, in order (UTF-8 bytes). */
export function encodeInternalResults(results: readonly InternalOpResult[]): Buffer {
  return Buffer.from(JSON.stringify({ results }), 'utf8');
}

/**
 * Decodes the answer of a batch of `count` operations: the body as bytes or text, or already parsed as JSON.
 * Each result is checked when it is used ({@link decodeWriteResult}, {@link decodeReadResult}).
 * @throws KvError `KV_INTERNAL` when the answer is not JSON or lacks one result per operation.
 */
export function decodeInternalResults(body: unknown, count: number): InternalOpResult[] {
  let parsed = body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    try {
      parsed = JSON.parse(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    } catch (cause) {
      throw new KvError(ErrorCode.Internal, 'a batch answer that is not JSON', { cause });
    }
  }
  const results = typeof parsed === 'object' && parsed !== null ? (parsed as { results?: unknown }).results : undefined;
  if (!Array.isArray(results) || results.length !== count) {
    throw new KvError(ErrorCode.Internal, `a batch of ${count} operations without one result per operation`);
  }
  return results as InternalOpResult[];
}

/** True when an internal batch result is a per-operation error. */
export function isInternalOpError(result: InternalOpResult): result is InternalOpError {
  return result !== null && !Array.isArray(result) && typeof result === 'object';
}

/** The {@link KvError} a per-operation error result describes (status from the code's table). */
export function kvErrorFromOpError(result: InternalOpError): KvError {
  return kvErrorFromBody(result);
}

/**
 * Decodes the result of a write.
 * @throws KvError: the operation's own error, or `KV_INTERNAL` for a result that is not a write result.
 */
export function decodeWriteResult(result: InternalOpResult): DecodedWriteResult {
  if (isInternalOpError(result)) throw opErrorOf(result);
  if (!Array.isArray(result) || (result[0] !== 0 && result[0] !== 1) || typeof result[1] !== 'string') {
    throw new KvError(ErrorCode.Internal, 'malformed write result from a data node');
  }
  return { applied: result[0] === 1, version: result[1] };
}

/**
 * Decodes the result of a read: the entry held (`value` null for a tombstone; `expiresAt` for a value that expires), or
 * `undefined` when the node holds nothing for the key.
 * @throws KvError: the operation's own error, or `KV_INTERNAL` for a result that is not a read result.
 */
export function decodeReadResult(result: InternalOpResult): DecodedEntry | undefined {
  if (result === null) return undefined;
  if (isInternalOpError(result)) throw opErrorOf(result);
  if (!Array.isArray(result) || typeof result[0] !== 'string' || (result[1] !== null && typeof result[1] !== 'string')) {
    throw new KvError(ErrorCode.Internal, 'malformed read result from a data node');
  }
  if (result.length === 2) return { version: result[0], value: result[1] };
  if (result.length !== 3 || result[1] === null || !isExpiresAt(result[2])) {
    throw new KvError(ErrorCode.Internal, 'malformed read result from a data node');
  }
  return { version: result[0], value: result[1], expiresAt: result[2] };
}

function isExpiresAt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function opErrorOf(result: InternalOpError): KvError {
  return isErrorBody(result) ? kvErrorFromBody(result) : new KvError(ErrorCode.Internal, 'malformed error result from a data node');
}

/** One line of `GET /internal/entries`, newline included (with `expiresAt` for a value that expires). */
export function encodeEntryLine(key: string, version: string, value: string | null, expiresAt?: number): string {
  return `${JSON.stringify(expiresAt === undefined || value === null ? [key, version, value] : [key, version, value, expiresAt])}\n`;
}

/**
 * Decodes one line of `GET /internal/entries` (without its newline).
 * @throws KvError `KV_INTERNAL` when the line is not `[key, version, value|null]` or `[key, version, value, expiresAt]`.
 */
export function decodeEntryLine(line: string): InternalEntryLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (cause) {
    throw new KvError(ErrorCode.Internal, 'an entries line that is not JSON', { cause });
  }
  if (
    !Array.isArray(parsed) ||
    (parsed.length !== 3 && parsed.length !== 4) ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    (parsed[2] !== null && typeof parsed[2] !== 'string') ||
    (parsed.length === 4 && (parsed[2] === null || !isExpiresAt(parsed[3])))
  ) {
    throw new KvError(ErrorCode.Internal, 'an entries line that is not [key, version, value] or [key, version, value, expiresAt]');
  }
  return parsed as InternalEntryLine;
}
