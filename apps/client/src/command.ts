import type { Argv } from 'yargs';
import type { ExitCode } from './exit-codes';
import type { GlobalArgs } from './global-options';
import type { CliIo } from './io';
import type { Output } from './output';

/** What a command runs with besides its arguments. */
export interface CommandContext {
  /** The process's streams and environment (injected in tests). */
  readonly io: CliIo;
  /** Where results and messages go, plain or `--json`. */
  readonly out: Output;
}

/**
 * One `kv` command: its yargs declaration and what it does. `run` never throws for an expected outcome; it reports on
 * `context.out` and returns the exit code. It may throw a `UsageError` (exit 2), and anything else is a bug.
 */
export interface CliCommand<A> {
  /** The yargs command string, e.g. `set <key> <value>`, with aliases after it. */
  readonly command: string | readonly string[];
  /** One line for `kv --help`. */
  readonly describe: string;
  /**
   * Declares the command's positionals, options and examples; a command group (`cluster <command>`) declares its
   * subcommands with `subcommand`, and its own `run` is then never called.
   */
  builder(y: Argv<GlobalArgs>, subcommand: DeclareSubcommand): Argv<GlobalArgs & A>;
  /** Runs the command with its parsed arguments. */
  run(args: GlobalArgs & A, context: CommandContext): Promise<ExitCode>;
}

/** Declares `command` as a subcommand on the parser `y` of a command group; returns the parser. */
export type DeclareSubcommand = <S>(y: Argv<GlobalArgs>, command: CliCommand<S>) => Argv<GlobalArgs>;
