import { createHash, timingSafeEqual } from 'node:crypto';
import { arityAllows, commandSpec, subcommandSpec } from '../command-table';
import { RespErrorPrefix, kvError, unknownSubcommand, wrongArity, wrongPass } from '../errors';
import { reply, type Reply } from '../reply';
import { ReplyRefusal, integerArg, word, type CommandContext, type CommandHandler } from './command-context';

/**
 * The Redis version whose commands and replies kv follows, reported where clients look for a Redis version (`HELLO`,
 * `INFO`): clients choose what to send by it, and kv answers like Redis 7.0 for the commands it has.
 */
export const REDIS_COMPATIBLE_VERSION = '7.0.0';

/** The only user name kv knows (Redis's default user), for `AUTH user pass` and `HELLO ... AUTH user pass`. */
const DEFAULT_USER = 'default';

/**
 * True when `presented` is one of the tokens; takes the same time whatever it holds (digests of equal length compared,
 * against every token, without stopping at a match).
 */
function tokenMatches(presented: Buffer, tokens: readonly string[]): boolean {
  const a = createHash('sha256').update(presented).digest();
  let matched = false;
  for (const token of tokens) matched = timingSafeEqual(a, createHash('sha256').update(token, 'utf8').digest()) || matched;
  return matched;
}

/**
 * Checks credentials; returns undefined when they are right, else the error reply. Without a token, the default user
 * takes any password when it is named (`AUTH default x`, `HELLO 3 AUTH default x`), as Redis's passwordless default
 * user does, so clients configured with a password still connect; `AUTH x` alone gets Redis's error for that case.
 */
function authenticate(ctx: CommandContext, user: Buffer | undefined, password: Buffer): Reply | undefined {
  if (ctx.authTokens === undefined) {
    if (user !== undefined && user.toString('latin1') === DEFAULT_USER) return undefined;
    if (user !== undefined) return wrongPass;
    return reply.error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  }
  const userOk = user === undefined || user.toString('latin1') === DEFAULT_USER;
  const passwordOk = tokenMatches(password, ctx.authTokens);
  if (!userOk || !passwordOk) return wrongPass;
  ctx.state.authenticated = true;
  return undefined;
}

const PONG = reply.simple('PONG');

const ping: CommandHandler = (_ctx, args) => {
  if (args.length > 2) return wrongArity('ping');
  return args.length === 2 ? reply.bulk(args[1]) : PONG;
};

const echo: CommandHandler = (_ctx, args) => reply.bulk(args[1]);

const quit: CommandHandler = (ctx) => {
  ctx.state.closing = true;
  return reply.ok;
};

const select: CommandHandler = (_ctx, args) => {
  const index = integerArg(args[1]);
  if (index !== 0) return reply.error('ERR DB index is out of range (kv has one keyspace: database 0)');
  return reply.ok;
};

const auth: CommandHandler = (ctx, args) => {
  if (args.length > 3) return syntaxErrorReply();
  const refused = args.length === 3 ? authenticate(ctx, args[1], args[2]) : authenticate(ctx, undefined, args[1]);
  return refused ?? reply.ok;
};

function syntaxErrorReply(): Reply {
  return reply.error('ERR syntax error');
}

const hello: CommandHandler = (ctx, args) => {
  let protocol = ctx.state.protocol;
  if (args.length >= 2) {
    const version = integerArg(args[1], reply.error('ERR Protocol version is not an integer or out of range'));
    if (version !== 2 && version !== 3) return reply.error(`${RespErrorPrefix.NoProto} unsupported protocol version`);
    protocol = version;
  }
  let name: Buffer | undefined;
  let credentials: [Buffer, Buffer] | undefined;
  for (let i = 2; i < args.length; i++) {
    const option = word(args[i]);
    const more = args.length - i - 1;
    if (option === 'auth' && more >= 2) {
      credentials = [args[i + 1], args[i + 2]];
      i += 2;
    } else if (option === 'setname' && more >= 1) {
      name = args[i + 1];
      i += 1;
    } else {
      return reply.error(`ERR Syntax error in HELLO option '${args[i].toString('latin1').slice(0, 64)}'`);
    }
  }
  if (credentials !== undefined) {
    const refused = authenticate(ctx, credentials[0], credentials[1]);
    if (refused !== undefined) return refused;
  }
  if (!ctx.state.authenticated) {
    return reply.error(
      `${RespErrorPrefix.NoAuth} HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time`,
    );
  }
  if (name !== undefined) {
    const refused = setName(ctx, name);
    if (refused !== undefined) return refused;
  }
  ctx.state.protocol = protocol;
  const info = ctx.backend.info();
  return reply.fields({
    server: reply.bulk('kv'),
    version: reply.bulk(REDIS_COMPATIBLE_VERSION),
    proto: reply.integer(protocol),
    id: reply.integer(ctx.state.id),
    mode: reply.bulk('standalone'),
    role: reply.bulk('master'),
    modules: reply.array([]),
    kv_version: reply.bulk(info.version),
  });
};

/** Names the connection; Redis refuses names with spaces, line breaks or other unprintable bytes. */
function setName(ctx: CommandContext, name: Buffer): Reply | undefined {
  for (const b of name) {
    if (b < 0x21 || b > 0x7e) return reply.error('ERR Client names cannot contain spaces, newlines or special characters.');
  }
  ctx.state.name = name.toString('latin1');
  return undefined;
}

const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'SETNAME <connection-name>',
  '    Assign the name <connection-name> to the current connection.',
  'SETINFO <LIB-NAME|LIB-VER> <value>',
  '    Accepted and ignored (kv does not keep client library information).',
  'KV-QUORUM [<w> <r>]',
  "    kv only: set this connection's write and read quorums (like ?w= and ?r= of the HTTP API); 0 means the",
  "    cluster's W or R. Without arguments, show the quorums in effect.",
  'HELP',
  '    Print this help.',
];

/** `CLIENT KV-QUORUM [w r]`: the connection's quorums, the RESP form of `?w=` and `?r=`. */
function kvQuorum(ctx: CommandContext, args: readonly Buffer[]): Reply {
  const info = ctx.backend.info();
  if (args.length === 2) {
    return reply.fields({
      w: reply.integer(ctx.state.writeQuorum ?? info.writeQuorum),
      r: reply.integer(ctx.state.readQuorum ?? info.readQuorum),
      replicas: reply.integer(info.replicas),
    });
  }
  if (args.length !== 4) return wrongArity('client|kv-quorum');
  const n = info.replicas;
  const parse = (bytes: Buffer, name: 'w' | 'r', cluster: number): number => {
    const refusal = kvError(`${name} must be an integer in 0..${n} (0: the cluster's ${name.toUpperCase()}, ${cluster})`);
    const value = integerArg(bytes, refusal);
    if (value < 0 || value > n) throw new ReplyRefusal(refusal);
    return value;
  };
  const w = parse(args[2], 'w', info.writeQuorum);
  const r = parse(args[3], 'r', info.readQuorum);
  ctx.state.writeQuorum = w === 0 ? undefined : w;
  ctx.state.readQuorum = r === 0 ? undefined : r;
  return reply.ok;
}

const client: CommandHandler = (ctx, args) => {
  const container = commandSpec('client');
  const spec = container === undefined ? undefined : subcommandSpec(container, args[1].toString('latin1'));
  if (spec === undefined) return unknownSubcommand('client', args[1]);
  if (!arityAllows(spec, args.length)) return wrongArity(spec.name);
  switch (spec.name) {
    case 'client|setname':
      return setName(ctx, args[2]) ?? reply.ok;
    case 'client|getname':
      return ctx.state.name === '' ? reply.nil : reply.bulk(ctx.state.name);
    case 'client|id':
      return reply.integer(ctx.state.id);
    case 'client|setinfo': {
      const attribute = word(args[2]);
      if (attribute !== 'lib-name' && attribute !== 'lib-ver') {
        return reply.error(`ERR Unrecognized option '${args[2].toString('latin1').slice(0, 64)}'`);
      }
      return reply.ok;
    }
    case 'client|kv-quorum':
      return kvQuorum(ctx, args);
    default:
      return reply.array(CLIENT_HELP.map((line) => reply.simple(line)));
  }
};

/** The connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, CLIENT. */
export const CONNECTION_COMMANDS: Readonly<Record<string, CommandHandler>> = {
  ping,
  echo,
  quit,
  select,
  auth,
  hello,
  client,
};
