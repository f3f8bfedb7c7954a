import type { ClusterChangeStarted, KvClient } from '@kv/protocol';
import type { Argv } from 'yargs';
import { checkChange, checkNodeId, MembershipChange, parseNodeSpec } from '../cluster-args';
import { changeProgress, formatClusterStatus, formatMembers, formatPlan, formatStarted, isChangeDone } from '../cluster-format';
import { waitForChange } from '../cluster-wait';
import type { CliCommand, CommandContext } from '../command';
import { ExitCode } from '../exit-codes';
import { createClient, GlobalArgs } from '../global-options';
import { integerIn, positiveNumberUpTo } from '../option-values';
import { describeFailure } from '../output';
import { createProgress } from '../progress';
import { UsageError } from '../usage-error';

/**
 * Default `--wait-timeout`, in seconds: a change streams at the proxy's `STREAM_BYTES_PER_S` (8 MiB/s by default), so
 * 10 minutes moves about 4.7 GiB; a larger cluster is given a longer wait on purpose.
 */
export const WAIT_TIMEOUT_S_DEFAULT = 600;
/** Longest `--wait-timeout`, in seconds: one week. */
export const WAIT_TIMEOUT_S_MAX = 604_800;
/** Default `--poll-interval`, in ms: the bar moves smoothly, and two small requests a second cost the proxy nothing. */
export const POLL_INTERVAL_MS_DEFAULT = 500;
/** Shortest `--poll-interval`, in ms: polling faster only loads the proxy. */
export const POLL_INTERVAL_MS_MIN = 10;
/** Longest `--poll-interval`, in ms. */
export const POLL_INTERVAL_MS_MAX = 60_000;
/** Least time between two plain progress lines when stderr is not a terminal, in ms (a new phase is shown at once). */
const PLAIN_PROGRESS_INTERVAL_MS = 5_000;
/** Steps of the progress display: a change's progress is a fraction, shown to 0.1 %. */
const PROGRESS_STEPS = 1000;

const FOLLOW_HINT = "follow it with 'kv cluster status'";

/** The options of `kv cluster add | remove | replace`. */
export interface ChangeArgs {
  'dry-run': boolean;
  wait: boolean;
  /** Seconds; undefined for {@link WAIT_TIMEOUT_S_DEFAULT}. */
  'wait-timeout': number | undefined;
  /** Milliseconds; undefined for {@link POLL_INTERVAL_MS_DEFAULT}. */
  'poll-interval': number | undefined;
}

/** Arguments of `kv cluster add`: the nodes, `<id>=<url>` each, are read with {@link operands}. */
export type ClusterAddArgs = ChangeArgs;

/** Arguments of `kv cluster remove`: the ids are read with {@link operands}. */
export type ClusterRemoveArgs = ChangeArgs;

/** Arguments of `kv cluster replace`. */
export interface ClusterReplaceArgs extends ChangeArgs {
  /** Id of the member to remove. */
  old: string;
  /** `<id>=<url>` of the node to add in its place. */
  node: string;
}

function withChangeOptions<A>(y: Argv<GlobalArgs & A>): Argv<GlobalArgs & A & ChangeArgs> {
  return (
    y
      .option('dry-run', {
        type: 'boolean',
        describe: 'only print the plan: the ranges that would move, from whom to whom, with estimated keys and bytes',
        default: false,
      })
      .option('wait', {
        type: 'boolean',
        describe: 'wait until the change is done, with its progress on stderr (not with --dry-run)',
        default: false,
      })
      .option('wait-timeout', {
        type: 'number',
        describe: `with --wait: give up waiting after this many seconds (default ${WAIT_TIMEOUT_S_DEFAULT}); the change goes on`,
        requiresArg: true,
        coerce: positiveNumberUpTo('--wait-timeout', WAIT_TIMEOUT_S_MAX),
      })
      .option('poll-interval', {
        type: 'number',
        describe: `with --wait: ms between two polls of GET /cluster (default ${POLL_INTERVAL_MS_DEFAULT})`,
        requiresArg: true,
        coerce: integerIn('--poll-interval', POLL_INTERVAL_MS_MIN, POLL_INTERVAL_MS_MAX),
      })
  );
}

/**
 * Lets a subcommand take any number of words after it, read with {@link operands}. A variadic positional (`add
 * [nodes..]`) would keep only the last word: yargs passes it through the parser again as a repeated option, and the CLI
 * keeps the last value of a repeated option. Unknown options are still refused.
 */
function operandsAllowed(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y.strict(false).strictOptions();
}

/** The words after `kv cluster <subcommand>` (see {@link operandsAllowed}). */
function operands(args: GlobalArgs): string[] {
  const words = (args as GlobalArgs & { _?: unknown[] })._ ?? [];
  return words.slice(2).map(String);
}

/**
 * `kv cluster add <id>=<url>...`: adds data nodes (already running, each with its `NODE_ID`) in one change.
 */
export const clusterAddCommand: CliCommand<ClusterAddArgs> = {
  command: 'add',
  describe: 'add data nodes (<id>=<url>...): plan with --dry-run, follow with --wait',
  builder: (y) =>
    withChangeOptions(
      operandsAllowed(y).usage(
        '$0 cluster add <id>=<url>... [--dry-run | --wait]\n\nAdds running data nodes to the cluster in one change. Each is <id>=<url>: its NODE_ID and the URL the proxies reach it at.',
      ),
    )
      .example('$0 cluster add node4=http://10.0.0.4:8001 --dry-run', 'prints the plan; nothing changes')
      .example('$0 cluster add node4=http://10.0.0.4:8001 --wait', 'adds node4 and shows the progress until it is done')
      .example('$0 cluster add node4=http://10.0.0.4:8001 node5=http://10.0.0.5:8001', 'adds two nodes in one change')
      .example('$0 --json cluster add node4=http://10.0.0.4:8001', 'prints {"dryRun":false,"epoch":2,"change":"..."}'),
  run: async (args, context) =>
    runChange(args, context, 'add', () => ({ add: operands(args).map(parseNodeSpec), remove: [] }), 'nothing to add: name each node as <id>=<url>'),
};

/** `kv cluster remove <id>...`: removes members in one change; their ranges are streamed to the others first. */
export const clusterRemoveCommand: CliCommand<ClusterRemoveArgs> = {
  command: 'remove',
  describe: 'remove members (<id>...): plan with --dry-run, follow with --wait',
  builder: (y) =>
    withChangeOptions(
      operandsAllowed(y).usage(
        '$0 cluster remove <id>... [--dry-run | --wait]\n\nRemoves members, named by their ids, from the cluster in one change; their data moves to the others first.',
      ),
    )
      .example('$0 cluster remove node1 --dry-run', 'prints the plan; nothing changes')
      .example('$0 cluster remove node1 --wait', 'removes node1; stop it once this exits 0')
      .example('$0 cluster remove node1 --wait --wait-timeout 3600', 'waits up to an hour'),
  run: async (args, context) =>
    runChange(args, context, 'remove', () => ({ add: [], remove: operands(args).map(checkNodeId) }), 'nothing to remove: name each member by its id'),
};

/** `kv cluster replace <old> <id>=<url>`: adds a node and removes a member in one change. */
export const clusterReplaceCommand: CliCommand<ClusterReplaceArgs> = {
  command: 'replace <old> <node>',
  describe: 'replace a member by a new node, in one change',
  builder: (y) =>
    withChangeOptions(
      y
        .usage('$0 cluster replace <old> <id>=<url> [--dry-run | --wait]\n\nAdds a node and removes a member in one change: the new node takes over the data.')
        .positional('old', { type: 'string', describe: 'the id of the member to remove', demandOption: true })
        .positional('node', { type: 'string', describe: 'the node to add, as <id>=<url>', demandOption: true }),
    )
      .example('$0 cluster replace node2 node5=http://10.0.0.5:8001 --dry-run', 'prints the plan; nothing changes')
      .example('$0 cluster replace node2 node5=http://10.0.0.5:8001 --wait', 'node5 takes over; stop node2 once this exits 0'),
  run: async (args, context) =>
    runChange(args, context, 'replace', () => {
      const old = checkNodeId(args.old);
      const node = parseNodeSpec(args.node);
      if (node.id === old) throw new UsageError(`cannot replace ${old} by itself: give the new node another id`);
      return { add: [node], remove: [old] };
    }),
};

/** `kv cluster status` takes no arguments of its own. */
export type ClusterStatusArgs = Record<never, never>;

/** `kv cluster status`: members, epoch and the change in progress, as the proxy sees them (`GET /cluster`). */
export const clusterStatusCommand: CliCommand<ClusterStatusArgs> = {
  command: 'status',
  describe: 'show the members, the epoch and the change in progress',
  builder: (y) =>
    y
      .usage('$0 cluster status\n\nShows the members, their states, the epoch of the cluster map and the change in progress.')
      .example('$0 cluster status', 'members, epoch, change and its progress')
      .example('$0 --json cluster status', 'the answer of GET /cluster'),
  run: async (args, { out }) => {
    const client = createClient(args);
    try {
      const cluster = await client.cluster();
      out.result(cluster, (answer) => formatClusterStatus(client.url, answer));
      return ExitCode.Ok;
    } catch (err) {
      out.failure(err, { server: client.url });
      return ExitCode.Failure;
    } finally {
      client.close();
    }
  },
};

/** `kv cluster <command>`: the group; yargs runs one of its subcommands. */
export const clusterCommand: CliCommand<Record<never, never>> = {
  command: 'cluster',
  describe: "change the cluster's members (add, remove, replace) and follow the change (status)",
  builder: (y, subcommand) => {
    let group = y
      .usage(
        '$0 cluster <command>\n\nMembership changes at run time: each runs in the background, in three epochs (copy, read-new, done), while the cluster serves.',
      )
      .demandCommand(1, 'a cluster command is required: add, remove, replace or status');
    group = subcommand(group, clusterAddCommand);
    group = subcommand(group, clusterRemoveCommand);
    group = subcommand(group, clusterReplaceCommand);
    group = subcommand(group, clusterStatusCommand);
    return group
      .example('$0 cluster status', 'members, epoch and the change in progress')
      .example('$0 cluster add node4=http://10.0.0.4:8001 --wait', 'adds a node and waits until it is done');
  },
  // yargs demands a subcommand, whose own run is called instead.
  run: async () => {
    throw new UsageError('a cluster command is required: add, remove, replace or status');
  },
};

/**
 * Checks the arguments (`parse`, then the whole change) before anything is sent, then plans (`--dry-run`) or starts the
 * change, and with `--wait` follows it to its end. Every failure of a request exits 3: a refusal (`KV_CHANGE_REFUSED`,
 * `KV_CHANGE_IN_PROGRESS`, ...), an unreachable proxy, a wait that timed out or lost the proxy.
 */
async function runChange(
  args: GlobalArgs & ChangeArgs,
  { io, out }: CommandContext,
  label: string,
  parse: () => MembershipChange,
  nothing?: string,
): Promise<ExitCode> {
  // Checked here, not with yargs' conflicts and implies, which count a boolean's default as given.
  if (args['dry-run'] && args.wait) throw new UsageError('--dry-run and --wait do not go together: a dry run changes nothing');
  for (const option of ['wait-timeout', 'poll-interval'] as const) {
    // Without --wait it would do nothing: say so rather than ignore it.
    if (args[option] !== undefined && !args.wait) throw new UsageError(`--${option} needs --wait`);
  }
  const change = parse();
  if (nothing !== undefined && change.add.length + change.remove.length === 0) throw new UsageError(nothing);
  checkChange(change);
  const request = { add: change.add.map(({ id, url }) => ({ id, url })), remove: [...change.remove] };
  const client = createClient(args);
  try {
    if (args['dry-run']) {
      const plan = await client.changeCluster({ ...request, dryRun: true });
      out.result(plan, (answer) => formatPlan(change, answer));
      return ExitCode.Ok;
    }
    const started = await client.changeCluster(request);
    out.result(started, (answer) => formatStarted(change, answer));
    if (!args.wait) {
      if (!out.json) out.message(`the change runs in the background: ${FOLLOW_HINT}, or use --wait`);
      return ExitCode.Ok;
    }
    return await follow(args, { io, out }, client, started, label);
  } catch (err) {
    // Never 1 (the code of a missing key): a proxy without this route answers KV_NOT_FOUND too.
    out.failure(err, { server: client.url, write: !args['dry-run'] });
    return ExitCode.Failure;
  } finally {
    client.close();
  }
}

/** `--wait`: polls `GET /cluster` until the change is done, showing its progress on stderr. */
async function follow(
  args: GlobalArgs & ChangeArgs,
  { io, out }: CommandContext,
  client: KvClient,
  started: ClusterChangeStarted,
  label: string,
): Promise<ExitCode> {
  const timeoutS = args['wait-timeout'] ?? WAIT_TIMEOUT_S_DEFAULT;
  const progress = createProgress(io, { label: `cluster ${label}`, total: PROGRESS_STEPS, plainIntervalMs: PLAIN_PROGRESS_INTERVAL_MS });
  // The bar never moves back, e.g. when another proxy takes over the streaming and this one no longer knows its progress.
  let steps = 0;
  let phase = '';
  let detail = 'starting';
  const outcome = await waitForChange({
    started,
    poll: () => client.cluster(),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    timeoutMs: timeoutS * 1000,
    intervalMs: args['poll-interval'] ?? POLL_INTERVAL_MS_DEFAULT,
    onAnswer: (cluster) => {
      const view = changeProgress(cluster, started);
      const done = isChangeDone(cluster, started);
      steps = done ? PROGRESS_STEPS : Math.max(steps, Math.min(PROGRESS_STEPS - 1, Math.floor(view.fraction * PROGRESS_STEPS)));
      detail = view.detail;
      progress.update(steps, detail, view.phase !== phase);
      phase = view.phase;
    },
    onPollFailure: (error, inARow) => {
      progress.update(steps, `${detail} | poll failed (${inARow} in a row): ${describeFailure(error, { server: client.url })}`, true);
    },
  });
  progress.stop();
  if (outcome.outcome === 'done') {
    out.result(outcome.cluster, (cluster) => `change ${started.change} done: ${formatMembers(cluster)}`);
    return ExitCode.Ok;
  }
  if (outcome.outcome === 'failed') {
    out.failure(outcome.error, { server: client.url });
    out.message(`stopped waiting for change ${started.change}; it goes on in the background: ${FOLLOW_HINT}`);
    return ExitCode.Failure;
  }
  out.message(`change ${started.change} is not done after ${timeoutS} s (${detail}); it goes on in the background: ${FOLLOW_HINT}`);
  return ExitCode.Failure;
}
