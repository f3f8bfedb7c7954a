/** One argument of a command, as `COMMAND DOCS` describes it (redis-cli builds its hints from these). */
export interface ArgumentDoc {
  readonly name: string;
  readonly type: 'key' | 'string' | 'integer' | 'unix-time' | 'pure-token' | 'oneof' | 'block';
  /** The literal word that introduces it (`EX`, `AUTH`). */
  readonly token?: string;
  readonly optional?: boolean;
  readonly multiple?: boolean;
  /** The alternatives of a `oneof`, the parts of a `block`. */
  readonly arguments?: readonly ArgumentDoc[];
}

/**
 * A command as kv's RESP server knows it: what `COMMAND`, `COMMAND DOCS` and the arity check need. `arity` follows
 * Redis: a positive number is the exact count of arguments (the name included), a negative one the least.
 */
export interface CommandSpec {
  /** Lower case; a subcommand is `container|sub`, as Redis names them. */
  readonly name: string;
  readonly arity: number;
  /** Redis's command flags (`readonly`, `write`, `fast`, `no_auth`, ...). */
  readonly flags: readonly string[];
  /** Positions of the keys: first, last (-1: the last argument), step (0: no keys). */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  readonly group: string;
  /** The Redis version that introduced it (clients read it to decide what to send). */
  readonly since: string;
  readonly summary: string;
  readonly arguments: readonly ArgumentDoc[];
  readonly subcommands?: readonly CommandSpec[];
}

const key: ArgumentDoc = { name: 'key', type: 'key' };
const keys: ArgumentDoc = { name: 'key', type: 'key', multiple: true };
const noKeys = { firstKey: 0, lastKey: 0, step: 0 } as const;
const oneKey = { firstKey: 1, lastKey: 1, step: 1 } as const;
const allKeys = { firstKey: 1, lastKey: -1, step: 1 } as const;

const sub = (container: string, name: string, arity: number, summary: string, args: readonly ArgumentDoc[] = [], flags: readonly string[] = ['noscript', 'loading', 'stale']): CommandSpec => ({
  name: `${container}|${name}`,
  arity,
  flags,
  ...noKeys,
  group: container === 'client' ? 'connection' : 'server',
  since: '2.4.0',
  summary,
  arguments: args,
});

/**
 * Every command kv's RESP server answers (anything else is `-ERR unknown command`). Differences from Redis are in
 * the summaries and in `docs/protocol/resp.md`.
 */
export const COMMAND_TABLE: readonly CommandSpec[] = [
  // Connection
  { name: 'ping', arity: -1, flags: ['fast', 'stale', 'loading'], ...noKeys, group: 'connection', since: '1.0.0', summary: 'Returns PONG, or the message given.', arguments: [{ name: 'message', type: 'string', optional: true }] },
  { name: 'echo', arity: 2, flags: ['fast', 'stale', 'loading'], ...noKeys, group: 'connection', since: '1.0.0', summary: 'Returns the message given.', arguments: [{ name: 'message', type: 'string' }] },
  { name: 'quit', arity: -1, flags: ['no_auth', 'fast', 'stale', 'loading', 'allow_busy'], ...noKeys, group: 'connection', since: '1.0.0', summary: 'Closes the connection once the reply is sent.', arguments: [] },
  { name: 'select', arity: 2, flags: ['fast', 'stale', 'loading'], ...noKeys, group: 'connection', since: '1.0.0', summary: 'Selects database 0, the only one kv has; any other index is an error.', arguments: [{ name: 'index', type: 'integer' }] },
  {
    name: 'auth', arity: -2, flags: ['no_auth', 'fast', 'stale', 'loading', 'noscript'], ...noKeys, group: 'connection', since: '1.0.0',
    summary: "Authenticates the connection with the proxy's AUTH_TOKEN (a username, if given, must be 'default').",
    arguments: [{ name: 'username', type: 'string', optional: true }, { name: 'password', type: 'string' }],
  },
  {
    name: 'hello', arity: -1, flags: ['no_auth', 'fast', 'stale', 'loading', 'noscript'], ...noKeys, group: 'connection', since: '6.0.0',
    summary: 'Chooses the protocol version (2 or 3), optionally authenticates and names the connection; returns the server properties.',
    arguments: [
      {
        name: 'arguments', type: 'block', optional: true,
        arguments: [
          { name: 'protover', type: 'integer' },
          { name: 'username-password', type: 'block', token: 'AUTH', optional: true, arguments: [{ name: 'username', type: 'string' }, { name: 'password', type: 'string' }] },
          { name: 'clientname', type: 'string', token: 'SETNAME', optional: true },
        ],
      },
    ],
  },
  {
    name: 'client', arity: -2, flags: [], ...noKeys, group: 'connection', since: '2.4.0', summary: 'A container for connection commands.', arguments: [],
    subcommands: [
      sub('client', 'setname', 3, 'Names the connection.', [{ name: 'connection-name', type: 'string' }]),
      sub('client', 'getname', 2, "Returns the connection's name, or nil."),
      sub('client', 'id', 2, "Returns the connection's id."),
      sub('client', 'setinfo', 4, 'Accepts the library name and version a client reports (kv does not keep them).', [
        { name: 'attr', type: 'oneof', arguments: [{ name: 'libname', type: 'string', token: 'LIB-NAME' }, { name: 'libver', type: 'string', token: 'LIB-VER' }] },
      ]),
      sub('client', 'kv-quorum', -2, "kv only: sets this connection's write and read quorums (W and R, like ?w= and ?r=); without arguments, shows them; 0 means the cluster's.", [
        { name: 'quorums', type: 'block', optional: true, arguments: [{ name: 'w', type: 'integer' }, { name: 'r', type: 'integer' }] },
      ]),
      sub('client', 'help', 2, 'Lists the CLIENT subcommands.'),
    ],
  },
  // Server
  {
    name: 'command', arity: -1, flags: ['loading', 'stale'], ...noKeys, group: 'server', since: '2.8.13', summary: 'Describes the commands kv answers.', arguments: [],
    subcommands: [
      sub('command', 'docs', -2, 'Documents the commands (all, or those named).', [{ name: 'command-name', type: 'string', optional: true, multiple: true }]),
      sub('command', 'count', 2, 'Returns the number of commands kv answers.'),
      sub('command', 'info', -2, 'Describes the commands named (all, if none).', [{ name: 'command-name', type: 'string', optional: true, multiple: true }]),
      sub('command', 'list', 2, 'Lists the names of the commands kv answers.'),
      sub('command', 'help', 2, 'Lists the COMMAND subcommands.'),
    ],
  },
  { name: 'info', arity: -1, flags: ['loading', 'stale'], ...noKeys, group: 'server', since: '1.0.0', summary: "Returns the proxy's and the cluster's state (server, clients, stats, replication as N/W/R and nodes).", arguments: [{ name: 'section', type: 'string', optional: true, multiple: true }] },
  { name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], ...noKeys, group: 'server', since: '1.0.0', summary: 'Not supported: kv cannot count its keys honestly (replicas may disagree until repaired; an answer would be a guess).', arguments: [] },
  { name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], ...noKeys, group: 'server', since: '2.6.0', summary: "Returns the proxy's clock: seconds and microseconds since the epoch.", arguments: [] },
  // Keys and strings
  { name: 'get', arity: 2, flags: ['readonly', 'fast'], ...oneKey, group: 'string', since: '1.0.0', summary: 'Reads a key with a read quorum (linearizable with R + W > N); nil when it is missing.', arguments: [key] },
  {
    name: 'set', arity: -3, flags: ['write', 'denyoom'], ...oneKey, group: 'string', since: '1.0.0',
    summary: 'Writes a key with a write quorum; EX/PX/EXAT/PXAT make it expire. NX/XX/GET and KEEPTTL need compare-and-set, which kv does not have (an error says so).',
    arguments: [
      key,
      { name: 'value', type: 'string' },
      { name: 'condition', type: 'oneof', optional: true, arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }] },
      { name: 'get', type: 'pure-token', token: 'GET', optional: true },
      {
        name: 'expiration', type: 'oneof', optional: true,
        arguments: [
          { name: 'seconds', type: 'integer', token: 'EX' },
          { name: 'milliseconds', type: 'integer', token: 'PX' },
          { name: 'unix-time-seconds', type: 'unix-time', token: 'EXAT' },
          { name: 'unix-time-milliseconds', type: 'unix-time', token: 'PXAT' },
          { name: 'keepttl', type: 'pure-token', token: 'KEEPTTL' },
        ],
      },
    ],
  },
  { name: 'del', arity: -2, flags: ['write'], ...allKeys, group: 'generic', since: '1.0.0', summary: 'Deletes keys; returns how many existed (read first, then deleted: not atomic).', arguments: [keys] },
  { name: 'unlink', arity: -2, flags: ['write', 'fast'], ...allKeys, group: 'generic', since: '4.0.0', summary: 'Same as DEL.', arguments: [keys] },
  { name: 'exists', arity: -2, flags: ['readonly', 'fast'], ...allKeys, group: 'generic', since: '1.0.0', summary: 'Counts the keys given that exist (a key given twice counts twice).', arguments: [keys] },
  { name: 'mget', arity: -2, flags: ['readonly', 'fast'], ...allKeys, group: 'string', since: '1.0.0', summary: 'Reads many keys, each with its own read quorum; fails whole if any read fails.', arguments: [keys] },
  {
    name: 'mset', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, step: 2, group: 'string', since: '1.0.1',
    summary: 'Writes many keys, each with its own write quorum. NOT atomic: after an error some keys may be written.',
    arguments: [{ name: 'data', type: 'block', multiple: true, arguments: [key, { name: 'value', type: 'string' }] }],
  },
  { name: 'strlen', arity: 2, flags: ['readonly', 'fast'], ...oneKey, group: 'string', since: '2.2.0', summary: "Returns the length in bytes of a key's value (0 when missing).", arguments: [key] },
  { name: 'setex', arity: 4, flags: ['write', 'denyoom'], ...oneKey, group: 'string', since: '2.0.0', summary: 'Writes a key that expires in seconds (SET key value EX seconds).', arguments: [key, { name: 'seconds', type: 'integer' }, { name: 'value', type: 'string' }] },
  { name: 'psetex', arity: 4, flags: ['write', 'denyoom'], ...oneKey, group: 'string', since: '2.6.0', summary: 'Writes a key that expires in milliseconds (SET key value PX milliseconds).', arguments: [key, { name: 'milliseconds', type: 'integer' }, { name: 'value', type: 'string' }] },
  { name: 'ttl', arity: 2, flags: ['readonly', 'fast'], ...oneKey, group: 'generic', since: '1.0.0', summary: 'Seconds until a key expires (-1: never, -2: missing).', arguments: [key] },
  { name: 'pttl', arity: 2, flags: ['readonly', 'fast'], ...oneKey, group: 'generic', since: '2.6.0', summary: 'Milliseconds until a key expires (-1: never, -2: missing).', arguments: [key] },
  { name: 'expire', arity: -3, flags: ['write', 'fast'], ...oneKey, group: 'generic', since: '1.0.0', summary: 'Sets a key to expire in seconds; needs compare-and-set, which kv does not have (refused: SET the value again with EX).', arguments: [key, { name: 'seconds', type: 'integer' }] },
  { name: 'pexpire', arity: -3, flags: ['write', 'fast'], ...oneKey, group: 'generic', since: '2.6.0', summary: 'Sets a key to expire in milliseconds; needs compare-and-set, which kv does not have (refused: SET the value again with PX).', arguments: [key, { name: 'milliseconds', type: 'integer' }] },
  { name: 'persist', arity: 2, flags: ['write', 'fast'], ...oneKey, group: 'generic', since: '2.2.0', summary: "Removes a key's expiry; needs compare-and-set, which kv does not have (refused: SET the value again without expiry).", arguments: [key] },
];

const BY_NAME: ReadonlyMap<string, CommandSpec> = new Map(COMMAND_TABLE.map((spec) => [spec.name, spec]));

/** The spec of a command by its name in any case, or undefined. */
export function commandSpec(name: string): CommandSpec | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** The spec of a subcommand (`client`, `setname`) in any case, or undefined. */
export function subcommandSpec(container: CommandSpec, sub: string): CommandSpec | undefined {
  const full = `${container.name}|${sub.toLowerCase()}`;
  return container.subcommands?.find((s) => s.name === full);
}

/** True when `argc` arguments (the name included) fit the arity of `spec`. */
export function arityAllows(spec: CommandSpec, argc: number): boolean {
  return spec.arity >= 0 ? argc === spec.arity : argc >= -spec.arity;
}
