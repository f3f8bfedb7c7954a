import { readFileSync } from 'node:fs';
import { CLIENT_TIMEOUT_MS_DEFAULT, KvClient } from '@kv/protocol';
import type { Argv } from 'yargs';
import { integerIn } from './option-values';
import { UsageError } from './usage-error';

/** The server `kv` talks to when neither `--server` nor `$KV_SERVER` names one: a proxy on this machine, default port. */
export const SERVER_URL_DEFAULT = 'http://localhost:8000';

/** Longest `--timeout`: one hour; anything longer is a mistake, not a deadline. */
export const TIMEOUT_MS_MAX = 3_600_000;

/** The options every command accepts: `kv [--server URL] [--token T] [--json] [--timeout MS] <command>`. */
export interface GlobalArgs {
  /** The proxy's URL, or several proxies' URLs separated by commas (the client fails over between them). */
  server: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** Print the server's JSON answers (or machine-readable results) instead of plain text. */
  json: boolean;
  /** Deadline of each request in ms. */
  timeout: number;
  /** A PEM file of CA certificates that https:// proxies are verified with, instead of Node's default CAs. */
  cacert: string | undefined;
}

/**
 * Declares the global options; their defaults come from `env` (`KV_SERVER`, `KV_TOKEN`, `KV_CACERT`; an empty variable
 * counts as unset).
 */
export function addGlobalOptions(y: Argv, env: Readonly<Record<string, string | undefined>>): Argv<GlobalArgs> {
  return y
    .option('server', {
      type: 'string',
      describe: "the proxy's URL, or a comma-separated list of proxies to fail over between",
      default: nonEmpty(env.KV_SERVER) ?? SERVER_URL_DEFAULT,
      defaultDescription: `$KV_SERVER, else ${SERVER_URL_DEFAULT}`,
      requiresArg: true,
    })
    .option('token', {
      type: 'string',
      describe: 'sent as "Authorization: Bearer <token>" (the proxy\'s AUTH_TOKEN)',
      default: nonEmpty(env.KV_TOKEN),
      // The token is a secret: never show its value in --help.
      defaultDescription: '$KV_TOKEN',
      requiresArg: true,
    })
    .option('json', {
      type: 'boolean',
      describe: "print JSON instead of plain text: the server's answer (bench: its results)",
      default: false,
    })
    .option('timeout', {
      type: 'number',
      describe: 'deadline of each request, in ms',
      default: CLIENT_TIMEOUT_MS_DEFAULT,
      requiresArg: true,
      coerce: integerIn('--timeout', 1, TIMEOUT_MS_MAX),
    })
    .option('cacert', {
      type: 'string',
      describe: 'PEM file of the CA that https:// proxies are verified with (default: the system\'s CAs)',
      default: nonEmpty(env.KV_CACERT),
      defaultDescription: '$KV_CACERT',
      requiresArg: true,
    })
    .group(['server', 'token', 'json', 'timeout', 'cacert'], 'Global options:');
}

/**
 * A client of the proxies named by the global options (`--server`: one URL or a comma-separated list, failed over in
 * that order); the caller closes it.
 * @param maxSockets most concurrent connections per proxy (1 for a single request).
 * @throws UsageError when `--server` names something that is not an http(s) URL, no proxy, too many, or one twice, or
 * when `--token` is not a usable token, or `--cacert` names a file that cannot be read.
 */
export function createClient(args: GlobalArgs, maxSockets = 1): KvClient {
  const ca = readCacert(args);
  const tls = ca === undefined ? undefined : { ca };
  try {
    return new KvClient({ baseUrl: args.server, token: args.token, timeoutMs: args.timeout, maxSockets, tls });
  } catch (err) {
    if (err instanceof TypeError) {
      const what = err.message.startsWith('token') ? '--token' : '--server';
      throw new UsageError(`${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * The CA certificates of `--cacert` (or `KV_CACERT`), or `undefined` when none is given.
 * @throws UsageError when the file cannot be read.
 */
export function readCacert(args: Pick<GlobalArgs, 'cacert'>): Buffer | undefined {
  return args.cacert === undefined ? undefined : readCaFile(args.cacert);
}

function readCaFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`--cacert: cannot read ${file} (${reason})`, { cause: err });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
