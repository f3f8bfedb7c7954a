import type { RespEntry } from '../backend';
import { errorReplyOf, kvError, syntaxError, wrongArity } from '../errors';
import { RESP_KEYS_MAX } from '../limits';
import { reply, type Reply } from '../reply';
import {
  ReplyRefusal,
  integerArg,
  keyArg,
  readOptions,
  valueArg,
  word,
  writeOptions,
  type CommandContext,
  type CommandHandler,
} from './command-context';

const NO_TTL = kvError(
  'expiry (EX, PX, EXAT, PXAT, KEEPTTL, SETEX, PSETEX, TTL, PTTL, EXPIRE, PEXPIRE, PERSIST) needs TTL support, which this backend does not have',
);
const NO_CAS = kvError('SET NX, XX and GET need compare-and-set, which this kv cluster does not support');
/**
 * KEEPTTL, EXPIRE, PEXPIRE and PERSIST change the expiry of the value held: a read, then a write of that value. Without
 * compare-and-set a SET of the key between the two would be undone, so a backend without it refuses them.
 */
const NO_RMW = kvError(
  'KEEPTTL, EXPIRE, PEXPIRE and PERSIST rewrite the value held with another expiry, which needs compare-and-set (a SET in between would be lost); this kv cluster does not support it: SET the value again with EX or PX instead',
);
const NO_CAS_EXPIRE = kvError('EXPIRE options NX, XX, GT and LT need compare-and-set, which this kv cluster does not support');

/** The keys of a multi-key command, checked: at most {@link RESP_KEYS_MAX}, each a valid kv key. */
function keysArg(args: readonly Buffer[]): string[] {
  if (args.length > RESP_KEYS_MAX) throw new ReplyRefusal(kvError(`a command takes at most ${RESP_KEYS_MAX} keys (like /batch), got ${args.length}`));
  return args.map(keyArg);
}

/** Throws the reply of an entry that failed. */
function entryOrThrow<T>(entry: T | Error): T {
  if (entry instanceof Error) throw new ReplyRefusal(errorReplyOf(entry).reply);
  return entry;
}

/** Reads distinct keys; a failed read fails the command (a read has no side effect, so nothing is half done). */
async function readMany(ctx: CommandContext, keys: readonly string[]): Promise<Map<string, RespEntry | undefined>> {
  const distinct = [...new Set(keys)];
  const entries = await ctx.backend.mget(distinct, readOptions(ctx));
  const found = new Map<string, RespEntry | undefined>();
  distinct.forEach((key, i) => found.set(key, entryOrThrow(entries[i])));
  return found;
}

function countHits(ctx: CommandContext, entry: RespEntry | undefined): void {
  if (entry === undefined) ctx.counters.keyspaceMisses++;
  else ctx.counters.keyspaceHits++;
}

const get: CommandHandler = async (ctx, args) => {
  const key = keyArg(args[1]);
  const entry = await ctx.backend.get(key, readOptions(ctx));
  countHits(ctx, entry);
  return entry === undefined ? reply.nil : reply.bulk(entry.value);
};

/** The options of `SET` after the value, as Redis reads them. */
interface SetOptions {
  conditional: boolean;
  expiresAtMs?: number;
  keepTtl: boolean;
}

function setOptions(ctx: CommandContext, args: readonly Buffer[]): SetOptions {
  const options: SetOptions = { conditional: false, keepTtl: false };
  let condition: string | undefined;
  let expiry: string | undefined;
  for (let i = 3; i < args.length; i++) {
    const option = word(args[i]);
    if (option === 'nx' || option === 'xx') {
      if (condition !== undefined) throw new ReplyRefusal(syntaxError);
      condition = option;
      options.conditional = true;
    } else if (option === 'get') {
      options.conditional = true;
    } else if (option === 'keepttl') {
      if (expiry !== undefined) throw new ReplyRefusal(syntaxError);
      expiry = option;
      options.keepTtl = true;
    } else if (option === 'ex' || option === 'px' || option === 'exat' || option === 'pxat') {
      if (expiry !== undefined || i + 1 >= args.length) throw new ReplyRefusal(syntaxError);
      expiry = option;
      const n = integerArg(args[++i]);
      if (n <= 0) throw new ReplyRefusal(reply.error("ERR invalid expire time in 'set' command"));
      const now = ctx.backend.now();
      options.expiresAtMs = option === 'ex' ? now + n * 1000 : option === 'px' ? now + n : option === 'exat' ? n * 1000 : n;
    } else {
      throw new ReplyRefusal(syntaxError);
    }
  }
  return options;
}

const set: CommandHandler = async (ctx, args) => {
  const options = setOptions(ctx, args);
  if (options.conditional) return NO_CAS;
  if ((options.expiresAtMs !== undefined || options.keepTtl) && !ctx.backend.capabilities.ttl) return NO_TTL;
  if (options.keepTtl && !ctx.backend.capabilities.compareAndSet) return NO_RMW;
  const key = keyArg(args[1]);
  const value = valueArg(args[2], ctx.limits.valueBytesMax);
  const setOpts: { w?: number; expiresAtMs?: number; keepTtl?: boolean } = { ...writeOptions(ctx) };
  if (options.expiresAtMs !== undefined) setOpts.expiresAtMs = options.expiresAtMs;
  if (options.keepTtl) setOpts.keepTtl = true;
  await ctx.backend.set(key, value, setOpts);
  return reply.ok;
};

/** DEL and UNLINK: reads the keys, then deletes them all; answers how many existed. Not atomic. */
const del: CommandHandler = async (ctx, args) => {
  const keys = keysArg(args.slice(1));
  const existing = await readMany(ctx, keys);
  const distinct = [...existing.keys()];
  const outcomes = await Promise.allSettled(distinct.map((key) => ctx.backend.del(key, writeOptions(ctx))));
  const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed.length > 0) {
    const first = errorReplyOf(failed[0].reason).reply;
    if (distinct.length === 1) return first;
    return partialFailure(first, `DEL deleted ${distinct.length - failed.length} of ${distinct.length} keys`);
  }
  let count = 0;
  for (const entry of existing.values()) if (entry !== undefined) count++;
  return reply.integer(count);
};

/** The error of a multi-key command where some keys failed: the first error, with what was done before it. */
function partialFailure(first: Reply, done: string): Reply {
  if (first.type !== 'error') return first;
  const space = first.message.indexOf(' ');
  const prefix = space < 0 ? first.message : first.message.slice(0, space);
  const rest = space < 0 ? '' : first.message.slice(space + 1).replace(/^kv: /, '');
  return reply.error(`${prefix} kv: ${done} (not atomic: the others stay as they are); first failure: ${rest}`);
}

const exists: CommandHandler = async (ctx, args) => {
  const keys = keysArg(args.slice(1));
  const found = await readMany(ctx, keys);
  let count = 0;
  for (const key of keys) if (found.get(key) !== undefined) count++;
  return reply.integer(count);
};

const mget: CommandHandler = async (ctx, args) => {
  const keys = keysArg(args.slice(1));
  const found = await readMany(ctx, keys);
  return reply.array(
    keys.map((key) => {
      const entry = found.get(key);
      countHits(ctx, entry);
      return entry === undefined ? reply.nil : reply.bulk(entry.value);
    }),
  );
};

/** MSET: every key written with its own quorum, the last value of a key given twice wins. Not atomic. */
const mset: CommandHandler = async (ctx, args) => {
  if ((args.length - 1) % 2 !== 0) return wrongArity('mset');
  if ((args.length - 1) / 2 > RESP_KEYS_MAX) return kvError(`a command takes at most ${RESP_KEYS_MAX} keys (like /batch), got ${(args.length - 1) / 2}`);
  const values = new Map<string, string>();
  for (let i = 1; i < args.length; i += 2) {
    const key = keyArg(args[i]);
    const value = valueArg(args[i + 1], ctx.limits.valueBytesMax);
    values.delete(key);
    values.set(key, value);
  }
  const entries = [...values].map(([key, value]) => ({ key, value }));
  const outcomes = await ctx.backend.mset(entries, writeOptions(ctx));
  const failed = outcomes.filter((o): o is Error => o instanceof Error);
  if (failed.length === 0) return reply.ok;
  const first = errorReplyOf(failed[0]).reply;
  if (entries.length === 1) return first;
  return partialFailure(first, `MSET wrote ${entries.length - failed.length} of ${entries.length} keys`);
};

const strlen: CommandHandler = async (ctx, args) => {
  const key = keyArg(args[1]);
  const entry = await ctx.backend.get(key, readOptions(ctx));
  return reply.integer(entry === undefined ? 0 : Buffer.byteLength(entry.value, 'utf8'));
};

/** TTL (seconds) and PTTL (ms): -2 for a missing key, -1 for one without expiry. */
function ttlCommand(unitMs: 1 | 1000): CommandHandler {
  return async (ctx, args) => {
    if (!ctx.backend.capabilities.ttl) return NO_TTL;
    const key = keyArg(args[1]);
    const entry = await ctx.backend.get(key, readOptions(ctx));
    if (entry === undefined) return reply.integer(-2);
    if (entry.expiresAtMs === undefined) return reply.integer(-1);
    const remainingMs = Math.max(0, entry.expiresAtMs - ctx.backend.now());
    return reply.integer(unitMs === 1 ? remainingMs : Math.round(remainingMs / 1000));
  };
}

/**
 * EXPIRE (seconds) and PEXPIRE (ms): reads the key and writes it back with the expiry. Refused unless the backend has
 * compare-and-set; even then the write back is unconditional (a write of the key between the two is overwritten), to
 * be made conditional once a backend offers it. A time <= 0 deletes the key, as in Redis.
 */
function expireCommand(unitMs: 1 | 1000): CommandHandler {
  return async (ctx, args) => {
    const n = integerArg(args[2]);
    if (args.length > 3) {
      const option = word(args[3]);
      if (args.length === 4 && ['nx', 'xx', 'gt', 'lt'].includes(option)) return NO_CAS_EXPIRE;
      return syntaxError;
    }
    if (!ctx.backend.capabilities.ttl) return NO_TTL;
    if (!ctx.backend.capabilities.compareAndSet) return NO_RMW;
    const key = keyArg(args[1]);
    const entry = await ctx.backend.get(key, readOptions(ctx));
    if (entry === undefined) return reply.integer(0);
    if (n <= 0) {
      await ctx.backend.del(key, writeOptions(ctx));
      return reply.integer(1);
    }
    await ctx.backend.set(key, entry.value, { ...writeOptions(ctx), expiresAtMs: ctx.backend.now() + n * unitMs });
    return reply.integer(1);
  };
}

/** PERSIST: reads the key and writes it back without expiry (refused without compare-and-set, like EXPIRE). */
const persist: CommandHandler = async (ctx, args) => {
  if (!ctx.backend.capabilities.ttl) return NO_TTL;
  if (!ctx.backend.capabilities.compareAndSet) return NO_RMW;
  const key = keyArg(args[1]);
  const entry = await ctx.backend.get(key, readOptions(ctx));
  if (entry === undefined || entry.expiresAtMs === undefined) return reply.integer(0);
  await ctx.backend.set(key, entry.value, writeOptions(ctx));
  return reply.integer(1);
};

/** SETEX (seconds) and PSETEX (ms): `SET key value EX|PX n`, value after the time as in Redis. */
function setexCommand(unitMs: 1 | 1000): CommandHandler {
  const name = unitMs === 1000 ? 'setex' : 'psetex';
  return async (ctx, args) => {
    const n = integerArg(args[2]);
    if (n <= 0) return reply.error(`ERR invalid expire time in '${name}' command`);
    if (!ctx.backend.capabilities.ttl) return NO_TTL;
    const key = keyArg(args[1]);
    const value = valueArg(args[3], ctx.limits.valueBytesMax);
    await ctx.backend.set(key, value, { ...writeOptions(ctx), expiresAtMs: ctx.backend.now() + n * unitMs });
    return reply.ok;
  };
}

/** The key commands. */
export const KEY_COMMANDS: Readonly<Record<string, CommandHandler>> = {
  get,
  set,
  del,
  unlink: del,
  exists,
  mget,
  mset,
  strlen,
  setex: setexCommand(1000),
  psetex: setexCommand(1),
  ttl: ttlCommand(1000),
  pttl: ttlCommand(1),
  expire: expireCommand(1000),
  pexpire: expireCommand(1),
  persist,
};
