import { COMMAND_TABLE, arityAllows, commandSpec, subcommandSpec, type ArgumentDoc, type CommandSpec } from '../command-table';
import { kvError, unknownSubcommand, wrongArity } from '../errors';
import { reply, type Reply } from '../reply';
import { REDIS_COMPATIBLE_VERSION } from './connection-commands';
import { word, type CommandContext, type CommandHandler } from './command-context';

/** `COMMAND` / `COMMAND INFO` entry, as Redis 7 sends it (10 elements; tips and key specs empty). */
function commandInfo(spec: CommandSpec): Reply {
  return reply.array([
    reply.bulk(spec.name),
    reply.integer(spec.arity),
    reply.set(spec.flags.map((flag) => reply.simple(flag))),
    reply.integer(spec.firstKey),
    reply.integer(spec.lastKey),
    reply.integer(spec.step),
    reply.set([reply.simple(`@${spec.group}`)]),
    reply.array([]),
    reply.array([]),
    reply.array((spec.subcommands ?? []).map(commandInfo)),
  ]);
}

function argumentDoc(arg: ArgumentDoc): Reply {
  const fields: Record<string, Reply> = {
    name: reply.bulk(arg.name),
    type: reply.bulk(arg.type),
  };
  if (arg.token !== undefined) fields.token = reply.bulk(arg.token);
  const flags: Reply[] = [];
  if (arg.optional === true) flags.push(reply.simple('optional'));
  if (arg.multiple === true) flags.push(reply.simple('multiple'));
  if (flags.length > 0) fields.flags = reply.array(flags);
  if (arg.arguments !== undefined) fields.arguments = reply.array(arg.arguments.map(argumentDoc));
  return reply.fields(fields);
}

/** `COMMAND DOCS` entry: summary, since, group, arguments and subcommands (what redis-cli builds its hints from). */
function commandDocs(spec: CommandSpec): Reply {
  const fields: Record<string, Reply> = {
    summary: reply.bulk(spec.summary),
    since: reply.bulk(spec.since),
    group: reply.bulk(spec.group),
    arguments: reply.array(spec.arguments.map(argumentDoc)),
  };
  if (spec.subcommands !== undefined) {
    fields.subcommands = reply.map(spec.subcommands.map((s) => [reply.bulk(s.name), commandDocs(s)] as const));
  }
  return reply.fields(fields);
}

const COMMAND_HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all commands kv answers.',
  'COUNT',
  '    Return the number of commands kv answers.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about the commands named, or all.',
  'INFO [<command-name> ...]',
  '    Return details about the commands named, or all.',
  'LIST',
  '    Return the names of the commands kv answers.',
  'HELP',
  '    Print this help.',
];

const command: CommandHandler = (_ctx, args) => {
  if (args.length === 1) return reply.array(COMMAND_TABLE.map(commandInfo));
  const container = commandSpec('command') as CommandSpec;
  const spec = subcommandSpec(container, args[1].toString('latin1'));
  if (spec === undefined) return unknownSubcommand('command', args[1]);
  if (!arityAllows(spec, args.length)) return wrongArity(spec.name);
  const named = args.slice(2).map((arg) => commandSpec(arg.toString('latin1')));
  switch (spec.name) {
    case 'command|count':
      return reply.integer(COMMAND_TABLE.length);
    case 'command|list':
      return reply.array(COMMAND_TABLE.map((s) => reply.bulk(s.name)));
    case 'command|info':
      return reply.array(args.length === 2 ? COMMAND_TABLE.map(commandInfo) : named.map((s) => (s === undefined ? reply.nil : commandInfo(s))));
    case 'command|docs': {
      const specs = args.length === 2 ? COMMAND_TABLE : named.filter((s): s is CommandSpec => s !== undefined);
      return reply.map(specs.map((s) => [reply.bulk(s.name), commandDocs(s)] as const));
    }
    default:
      return reply.array(COMMAND_HELP.map((line) => reply.simple(line)));
  }
};

/** The sections of `INFO`, in order; `INFO` alone, `default`, `all` and `everything` give them all. */
const INFO_SECTIONS = ['server', 'clients', 'stats', 'replication'] as const;

function infoText(ctx: CommandContext, sections: readonly string[]): string {
  const stats = ctx.stats();
  const cluster = ctx.backend.info();
  const now = ctx.backend.now();
  const uptimeS = Math.max(0, Math.floor((now - stats.startedAtMs) / 1000));
  const blocks: string[] = [];
  for (const section of sections) {
    const lines: string[] = [];
    switch (section) {
      case 'server':
        lines.push(
          '# Server',
          `redis_version:${REDIS_COMPATIBLE_VERSION}`,
          `kv_version:${cluster.version}`,
          'redis_mode:standalone',
          'arch_bits:64',
          `proxy_id:${cluster.proxyId}`,
          `tcp_port:${stats.port}`,
          'resp_protocols:2,3',
          `uptime_in_seconds:${uptimeS}`,
          `uptime_in_days:${Math.floor(uptimeS / 86400)}`,
        );
        break;
      case 'clients':
        lines.push('# Clients', `connected_clients:${stats.connectedClients}`, `maxclients:${stats.connectionsMax}`);
        break;
      case 'stats':
        lines.push(
          '# Stats',
          `total_connections_received:${stats.totalConnections}`,
          `total_commands_processed:${ctx.counters.commandsProcessed}`,
          `rejected_connections:${stats.rejectedConnections}`,
          `keyspace_hits:${ctx.counters.keyspaceHits}`,
          `keyspace_misses:${ctx.counters.keyspaceMisses}`,
        );
        break;
      case 'replication': {
        const up = cluster.nodes.filter((node) => node.status === 'up').length;
        lines.push(
          '# Replication',
          'role:master',
          'connected_slaves:0',
          `kv_replicas:${cluster.replicas}`,
          `kv_write_quorum:${cluster.writeQuorum}`,
          `kv_read_quorum:${cluster.readQuorum}`,
          `kv_nodes:${cluster.nodes.length}`,
          `kv_nodes_up:${up}`,
          ...cluster.nodes.map((node, i) => `kv_node${i}:id=${node.id},status=${node.status}`),
          'kv_multi_key_atomic:0',
          'kv_note:MSET DEL EXISTS and MGET are not atomic across keys: each key is read or written with its own quorum',
        );
        break;
      }
    }
    if (lines.length > 0) blocks.push(lines.map((l) => `${l}\r\n`).join(''));
  }
  return blocks.join('\r\n');
}

const info: CommandHandler = (ctx, args) => {
  let sections: string[] = [...INFO_SECTIONS];
  const asked = args.slice(1).map(word);
  if (asked.length > 0 && !asked.some((s) => s === 'all' || s === 'everything' || s === 'default')) {
    sections = INFO_SECTIONS.filter((s) => asked.includes(s));
  }
  return reply.verbatim(infoText(ctx, sections));
};

const dbsize: CommandHandler = () =>
  kvError(
    'DBSIZE is not supported: the proxy cannot count keys without reading every replica, and replicas may disagree until repaired, so any number would be a guess',
  );

const time: CommandHandler = (ctx) => {
  const nowMs = ctx.backend.now();
  const seconds = Math.floor(nowMs / 1000);
  const micros = Math.floor((nowMs - seconds * 1000) * 1000);
  return reply.array([reply.bulk(String(seconds)), reply.bulk(String(micros))]);
};

/** The server commands: COMMAND, INFO, DBSIZE, TIME. */
export const SERVER_COMMANDS: Readonly<Record<string, CommandHandler>> = { command, info, dbsize, time };
