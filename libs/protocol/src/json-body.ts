import { isUtf8 } from 'node:buffer';
import { ErrorCode } from './errors';
import { KvError } from './kv-error';
import { assertByteLimit } from './limits';
import { utf8ByteLength } from './utf8';

/**
 * Parses a request body as JSON.
 * @param raw the body as received: bytes (checked to be UTF-8) or text already decoded.
 * @param bytesMax the body limit in bytes (e.g. `singleBodyBytesMax(valueBytesMax)`); a server should also stop reading a
 * body at this size, before it is all in memory.
 * @returns the parsed value (any JSON value: check its shape next).
 * @throws KvError `KV_TOO_LARGE` when the body is over `bytesMax`; `KV_BAD_REQUEST` when it is empty, not UTF-8 or not
 * JSON (the parser's error is the `cause`). TypeError when `bytesMax` is not a positive integer.
 */
export function parseJsonBody(raw: string | Uint8Array, bytesMax: number): unknown {
  assertByteLimit(bytesMax, 'bytesMax');
  let text: string;
  if (typeof raw === 'string') {
    // A string of more than bytesMax code units has more than bytesMax bytes; shorter ones may still have more.
    if (raw.length > bytesMax || (raw.length * 3 > bytesMax && utf8ByteLength(raw) > bytesMax)) throw bodyTooLarge(bytesMax);
    text = raw;
  } else {
    if (raw.byteLength > bytesMax) throw bodyTooLarge(bytesMax);
    if (!isUtf8(raw)) throw new KvError(ErrorCode.BadRequest, 'request body is not valid UTF-8');
    text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  }
  if (text.length === 0) throw new KvError(ErrorCode.BadRequest, 'request body is empty; expected JSON');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new KvError(ErrorCode.BadRequest, `malformed JSON: ${parserMessage(cause)}`, { cause });
  }
}

/**
 * The error for a body over its limit, for servers that count bytes while reading.
 */
export function bodyTooLarge(bytesMax: number): KvError {
  return new KvError(ErrorCode.TooLarge, `request body must be at most ${bytesMax} bytes`);
}

/** Longest part of the parser's message kept: V8 quotes a few characters of the input, which is enough to find the spot. */
const PARSER_MESSAGE_LENGTH_MAX = 160;

function parserMessage(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.length > PARSER_MESSAGE_LENGTH_MAX ? `${message.slice(0, PARSER_MESSAGE_LENGTH_MAX)}...` : message;
}
