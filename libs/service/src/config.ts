/**
 * Configuration from environment variables, each also accepted as a `--kebab-case` flag (a flag wins), as
 * docs/configuration.md says. Every value is checked before a process listens; a bad one is a {@link ConfigError}
 * whose message is the one line the process prints before exiting with code 2.
 */

/** A bad configuration value; `message` names the variable and what is wrong. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** How one setting is read: its variable name, the parser of its raw text, and its default. */
export interface Setting<T> {
  /** The environment variable, e.g. `WRITE_QUORUM`; its flag is `--write-quorum`. */
  readonly env: string;
  /** Parses the raw text; throws {@link ConfigError} (or returns it) with the reason, without the variable name. */
  readonly parse: (raw: string) => T;
  /** Used when neither the variable nor the flag is set; a function to derive it from settings read before. */
  readonly default?: T | ((partial: Record<string, unknown>) => T);
  /** A short description, for `--help`. */
  readonly describe: string;
  /** Kept out of `--help` listings and logs of the effective configuration (test-only or secret settings). */
  readonly hidden?: boolean;
  /** Its value is never logged (tokens). */
  readonly secret?: boolean;
  /**
   * Set but empty (`CLUSTER_TOKEN=`) is a configuration error instead of "unset": for settings where unset turns a
   * protection off, so that a variable emptied by mistake does not do that silently.
   */
  readonly refuseEmpty?: boolean;
}

/** The settings of a process, by the name its code uses. */
export type Settings = Record<string, Setting<unknown>>;

/** The values of a set of settings. Settings without a default may be undefined. */
export type ConfigOf<S extends Settings> = {
  [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

/** `WRITE_QUORUM` -> `write-quorum`. */
export function flagName(env: string): string {
  return env.toLowerCase().replace(/_/g, '-');
}

/**
 * Reads flags of the form `--name value` and `--name=value` (also with one dash, as the original tools accept).
 * @throws ConfigError on an unknown flag or a flag without a value.
 */
export function parseFlags(argv: readonly string[], known: ReadonlySet<string>): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--?([a-z0-9][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (match === null) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = match[1];
    if (!known.has(name)) throw new ConfigError(`unknown flag --${name}`);
    let value = match[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) throw new ConfigError(`flag --${name} needs a value`);
      i++;
    }
    flags.set(name, value);
  }
  return flags;
}

/**
 * Reads every setting from flags (first) and the environment, in declaration order, so defaults may depend on
 * settings declared before them.
 * @throws ConfigError naming the variable and the problem: `PORT=abc must be an integer in 1..65535`.
 */
export function readConfig<S extends Settings>(
  settings: S,
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv.slice(2),
): ConfigOf<S> {
  const known = new Set(Object.values(settings).map((setting) => flagName(setting.env)));
  const flags = parseFlags(argv, known);
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(settings)) {
    const raw = flags.get(flagName(setting.env)) ?? env[setting.env];
    if (raw === '' && setting.refuseEmpty) {
      throw new ConfigError(`${setting.env} is set but empty: unset it to run without it, or give it a value`);
    }
    if (raw === undefined || raw === '') {
      const fallback = setting.default;
      values[name] = typeof fallback === 'function' ? (fallback as (p: Record<string, unknown>) => unknown)(values) : fallback;
      continue;
    }
    try {
      values[name] = setting.parse(raw);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const shown = setting.secret ? '<hidden>' : JSON.stringify(raw).slice(1, -1);
      throw new ConfigError(`${setting.env}=${shown} ${reason}`);
    }
  }
  return values as ConfigOf<S>;
}

/** The effective configuration for a start-up log line: secrets masked, hidden settings left out unless changed. */
export function describeConfig<S extends Settings>(settings: S, config: ConfigOf<S>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(settings)) {
    const value = (config as Record<string, unknown>)[name];
    if (setting.hidden && (value === undefined || value === setting.default)) continue;
    shown[setting.env] = setting.secret && value !== undefined ? '<set>' : value;
  }
  return shown;
}

/** A help text listing every visible setting with its flag and description. */
export function settingsHelp(settings: Settings): string {
  const rows = Object.values(settings)
    .filter((setting) => !setting.hidden)
    .map((setting) => {
      const fallback = typeof setting.default === 'function' ? '(derived)' : setting.default;
      const suffix = fallback === undefined ? '' : ` (default: ${String(fallback)})`;
      return `  --${flagName(setting.env).padEnd(22)} ${setting.env.padEnd(20)} ${setting.describe}${suffix}`;
    });
  return rows.join('\n');
}

/** Parsers with the error wording of docs/configuration.md ("must be ..."). */
export const parse = {
  /** An integer in `min..max`. */
  integer(min: number, max: number): (raw: string) => number {
    return (raw) => {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`must be an integer in ${min}..${max}`);
      const value = Number(raw.trim());
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new ConfigError(`must be an integer in ${min}..${max}`);
      }
      return value;
    };
  },

  /** A TCP port, 0..65535 (0: any free port). */
  port(raw: string): number {
    return parse.integer(0, 65535)(raw);
  },

  /** One of `choices`. */
  oneOf<T extends string>(choices: readonly T[]): (raw: string) => T {
    return (raw) => {
      if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(`must be one of ${choices.join(', ')}`);
      return raw as T;
    };
  },

  /** Any non-empty text. */
  text(raw: string): string {
    return raw;
  },

  /** `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`. */
  boolean(raw: string): boolean {
    const lower = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
    if (['0', 'false', 'no', 'off'].includes(lower)) return false;
    throw new ConfigError('must be true or false');
  },

  /** A name usable as a node or clock id: 1..64 of letters, digits, `_`, `.`, `-`. */
  id(raw: string): string {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(raw)) throw new ConfigError('must be 1..64 letters, digits, "_", "." or "-"');
    return raw;
  },

  /** An http(s) URL without a trailing slash. */
  url(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError('must be an http:// or https:// URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('must be an http:// or https:// URL');
    return raw.replace(/\/+$/, '');
  },
};
