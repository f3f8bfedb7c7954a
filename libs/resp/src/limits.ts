/**
 * Limits of kv's RESP server: every size a connection can grow by has a named maximum here (see
 * `docs/protocol/resp.md`, Limits). Request sizes follow the HTTP API's, so a value accepted by one protocol is accepted
 * by the other.
 */
import { BATCH_OPS_MAX, batchBodyBytesMax, singleBodyBytesMax, VALUE_BYTES_MAX_DEFAULT } from '@kv/protocol';

/**
 * Most arguments of one command, the command name included: `MSET` of {@link BATCH_OPS_MAX} keys (the HTTP batch
 * limit) has `1 + 2 x 1000`. A multibulk header announcing more is a protocol error: it would only grow memory.
 */
export const RESP_ARGS_MAX = 1 + 2 * BATCH_OPS_MAX;

/** Most keys of one multi-key command (`MGET`, `MSET`, `DEL`, `EXISTS`, `UNLINK`): the HTTP batch limit. */
export const RESP_KEYS_MAX = BATCH_OPS_MAX;

/**
 * Longest inline command (a line of text, as typed in telnet), in bytes: Redis's own limit (64 KiB), which no typed
 * command reaches and which bounds what is buffered before a line ends.
 */
export const RESP_INLINE_BYTES_MAX = 64 * 1024;

/**
 * Commands of one connection parsed and not yet answered. Past it the connection stops reading until replies go out:
 * pipelining beyond a few dozen commands gains nothing (redis-benchmark peaks by -P 16 to 64), and every command in
 * flight may hold a value.
 */
export const RESP_PIPELINE_COMMANDS_MAX = 128;

/**
 * Bytes of replies written to a connection and not yet taken by the client, past which the connection stops reading
 * (and so stops starting commands) until the client drains them: a slow reader cannot make the proxy buffer more than
 * this plus the replies of the commands already in flight.
 */
export const RESP_OUTPUT_BYTES_HIGH_WATER = 1024 * 1024;

/** Open RESP connections at most: the HTTP server's limit, for the same reason (file descriptors, memory). */
export const RESP_CONNECTIONS_MAX = 10_000;

/**
 * Default idle time after which a connection with nothing in flight is closed: clients keep pooled RESP connections
 * open between bursts (5 minutes outlasts any burst gap worth keeping), while abandoned ones give their slot back.
 */
export const RESP_IDLE_TIMEOUT_MS_DEFAULT = 300_000;

/** The limits a parser and a dispatcher apply, in the units their names say. */
export interface RespLimits {
  /** Largest value of `SET`/`MSET`, in bytes of UTF-8 (the server's `MAX_VALUE_BYTES`). */
  valueBytesMax: number;
  /**
   * Largest bulk string (one argument), in bytes: the HTTP single-key body limit, so every value within
   * `valueBytesMax` fits and a larger one is refused by the command with a clear error, not by the parser.
   */
  argBytesMax: number;
  /** Largest command (all its bytes on the wire), in bytes: the HTTP `/batch` body limit. */
  commandBytesMax: number;
  /** Most arguments of one command, the name included. */
  argsMax: number;
  /** Longest inline command, in bytes. */
  inlineBytesMax: number;
}

/**
 * The limits for a value limit (`MAX_VALUE_BYTES`), derived as the HTTP API derives its body limits.
 * @throws TypeError when `valueBytesMax` is not a positive safe integer.
 */
export function respLimits(valueBytesMax: number = VALUE_BYTES_MAX_DEFAULT): RespLimits {
  return {
    valueBytesMax,
    argBytesMax: singleBodyBytesMax(valueBytesMax),
    commandBytesMax: batchBodyBytesMax(valueBytesMax),
    argsMax: RESP_ARGS_MAX,
    inlineBytesMax: RESP_INLINE_BYTES_MAX,
  };
}
