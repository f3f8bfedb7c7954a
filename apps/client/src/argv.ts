import { UsageError } from './usage-error';

/**
 * The long options that the original Go client spelled with one dash (`-server URL`, `-json`), accepted here in that form
 * too. Only these exact names are rewritten: any other one-dash word stays a cluster of short flags, as yargs reads it.
 */
export const ONE_DASH_LONG_OPTIONS: readonly string[] = ['server', 'token', 'json', 'timeout', 'help', 'version'];

/** The global options that take a value: the word after them is that value, never rewritten. */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(['--server', '--token', '--timeout']);

/** The global options whose value is text, which may start with a dash (a token may); numbers are left to yargs. */
const TEXT_VALUE_OPTIONS: ReadonlySet<string> = new Set(['--server', '--token']);

const ONE_DASH_OPTION = new RegExp(`^-(${ONE_DASH_LONG_OPTIONS.join('|')})(=.*)?$`, 's');

// An argument of a real process is a C string and can never hold NUL, so a placeholder starting with it cannot collide
// with anything a user typed.
const PLACEHOLDER_PREFIX = '\u0000kv-arg-';

/** The command line as yargs should see it, and the way back to what the user typed. */
export interface PreparedArgv {
  /** The arguments to hand to yargs. */
  readonly args: string[];
  /** The original text of every placeholder in `text` (a parsed value or a message of yargs). */
  restore(text: string): string;
}

/**
 * Prepares the command line for yargs:
 * - `-server URL`, `-server=URL`, `-token T`, `-json`, `-timeout MS`, `-help`, `-version` become their `--` forms
 *   (before a `--` only);
 * - the word after `--server` or `--token` is that option's value even when it starts with a dash;
 * - a lone `-` (standard input) and every word after `--` (which is dropped) become opaque placeholders, because yargs 17
 *   loses them when it fills positional arguments (`-` turns into `""`, words after `--` are not counted). A value that
 *   starts with a dash is therefore written after `--`: `kv set key -- -1`.
 * @throws UsageError when an argument contains a NUL character (no process argument can).
 */
export function prepareArgv(argv: readonly string[]): PreparedArgv {
  const originals: string[] = [];
  const placeholder = (word: string): string => {
    originals.push(word);
    return `${PLACEHOLDER_PREFIX}${originals.length - 1}`;
  };
  const args: string[] = [];
  let afterSeparator = false;
  let previous: string | undefined;
  for (const word of argv) {
    if (word.includes('\u0000')) throw new UsageError('arguments cannot contain a NUL character');
    if (afterSeparator) {
      args.push(placeholder(word));
      continue;
    }
    if (word === '--') {
      afterSeparator = true;
      continue;
    }
    const isOptionValue = previous !== undefined && VALUE_OPTIONS.has(previous);
    const isTextValue = previous !== undefined && TEXT_VALUE_OPTIONS.has(previous);
    let next = word;
    if (word === '-' || (isTextValue && word.startsWith('-'))) next = placeholder(word);
    else if (!isOptionValue && ONE_DASH_OPTION.test(word)) next = `-${word}`;
    args.push(next);
    previous = isOptionValue ? undefined : next;
  }
  return {
    args,
    restore: (text) => restorePlaceholders(text, originals),
  };
}

function restorePlaceholders(text: string, originals: readonly string[]): string {
  const [head, ...rest] = text.split(PLACEHOLDER_PREFIX);
  return (
    head +
    rest
      .map((part) => {
        const digits = /^\d+/.exec(part)?.[0] ?? '';
        const original = originals[Number(digits)];
        if (digits === '' || original === undefined) return PLACEHOLDER_PREFIX + part;
        return original + part.slice(digits.length);
      })
      .join('')
  );
}

/**
 * A copy of parsed arguments with every placeholder of {@link prepareArgv} replaced by the original word, in string values
 * and in arrays of strings.
 */
export function restoreArgs<T extends object>(parsed: T, prepared: PreparedArgv): T {
  const restored: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string') restored[name] = prepared.restore(value);
    else if (Array.isArray(value)) {
      restored[name] = value.map((v: unknown) => (typeof v === 'string' ? prepared.restore(v) : v));
    }
    else restored[name] = value;
  }
  return restored as T;
}
