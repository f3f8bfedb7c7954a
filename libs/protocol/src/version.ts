import { describeType } from './describe-type';
import { ErrorCode } from './errors';
import { KvError } from './kv-error';

/**
 * Versions: a hybrid-logical-clock timestamp (wall-clock ms, counter, clock id) encoded as a string whose string order is
 * the version order (see `docs/protocol/http.md`, Versions):
 *
 *   `<ms: 12 lowercase hex digits>-<counter: 4 lowercase hex digits>-<clockId: 1..16 of [a-z0-9_-]>`
 *
 * The two numbers have a fixed width and the clock id comes last, unpadded: two versions compare as their tuples
 * (ms, counter, clockId) with the clock ids compared as strings, so no padding is needed and none is stored.
 */

/** The decoded parts of a version. */
export interface VersionParts {
  /** Wall-clock milliseconds since the Unix epoch (logical: may run ahead of the wall clock). */
  readonly ms: number;
  /** Orders versions of the same millisecond, 0 to {@link VERSION_COUNTER_MAX}. */
  readonly counter: number;
  /** The clock that issued the version (the coordinator's id), see {@link isClockId}. */
  readonly clockId: string;
}

/** Hex digits of the ms field. */
export const VERSION_MS_DIGITS = 12;
/** Hex digits of the counter field. */
export const VERSION_COUNTER_DIGITS = 4;
/** Largest ms a version can carry: 2^48 - 1, in the year 10889. */
export const VERSION_MS_MAX = 2 ** (4 * VERSION_MS_DIGITS) - 1;
/** Largest counter: 65535 versions per millisecond per clock; beyond it the clock moves to the next millisecond. */
export const VERSION_COUNTER_MAX = 2 ** (4 * VERSION_COUNTER_DIGITS) - 1;
/** Longest clock id: short enough to keep versions small in every entry and log record. */
export const CLOCK_ID_LENGTH_MAX = 16;
/** Longest version string (34 characters). */
export const VERSION_LENGTH_MAX = VERSION_MS_DIGITS + 1 + VERSION_COUNTER_DIGITS + 1 + CLOCK_ID_LENGTH_MAX;

const VERSION_PATTERN = /^[0-9a-f]{12}-[0-9a-f]{4}-[a-z0-9_-]{1,16}$/;
const CLOCK_ID_PATTERN = /^[a-z0-9_-]{1,16}$/;
const COUNTER_START = VERSION_MS_DIGITS + 1;
const CLOCK_ID_START = COUNTER_START + VERSION_COUNTER_DIGITS + 1;

/** True when `id` can be a clock id: 1 to {@link CLOCK_ID_LENGTH_MAX} characters of `[a-z0-9_-]`. */
export function isClockId(id: unknown): id is string {
  return typeof id === 'string' && CLOCK_ID_PATTERN.test(id);
}

/**
 * Encodes version parts; the inverse of {@link decodeVersion}. For parts made by the program (a clock), so bad parts are
 * a bug.
 * @throws TypeError when `ms` is not an integer from 0 to {@link VERSION_MS_MAX}, `counter` not an integer from 0 to
 * {@link VERSION_COUNTER_MAX}, or `clockId` not a valid clock id.
 */
export function encodeVersion(parts: VersionParts): string {
  const { ms, counter, clockId } = parts;
  if (!Number.isInteger(ms) || ms < 0 || ms > VERSION_MS_MAX) {
    throw new TypeError(`version ms must be an integer from 0 to ${VERSION_MS_MAX}, got ${ms}`);
  }
  if (!Number.isInteger(counter) || counter < 0 || counter > VERSION_COUNTER_MAX) {
    throw new TypeError(`version counter must be an integer from 0 to ${VERSION_COUNTER_MAX}, got ${counter}`);
  }
  if (!isClockId(clockId)) {
    throw new TypeError(`clock id must be 1 to ${CLOCK_ID_LENGTH_MAX} characters of [a-z0-9_-], got ${JSON.stringify(clockId)}`);
  }
  return `${ms.toString(16).padStart(VERSION_MS_DIGITS, '0')}-${counter
    .toString(16)
    .padStart(VERSION_COUNTER_DIGITS, '0')}-${clockId}`;
}

/** True when `s` is a well-formed version string. */
export function isVersion(s: unknown): s is string {
  return typeof s === 'string' && s.length <= VERSION_LENGTH_MAX && VERSION_PATTERN.test(s);
}

/**
 * Decodes a version read from the wire or from storage; the inverse of {@link encodeVersion}.
 * @throws KvError `KV_BAD_REQUEST` when `s` is not a well-formed version.
 */
export function decodeVersion(s: string): VersionParts {
  const version = validateVersion(s);
  return {
    ms: parseInt(version.slice(0, VERSION_MS_DIGITS), 16),
    counter: parseInt(version.slice(COUNTER_START, COUNTER_START + VERSION_COUNTER_DIGITS), 16),
    clockId: version.slice(CLOCK_ID_START),
  };
}

/**
 * Checks a version read from the wire (an internal operation, `?version=`).
 * @param name what the value is, named in the error.
 * @returns `s`, typed as a string.
 * @throws KvError `KV_BAD_REQUEST` when `s` is not a well-formed version (including absent, repeated or not a string).
 */
export function validateVersion(s: unknown, name = 'version'): string {
  if (isVersion(s)) return s;
  const got = typeof s === 'string' ? JSON.stringify(s.length > VERSION_LENGTH_MAX ? `${s.slice(0, VERSION_LENGTH_MAX)}...` : s) : describeType(s);
  throw new KvError(ErrorCode.BadRequest, `${name} must be a version like 0192f1a2b3c4-0000-proxy, got ${got}`);
}

/**
 * The ms of a version (its first field) without validating it: for hot paths that already trust the format (a data
 * node bounding how far ahead of its clock a version may be). `NaN` for text that does not start with 12 hex digits.
 */
export function versionMs(version: string): number {
  return version.length > VERSION_MS_DIGITS ? Number.parseInt(version.slice(0, VERSION_MS_DIGITS), 16) : Number.NaN;
}

/**
 * Orders two versions: negative when `a` is older than `b`, 0 when they are the same write, positive when `a` is newer.
 * Plain string comparison, valid because of the encoding; it does not validate its arguments (hot path).
 */
export function compareVersions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when `a` is newer than `b` (the apply rule of a data node: apply a write only when its version is newer). */
export function isNewerVersion(a: string, b: string | undefined): boolean {
  return b === undefined || a > b;
}
