import { ErrorCode } from './errors';
import { KvError } from './kv-error';

/** Longest echo of a bad parameter in an error message: enough to recognize it, not a way to reflect large input. */
const PARAM_ECHO_LENGTH_MAX = 32;

const DECIMAL = /^[1-9][0-9]{0,8}$/;

/**
 * Parses a quorum override from the query string (`?w=` or `?r=`).
 * @param raw the parameter as the query parser gives it: `undefined` when absent, a string, or an array when repeated.
 * @param replicas N, the number of replicas of a key.
 * @param name the parameter's name (`'w'` or `'r'`), named in the error.
 * @returns the quorum, an integer from 1 to `replicas`, or `undefined` when the parameter is absent (use the default).
 * @throws KvError `KV_BAD_REQUEST` naming the parameter when it is not a decimal integer from 1 to `replicas` (written
 * without sign or leading zeros) or is given more than once. TypeError when `replicas` is not a positive integer.
 */
export function parseQuorumParam(raw: unknown, replicas: number, name: string): number | undefined {
  if (!Number.isSafeInteger(replicas) || replicas < 1) {
    throw new TypeError(`replicas must be a positive integer, got ${replicas}`);
  }
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && DECIMAL.test(raw)) {
    const n = Number(raw);
    if (n <= replicas) return n;
  }
  throw new KvError(
    ErrorCode.BadRequest,
    `${name} must be an integer from 1 to ${replicas}, got ${describeParam(raw)}`,
  );
}

function describeParam(raw: unknown): string {
  if (Array.isArray(raw)) return `${raw.length} values`;
  if (typeof raw !== 'string') return typeof raw;
  const shown = raw.length > PARAM_ECHO_LENGTH_MAX ? `${raw.slice(0, PARAM_ECHO_LENGTH_MAX)}...` : raw;
  return JSON.stringify(shown);
}
