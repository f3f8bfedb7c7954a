/** What a terminal stream may tell about itself (a `tty.WriteStream` has both). */
export interface TerminalInfo {
  /** True when the stream is a terminal: progress bars are drawn only then. */
  readonly isTTY?: boolean;
  /** Width of the terminal in columns, when it is one. */
  readonly columns?: number;
}

/**
 * Everything `kv` reads from or writes to its process, injectable so the whole CLI runs in-process in tests.
 *
 * Output is written with `write` only; a command never ends the process itself, it returns its exit code.
 */
export interface CliIo {
  /** Results: values, tables, JSON answers. */
  readonly stdout: NodeJS.WritableStream & TerminalInfo;
  /** Errors, usage messages and progress. */
  readonly stderr: NodeJS.WritableStream & TerminalInfo;
  /** Read by `set <key> -` and `batch -`. */
  readonly stdin: NodeJS.ReadableStream;
  /** The environment (`KV_SERVER`, `KV_TOKEN`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Lets a long command (`bench`) handle the first Ctrl-C itself, e.g. to stop and report what it measured. Returns the
   * function that removes the handler. When absent, Ctrl-C keeps its default effect.
   */
  readonly trapInterrupt?: (onInterrupt: () => void) => () => void;
}

/** The {@link CliIo} of the running process. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    trapInterrupt: (onInterrupt) => {
      // After the first Ctrl-C the handler is gone, so a second one ends the process the usual way.
      process.once('SIGINT', onInterrupt);
      return () => process.removeListener('SIGINT', onInterrupt);
    },
  };
}
