const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/**
 * True if `text` has no lone surrogate, so that it survives UTF-8 encoding unchanged (a lone surrogate would come back
 * as U+FFFD after a reopen).
 */
export function isWellFormed(text: string): boolean {
  return nativeIsWellFormed !== undefined ? nativeIsWellFormed.call(text) : !LONE_SURROGATE.test(text);
}

/**
 * Checks that `value` is a string that UTF-8 round-trips.
 * @throws TypeError otherwise.
 */
export function checkText(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${typeof value}`);
  if (!isWellFormed(value)) throw new TypeError(`${name} contains a lone surrogate, which UTF-8 cannot store`);
}

/**
 * Checks a caller-given version: a non-empty string that UTF-8 round-trips.
 * @throws TypeError otherwise.
 */
export function checkVersion(version: unknown): asserts version is string {
  checkText('version', version);
  if (version === '') throw new TypeError('version must not be empty');
}
