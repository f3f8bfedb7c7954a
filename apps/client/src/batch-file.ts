import { BatchOp, isKvError, isWellFormedString, validateKey, validateTtl } from '@kv/protocol';
import { UsageError } from './usage-error';

/**
 * Largest batch file, in bytes: the file is read and checked whole before anything is sent (so a malformed line sends
 * nothing), which bounds the memory it takes; split larger files.
 */
export const BATCH_FILE_BYTES_MAX = 256 * 1024 * 1024;

/**
 * Parses a batch file: JSON Lines, one operation per line, as in `POST /batch`:
 * `{"op":"set","key":"k","value":"v"}` (with `"ttl": <seconds>` for a key that expires), `{"op":"get","key":"k"}`,
 * `{"op":"del","key":"k"}`. Other fields are ignored;
 * blank lines are skipped; a `\r` before the newline is allowed.
 * @param source names the file in messages (`-` is standard input).
 * @returns the operations in file order, each with only its own fields.
 * @throws UsageError `<source>:<line>: <what is wrong>` at the first line that is not valid JSON, not an object, has an
 * unknown `op`, an invalid key (the server's rule) or, for `set`, a `value` that is not a string of well-formed Unicode
 * or a `ttl` that is not a whole number of seconds from 1 to 10 years.
 */
export function parseBatchFile(text: string, source: string): BatchOp[] {
  const ops: BatchOp[] = [];
  const name = source === '-' ? 'standard input' : source;
  let start = 0;
  for (let line = 1; start < text.length; line++) {
    const end = text.indexOf('\n', start);
    const raw = text.slice(start, end === -1 ? text.length : end);
    start = end === -1 ? text.length : end + 1;
    if (raw.trim() === '') continue;
    try {
      ops.push(parseLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw));
    } catch (err) {
      throw new UsageError(`${name}:${line}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return ops;
}

function parseLine(text: string): BatchOp {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('not a JSON object like {"op":"set","key":"k","value":"v"}');
  }
  const { op, key, value, ttl } = parsed as { op?: unknown; key?: unknown; value?: unknown; ttl?: unknown };
  if (op !== 'set' && op !== 'get' && op !== 'del') {
    throw new Error(`"op" must be "set", "get" or "del", got ${JSON.stringify(op) ?? 'nothing'}`);
  }
  let checkedKey: string;
  try {
    checkedKey = validateKey(key);
  } catch (err) {
    throw new Error(`invalid key: ${isKvError(err) ? err.message : String(err)}`);
  }
  if (op !== 'set') return { op, key: checkedKey };
  if (typeof value !== 'string') throw new Error('a set needs a string "value"');
  if (!isWellFormedString(value)) throw new Error('"value" must be well-formed Unicode (it has a lone surrogate)');
  if (ttl === undefined) return { op, key: checkedKey, value };
  try {
    return { op, key: checkedKey, value, ttl: validateTtl(ttl) };
  } catch (err) {
    throw new Error(isKvError(err) ? err.message : String(err));
  }
}
