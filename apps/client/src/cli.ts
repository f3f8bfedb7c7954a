import type { Argv } from 'yargs';
import createYargs from 'yargs/yargs';
import { prepareArgv, PreparedArgv, restoreArgs } from './argv';
import type { CliCommand, CommandContext } from './command';
import { batchCommand } from './commands/batch';
import { benchCommand } from './commands/bench';
import { clusterCommand } from './commands/cluster';
import { repairCommand } from './commands/repair';
import { delCommand } from './commands/del';
import { getCommand } from './commands/get';
import { setCommand } from './commands/set';
import { statusCommand } from './commands/status';
import { ExitCode } from './exit-codes';
import { addGlobalOptions, GlobalArgs } from './global-options';
import type { CliIo } from './io';
import { MESSAGE_PREFIX, Output } from './output';
import { isUsageError } from './usage-error';
import { CLIENT_VERSION } from './version';

/** Widest help text, in columns: long lines are hard to read even on a wide terminal. */
const HELP_WIDTH_MAX = 100;

const DESCRIPTION = 'The command-line client of kv, a distributed key-value store.';

const EPILOG = `Environment:
  KV_SERVER  the default of --server: one URL, or several separated by commas
  KV_TOKEN   the default of --token

Exit codes:
  0  success
  1  key not found
  2  usage error (unknown command or option, missing argument, bad value, invalid key or input)
  3  server error, quorum failure, or server unreachable (the message names the server and the reason)

Several proxies: --server http://a:8000,http://b:8000. A request goes to the next
proxy when one cannot be reached; a write is resent only when it never reached the
proxy, and a failed write that may have been applied says "the outcome is unknown".

The one-dash forms of the Go client work too: kv -server http://localhost:8000 get mykey`;

/**
 * Runs the `kv` command line `argv` (the arguments after the program name) with `io`, and resolves with the exit code;
 * it never ends the process. Usage errors (unknown command or option, missing argument, bad option value, invalid key)
 * write the usage message to stderr and resolve with 2; `--help` and `--version` write to stdout and resolve with 0.
 * Requests and their failures resolve with the command's code (see `ExitCode`). Rejects only on a bug.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let prepared: PreparedArgv;
  try {
    prepared = prepareArgv(argv);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    io.stderr.write(`${MESSAGE_PREFIX}${err.message}\n`);
    return ExitCode.Usage;
  }

  let selected: { name: string; execute: () => Promise<ExitCode> } | undefined;
  const parser = buildParser(io, prepared, (name, execute) => {
    selected = { name, execute };
  });
  let failure: Error | undefined;
  let output = '';
  // With a callback yargs hands over what it would print (help, version, usage errors) instead of printing it.
  parser.parse(prepared.args, {}, (err, _args, text) => {
    failure = err ?? undefined;
    output = prepared.restore(text ?? '');
  });
  if (failure !== undefined) {
    // yargs runs the handler even when a check failed afterwards: a usage error always wins.
    io.stderr.write(withNewline(output === '' ? `${MESSAGE_PREFIX}${prepared.restore(failure.message)}` : output));
    return ExitCode.Usage;
  }
  if (selected === undefined) {
    if (output !== '') io.stdout.write(withNewline(output));
    return ExitCode.Ok;
  }
  try {
    return await selected.execute();
  } catch (err) {
    if (!isUsageError(err)) throw err;
    io.stderr.write(`${MESSAGE_PREFIX}${err.message}\nRun 'kv ${selected.name} --help' for usage.\n`);
    return ExitCode.Usage;
  }
}

function buildParser(
  io: CliIo,
  prepared: PreparedArgv,
  select: (name: string, execute: () => Promise<ExitCode>) => void,
): Argv<GlobalArgs> {
  let y = addGlobalOptions(createYargs(), io.env)
    .scriptName('kv')
    .usage(`$0 [--server URL[,URL...]] [--token T] [--json] [--timeout MS] <command>\n\n${DESCRIPTION}`)
    .parserConfiguration({
      // Keys and values are text: "007" and "1e3" must stay as typed.
      'parse-positional-numbers': false,
      // A repeated option keeps its last value, as in most CLIs, instead of becoming an array.
      'duplicate-arguments-array': false,
      'dot-notation': false,
    })
    .strict()
    .demandCommand(1, 'a command is required')
    .recommendCommands()
    .version(CLIENT_VERSION)
    .help()
    .alias('help', 'h')
    .group(['help', 'version'], 'Global options:')
    .epilog(EPILOG)
    .exitProcess(false)
    .wrap(Math.min(HELP_WIDTH_MAX, io.stdout.columns ?? HELP_WIDTH_MAX));
  y = register(y, setCommand, io, prepared, select);
  y = register(y, getCommand, io, prepared, select);
  y = register(y, delCommand, io, prepared, select);
  y = register(y, statusCommand, io, prepared, select);
  y = register(y, benchCommand, io, prepared, select);
  y = register(y, batchCommand, io, prepared, select);
  y = register(y, clusterCommand, io, prepared, select);
  y = register(y, repairCommand, io, prepared, select);
  return y;
}

// Handlers only record what to run: the command runs after parsing, outside yargs, so its failures are never mistaken for
// usage errors and its output is never captured.
function register<A>(
  y: Argv<GlobalArgs>,
  command: CliCommand<A>,
  io: CliIo,
  prepared: PreparedArgv,
  select: (name: string, execute: () => Promise<ExitCode>) => void,
  group = '',
): Argv<GlobalArgs> {
  const name = group + (Array.isArray(command.command) ? command.command[0] : String(command.command)).split(' ')[0];
  const builder = (parser: Argv<GlobalArgs>): Argv<GlobalArgs & A> =>
    command.builder(parser, (sub, subcommand) => register(sub, subcommand, io, prepared, select, `${name} `));
  return y.command(command.command, command.describe, builder, (parsed) => {
    // ArgumentsCamelCase<T> has every key of T (plus camel-case copies), which TypeScript cannot see for a generic T.
    const args = restoreArgs(parsed as unknown as GlobalArgs & A, prepared);
    const context: CommandContext = { io, out: new Output(io, args.json) };
    select(name, () => command.run(args, context));
  });
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
