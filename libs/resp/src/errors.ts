import { ErrorCode, INTERNAL_ERROR_MESSAGE } from '@kv/protocol';
import { reply, type Reply } from './reply';

/**
 * The error prefixes kv's RESP server sends, each one Redis itself uses for the same situation, so that clients
 * classify them as they classify Redis's (see `docs/protocol/resp.md`, Errors).
 */
export const RespErrorPrefix = {
  /** A request that is wrong or refused (bad key, value too large, unsupported option, unknown command). */
  Err: 'ERR',
  /**
   * Retry later: a quorum was missed (for a write the outcome is unknown), or the proxy cannot serve yet (Redis Cluster
   * sends it when a slot is busy).
   */
  TryAgain: 'TRYAGAIN',
  /** Authentication is required first. */
  NoAuth: 'NOAUTH',
  /** The token given to `AUTH`/`HELLO ... AUTH` is wrong. */
  WrongPass: 'WRONGPASS',
  /** `HELLO` asked for a protocol version other than 2 or 3. */
  NoProto: 'NOPROTO',
} as const;

/** One of {@link RespErrorPrefix}. */
export type RespErrorPrefix = (typeof RespErrorPrefix)[keyof typeof RespErrorPrefix];

/** Prefix of the message of every error that comes from kv's rules rather than from Redis's syntax. */
const KV = 'kv:';

/** `-ERR unknown command 'foo', with args beginning with: 'a' 'b' ` (Redis's wording and trailing space). */
export function unknownCommand(name: string, args: readonly Buffer[]): Reply {
  const shown = args
    .slice(0, 16)
    .map((arg) => `'${printable(arg, 128)}' `)
    .join('');
  return reply.error(`ERR unknown command '${printable(Buffer.from(name, 'latin1'), 128)}', with args beginning with: ${shown}`);
}

/** `-ERR unknown subcommand 'x'. Try CLIENT HELP.` */
export function unknownSubcommand(command: string, sub: Buffer): Reply {
  return reply.error(`ERR unknown subcommand '${printable(sub, 128)}'. Try ${command.toUpperCase()} HELP.`);
}

/** `-ERR wrong number of arguments for 'get' command` */
export function wrongArity(name: string): Reply {
  return reply.error(`ERR wrong number of arguments for '${name}' command`);
}

/** `-ERR syntax error` */
export const syntaxError: Reply = reply.error('ERR syntax error');

/** `-ERR value is not an integer or out of range` */
export const notAnInteger: Reply = reply.error('ERR value is not an integer or out of range');

/** `-NOAUTH Authentication required.` */
export const authRequired: Reply = reply.error(`${RespErrorPrefix.NoAuth} Authentication required.`);

/** `-WRONGPASS invalid username-password pair or user is disabled.` */
export const wrongPass: Reply = reply.error(`${RespErrorPrefix.WrongPass} invalid username-password pair or user is disabled.`);

/** An error of kv's own rules: `-ERR kv: <message>`. */
export function kvError(message: string): Reply {
  return reply.error(`${RespErrorPrefix.Err} ${KV} ${message}`);
}

/**
 * The RESP error of anything a backend threw: a `KvError` or an object with a string `code` (`KV_*`).
 * `KV_QUORUM_FAILED` is `-TRYAGAIN kv: <message>` (the message says how many replicas answered, and for a write that
 * the outcome is unknown); so are the refusals that pass with time (`KV_NOT_READY`: the proxy has not joined the
 * cluster yet; `KV_OVERLOADED`; `KV_UNAVAILABLE`), counted as `unavailable`; `KV_UNAUTHORIZED` is `-NOAUTH`; the request errors (`KV_BAD_REQUEST`, `KV_INVALID_KEY`,
 * `KV_TOO_LARGE`, `KV_NOT_FOUND`) are `-ERR kv: <message>`; anything else is `-ERR kv: internal error`, without
 * details (they go to the log).
 * @returns the reply, and whether it is an internal error (to log) or a quorum failure (to count).
 */
export function errorReplyOf(thrown: unknown): { reply: Reply; kind: 'request' | 'quorum' | 'unavailable' | 'internal' } {
  const code = typeof thrown === 'object' && thrown !== null ? (thrown as { code?: unknown }).code : undefined;
  const message = thrown instanceof Error ? thrown.message : typeof thrown === 'object' && thrown !== null ? String((thrown as { message?: unknown }).message ?? '') : '';
  switch (code) {
    case ErrorCode.QuorumFailed:
      return { reply: reply.error(`${RespErrorPrefix.TryAgain} ${KV} ${message}`), kind: 'quorum' };
    case ErrorCode.NotReady:
    case ErrorCode.Overloaded:
    case ErrorCode.Unavailable:
      return { reply: reply.error(`${RespErrorPrefix.TryAgain} ${KV} ${message}`), kind: 'unavailable' };
    case ErrorCode.Unauthorized:
      return { reply: authRequired, kind: 'request' };
    case ErrorCode.BadRequest:
    case ErrorCode.InvalidKey:
    case ErrorCode.TooLarge:
    case ErrorCode.NotFound:
      return { reply: kvError(message), kind: 'request' };
    default:
      return { reply: kvError(INTERNAL_ERROR_MESSAGE), kind: 'internal' };
  }
}

/** The error prefix of an error reply (`ERR`, `TRYAGAIN`, ...), for metrics labels. */
export function errorPrefixOf(message: string): string {
  const space = message.indexOf(' ');
  return space < 0 ? message : message.slice(0, space);
}

/** Bytes shown in an error message: printable ASCII as is, anything else as `\xHH`, at most `max` characters. */
function printable(bytes: Buffer, max: number): string {
  let out = '';
  for (const b of bytes.subarray(0, max)) {
    out += b >= 0x20 && b < 0x7f && b !== 0x27 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
