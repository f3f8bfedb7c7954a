import { ErrorCode, isKvError } from '@kv/protocol';

/**
 * The exit codes of `kv` (docs/cli.md#exit-codes): scripts branch on them, so they never change meaning.
 */
export const ExitCode = {
  /** The command did what was asked. */
  Ok: 0,
  /** The key has no value (`KV_NOT_FOUND` on `get`; in `batch`, only not-found reads failed). */
  NotFound: 1,
  /** Bad command line: unknown command or option, missing argument, bad value, invalid key or input file. */
  Usage: 2,
  /** The server failed, a quorum was missed, or the server could not be reached. */
  Failure: 3,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code a failed request ends the command with: {@link ExitCode.NotFound} for `KV_NOT_FOUND`,
 * {@link ExitCode.Failure} for every other error (a server error, `KV_QUORUM_FAILED`, `KV_UNAVAILABLE`, or anything that
 * is not a `KvError`). Usage errors never reach the server, so they are not decided here.
 */
export function exitCodeOf(err: unknown): ExitCode {
  return isKvError(err, ErrorCode.NotFound) ? ExitCode.NotFound : ExitCode.Failure;
}
