import { isUtf8 } from 'node:buffer';
import { KEY_BYTES_MAX } from '@kv/protocol';
import type { RespBackend, RespCallOptions } from '../backend';
import type { ConnectionState } from '../connection-state';
import { kvError, notAnInteger } from '../errors';
import type { RespLimits } from '../limits';
import { reply, type Reply } from '../reply';

/** What the server tells `INFO` about itself; read when `INFO` runs. */
export interface RespServerStats {
  /** Port the RESP server listens on. */
  port: number;
  /** When the server started, in ms since the epoch. */
  startedAtMs: number;
  connectedClients: number;
  /** Connections accepted since start. */
  totalConnections: number;
  /** Connections refused because the server was at its connection limit. */
  rejectedConnections: number;
  /** The connection limit. */
  connectionsMax: number;
}

/** Counters the dispatcher keeps for `INFO` (Stats). */
export interface RespCounters {
  commandsProcessed: number;
  keyspaceHits: number;
  keyspaceMisses: number;
}

/** What a command handler runs with. */
export interface CommandContext {
  readonly state: ConnectionState;
  readonly backend: RespBackend;
  readonly limits: RespLimits;
  /** The tokens `AUTH` accepts (any of them); undefined when the server needs none. */
  readonly authTokens: readonly string[] | undefined;
  readonly stats: () => RespServerStats;
  readonly counters: RespCounters;
}

/** A command's implementation: its arguments (the name first) to a reply. Never throws for operational errors. */
export type CommandHandler = (ctx: CommandContext, args: readonly Buffer[]) => Reply | Promise<Reply>;

/** A reply that refuses the request, thrown by the argument helpers and turned into the reply by the dispatcher. */
export class ReplyRefusal extends Error {
  readonly reply: Reply;
  constructor(refusal: Reply) {
    super('refused');
    this.reply = refusal;
  }
}

/**
 * A key argument as kv's key: UTF-8 text of 1 to {@link KEY_BYTES_MAX} bytes (the HTTP API's rule).
 * @throws ReplyRefusal `-ERR kv stores UTF-8 text: the key is not valid UTF-8`, or `-ERR kv: key must be ...`.
 */
export function keyArg(bytes: Buffer): string {
  if (bytes.length === 0 || bytes.length > KEY_BYTES_MAX) {
    throw new ReplyRefusal(kvError(`key must be 1 to ${KEY_BYTES_MAX} bytes of UTF-8, got ${bytes.length}`));
  }
  if (!isUtf8(bytes)) throw new ReplyRefusal(reply.error('ERR kv stores UTF-8 text: the key is not valid UTF-8'));
  return bytes.toString('utf8');
}

/**
 * A value argument as kv's value: UTF-8 text of at most `valueBytesMax` bytes (`MAX_VALUE_BYTES`).
 * @throws ReplyRefusal `-ERR kv stores UTF-8 text: the value is not valid UTF-8`, or `-ERR kv: value must be ...`.
 */
export function valueArg(bytes: Buffer, valueBytesMax: number): string {
  if (bytes.length > valueBytesMax) {
    throw new ReplyRefusal(kvError(`value must be at most ${valueBytesMax} bytes of UTF-8 (MAX_VALUE_BYTES), got ${bytes.length}`));
  }
  if (!isUtf8(bytes)) throw new ReplyRefusal(reply.error('ERR kv stores UTF-8 text: the value is not valid UTF-8'));
  return bytes.toString('utf8');
}

/**
 * An integer argument, as Redis reads one (optional minus sign, decimal digits, no spaces).
 * @throws ReplyRefusal `-ERR value is not an integer or out of range`.
 */
export function integerArg(bytes: Buffer, refusal: Reply = notAnInteger): number {
  const text = bytes.toString('latin1');
  if (!/^-?(0|[1-9]\d{0,17})$/.test(text)) throw new ReplyRefusal(refusal);
  return Number(text);
}

/** An argument compared as a keyword (case-insensitive ASCII). */
export function word(bytes: Buffer): string {
  return bytes.length > 32 ? '' : bytes.toString('latin1').toLowerCase();
}

/** The connection's quorums as backend options. */
export function readOptions(ctx: CommandContext): { r?: number } & RespCallOptions {
  const state = ctx.state;
  return { r: state.readQuorum, clientGone: () => state.gone };
}

/** The connection's quorums as backend options. */
export function writeOptions(ctx: CommandContext): { w?: number } & RespCallOptions {
  const state = ctx.state;
  return { w: state.writeQuorum, clientGone: () => state.gone };
}
