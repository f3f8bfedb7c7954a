/**
 * `@kv/resp`: the Redis protocol (RESP2 and RESP3) for kv, without sockets. A request parser (multibulk and inline
 * commands, bounded), a reply writer, the command table, per-connection state, a dispatcher that runs commands
 * against an injected {@link RespBackend}, and a session that keeps a pipelined connection's replies in order and
 * bounds what it buffers. The proxy owns the socket server. See `docs/protocol/resp.md`.
 *
 * It imports `@kv/protocol` (kv's key rules, limits and error codes) and nothing else of kv.
 */

export type { RespBackend, RespCallOptions, RespClusterInfo, RespEntry } from './backend';
export { COMMAND_TABLE, arityAllows, commandSpec, subcommandSpec } from './command-table';
export type { ArgumentDoc, CommandSpec } from './command-table';
export type { RespCounters, RespServerStats } from './commands/command-context';
export { REDIS_COMPATIBLE_VERSION } from './commands/connection-commands';
export { ConnectionState } from './connection-state';
export { RespDispatcher } from './dispatcher';
export type { CommandPlan, DispatcherEvents, RespDispatcherOptions } from './dispatcher';
export { RespErrorPrefix, errorPrefixOf, errorReplyOf, unknownCommand, wrongArity } from './errors';
export {
  RESP_ARGS_MAX,
  RESP_CONNECTIONS_MAX,
  RESP_IDLE_TIMEOUT_MS_DEFAULT,
  RESP_INLINE_BYTES_MAX,
  RESP_KEYS_MAX,
  RESP_OUTPUT_BYTES_HIGH_WATER,
  RESP_PIPELINE_COMMANDS_MAX,
  respLimits,
} from './limits';
export type { RespLimits } from './limits';
export { isErrorReply, reply } from './reply';
export type { Reply } from './reply';
export { RequestParser, splitInlineArgs } from './request-parser';
export type { ParsedCommand, ParsedRequest, ProtocolViolation } from './request-parser';
export { RespSession } from './session';
export type { CommandRecord, RespConnectionIo, RespSessionOptions } from './session';
export { encodeReply } from './writer';
export type { ProtocolVersion } from './writer';
