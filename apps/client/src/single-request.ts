import { ErrorCode, isKvError, KvClient } from '@kv/protocol';
import { ExitCode, exitCodeOf } from './exit-codes';
import { createClient, GlobalArgs } from './global-options';
import type { Output } from './output';

/** How {@link runSingleRequest} reports. */
export interface SingleRequestOptions<T> {
  /** True when the request writes: a quorum failure then leaves the outcome unknown, and the message says so. */
  write: boolean;
  /** The plain-text result (without `--json`); `undefined` prints nothing. */
  plain(answer: T): string | undefined;
  /** The message for `KV_NOT_FOUND`, instead of the server's (e.g. naming the key). */
  notFound?: string;
}

/**
 * Sends one request to the proxy named by the global options and reports its outcome: the answer on stdout (plain or
 * `--json`), or the failure on stderr (and its error body on stdout with `--json`).
 * @returns 0 on success, 1 for `KV_NOT_FOUND`, 3 for any other failure.
 * @throws UsageError for a bad `--server` or `--token` (nothing is sent).
 */
export async function runSingleRequest<T>(
  args: GlobalArgs,
  out: Output,
  send: (client: KvClient) => Promise<T>,
  options: SingleRequestOptions<T>,
): Promise<ExitCode> {
  const client = createClient(args);
  try {
    const answer = await send(client);
    out.result(answer, options.plain);
    return ExitCode.Ok;
  } catch (err) {
    const isNotFound = options.notFound !== undefined && isKvError(err, ErrorCode.NotFound);
    out.failure(err, { server: client.url, write: options.write }, isNotFound ? options.notFound : undefined);
    return exitCodeOf(err);
  } finally {
    client.close();
  }
}
