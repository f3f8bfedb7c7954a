/**
 * Bearer tokens of the servers (`CLUSTER_TOKEN`, `AUTH_TOKEN`) and what a server without them exposes. A token setting
 * holds one token or a comma-separated list of them: a server accepts any token of its list and a client sends the
 * first, which is how tokens are rotated without downtime (docs/operations.md#rotating-a-token).
 */
import { ConfigError } from './config';

/** Most tokens one setting may list: two are enough for a rotation, and each costs one comparison per request. */
export const TOKENS_MAX = 4;

/**
 * The `CLUSTER_TOKEN` of docker/kv.env, the sample environment of docker-compose.yml. It is public (it is in the
 * repository), so a server that is given it warns at every start.
 */
export const SAMPLE_CLUSTER_TOKEN = 'local-only-insecure-cluster-token';

/** Characters of a token: visible ASCII (what an HTTP header value may carry without quoting), but not `,`, the separator. */
const TOKEN_PATTERN = /^[\x21-\x2b\x2d-\x7e]+$/;

/**
 * Parses a token setting: one token or a comma-separated list of at most {@link TOKENS_MAX} (blanks around the commas
 * are ignored), each of visible ASCII characters. The first is the one a client sends.
 * @throws ConfigError naming the position of a bad token, never its value.
 */
export function parseTokens(raw: string): readonly string[] {
  const tokens = raw.split(',').map((item) => item.trim());
  if (tokens.length > TOKENS_MAX) throw new ConfigError(`lists ${tokens.length} tokens: at most ${TOKENS_MAX} (the current one and the next)`);
  tokens.forEach((token, i) => {
    const which = tokens.length === 1 ? 'the token' : `token ${i + 1} of the list`;
    if (token === '') throw new ConfigError(`has an empty token: ${tokens.length === 1 ? 'unset it or give a token' : 'remove the extra comma'}`);
    if (!TOKEN_PATTERN.test(token)) {
      throw new ConfigError(
        `is not usable in an Authorization header: ${which} has a space, a control or a non-ASCII character; use visible ASCII only (e.g. openssl rand -hex 32)`,
      );
    }
  });
  return tokens;
}

/** A token setting as code receives it: one token, a comma-separated list, or a parsed list. */
export type TokenList = string | readonly string[];

/** The tokens of a {@link TokenList}: a string is split at its commas (blanks around them ignored). */
export function tokensOf(tokens: TokenList): readonly string[] {
  return typeof tokens === 'string' ? tokens.split(',').map((item) => item.trim()) : tokens;
}

/** Whether a listen address is reachable only from this machine: `localhost`, 127.0.0.0/8 or `::1`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** The warning for token settings that hold the published sample value, or undefined when none does. */
export function sampleTokenWarning(settings: Record<string, readonly string[] | undefined>): string | undefined {
  const named = Object.entries(settings)
    .filter(([, tokens]) => tokens?.includes(SAMPLE_CLUSTER_TOKEN) === true)
    .map(([env]) => env);
  if (named.length === 0) return undefined;
  return (
    `${named.join(' and ')} ${named.length === 1 ? 'holds' : 'hold'} the published sample token of docker/kv.env: anyone who reads the repository knows it, ` +
    'so it protects nothing; set a random one of your own (e.g. openssl rand -hex 32)'
  );
}
