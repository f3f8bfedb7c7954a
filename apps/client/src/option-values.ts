/**
 * Checks of numeric option values, as yargs `coerce` functions: a bad value throws, and yargs reports the message as a
 * usage error (exit 2). yargs has already parsed the text (`--timeout abc` arrives as `NaN`), and calls them only for
 * options that are given or have a default.
 */

/**
 * A coerce function accepting integers from `min` to `max`.
 * @param name the option as the user writes it (`--timeout`), named in the message.
 */
export function integerIn(name: string, min: number, max: number): (value: unknown) => number {
  return (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new Error(`${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
    }
    return value;
  };
}

/**
 * A coerce function accepting positive integers, for values only the server can bound (a quorum is at most its N).
 * @param name the option as the user writes it, named in the message.
 */
export function positiveInteger(name: string): (value: unknown) => number {
  return (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`${name} must be a positive integer, got ${describe(value)}`);
    }
    return value;
  };
}

/**
 * A coerce function accepting finite numbers greater than 0 and at most `max` (fractions allowed).
 * @param name the option as the user writes it, named in the message.
 */
export function positiveNumberUpTo(name: string, max: number): (value: unknown) => number {
  return (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
      throw new Error(`${name} must be a number greater than 0 and at most ${max}, got ${describe(value)}`);
    }
    return value;
  };
}

function describe(value: unknown): string {
  // yargs turns a word that is not a number into NaN: say so rather than print "NaN".
  if (typeof value === 'number' && Number.isNaN(value)) return 'a value that is not a number';
  return Array.isArray(value) ? `${value.length} values` : String(value);
}
