import { describeType } from './describe-type';
import { ErrorCode } from './errors';
import { KvError } from './kv-error';

/** Longest time to live a write may ask for, in seconds: 10 years (of 365 days). */
export const TTL_SECONDS_MAX = 315_360_000;

/**
 * Checks the `ttl` of a write (`PUT /kv/{key}`, a batch set): a whole number of seconds from 1 to
 * {@link TTL_SECONDS_MAX}.
 * @param field the field's name in the request, for the message (`ttl`, `ops[3].ttl`).
 * @returns `ttl`, typed as a number.
 * @throws KvError `KV_BAD_REQUEST` naming the field otherwise.
 */
export function validateTtl(ttl: unknown, field = 'ttl'): number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > TTL_SECONDS_MAX) {
    const got = typeof ttl === 'number' ? String(ttl) : describeType(ttl);
    throw new KvError(ErrorCode.BadRequest, `"${field}" must be a whole number of seconds from 1 to ${TTL_SECONDS_MAX} (10 years), got ${got}`);
  }
  return ttl;
}

/** Largest expiry time the internal API carries: the largest integer a JavaScript number holds exactly. */
export const EXPIRES_AT_MAX = Number.MAX_SAFE_INTEGER;

/**
 * Checks an expiry time of the internal API (ms since the epoch).
 * @throws KvError `KV_BAD_REQUEST` when it is not an integer from 0 to {@link EXPIRES_AT_MAX}.
 */
export function validateExpiresAt(expiresAt: unknown): number {
  if (typeof expiresAt !== 'number' || !Number.isInteger(expiresAt) || expiresAt < 0 || expiresAt > EXPIRES_AT_MAX) {
    throw new KvError(ErrorCode.BadRequest, `expiresAt must be an integer number of ms since the epoch, got ${typeof expiresAt === 'number' ? String(expiresAt) : describeType(expiresAt)}`);
  }
  return expiresAt;
}
