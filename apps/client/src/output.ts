import { ErrorCode, errorBody, isKvError, isOutcomeUnknown, proxyErrorsOf } from '@kv/protocol';
import type { KvError } from '@kv/protocol';
import type { CliIo } from './io';

/** The prefix of every message `kv` writes to stderr, so it stands out among other programs' output in a pipeline. */
export const MESSAGE_PREFIX = 'kv: ';

/** What the failed request did, which decides how its failure is described. */
export interface FailureContext {
  /**
   * The server the request went to, named in the message; a client's error that names the proxy it came from (see
   * `proxyErrorsOf`) names that one instead.
   */
  server: string;
  /**
   * True for a write (`set`, `del`, a batch with writes): a quorum failure or a server bug then leaves the outcome unknown.
   */
  write?: boolean;
}

/**
 * Where and how a command reports: results on stdout, as plain text or (with `--json`) as JSON, one document per line;
 * messages on stderr, each on one line starting with `kv: `.
 */
export class Output {
  constructor(
    private readonly io: CliIo,
    /** True with `--json`: results are the server's JSON answers. */
    readonly json: boolean,
  ) {}

  /** Writes `text` and a newline to stdout. */
  line(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** Writes `body` as one line of compact JSON to stdout. */
  jsonLine(body: unknown): void {
    this.io.stdout.write(`${JSON.stringify(body)}\n`);
  }

  /**
   * Writes a result: with `--json` the server's answer `body`; otherwise the lines of `plain(body)` (nothing when it gives
   * `undefined`).
   */
  result<T>(body: T, plain: (body: T) => string | undefined): void {
    if (this.json) {
      this.jsonLine(body);
      return;
    }
    const text = plain(body);
    if (text !== undefined) this.line(text);
  }

  /** Writes `kv: <message>` to stderr. */
  message(message: string): void {
    this.io.stderr.write(`${MESSAGE_PREFIX}${message}\n`);
  }

  /**
   * Reports a failed request: on stderr, a message naming the server and the reason (see {@link describeFailure}); with
   * `--json`, also the error body on stdout when there is one (every failure but `KV_UNAVAILABLE`, where no server
   * answered), so a script reading stdout always gets JSON.
   * @param message replaces the description on stderr (e.g. to name the key that was not found).
   */
  failure(err: unknown, context: FailureContext, message = describeFailure(err, context)): void {
    if (this.json && isKvError(err) && err.code !== ErrorCode.Unavailable) this.jsonLine(errorBody(err));
    this.message(message);
  }
}

/** Added, once, to the description of a write that may have been carried out. */
export const OUTCOME_UNKNOWN_NOTE = '; the outcome is unknown';

/**
 * The one-line description of a failed request, without the `kv: ` prefix:
 * - `cannot reach http://localhost:8000: connect ECONNREFUSED 127.0.0.1:8000` (`KV_UNAVAILABLE`: its message already
 *   names the server, or with several proxies each of them);
 * - `http://localhost:8000: KV_QUORUM_FAILED: write quorum not reached: 1 of 2 replicas acknowledged; the outcome is
 *   unknown` (a server's error answer: the server that gave it, code, message);
 * - for a write that may have been carried out (`isOutcomeUnknown`, or a write's quorum failure or server bug) the
 *   description ends with {@link OUTCOME_UNKNOWN_NOTE}: `http://localhost:8000 did not answer within 5000 ms; the outcome
 *   is unknown`.
 */
export function describeFailure(err: unknown, context: FailureContext): string {
  if (!isKvError(err)) return `${context.server}: ${err instanceof Error ? err.message : String(err)}`;
  const note = isOutcomeUnknown(err) || (context.write === true && isUndecidedWrite(err)) ? OUTCOME_UNKNOWN_NOTE : '';
  if (err.code === ErrorCode.Unavailable) return `${err.message}${note}`;
  const server = proxyErrorsOf(err).find((attempt) => attempt.error === err)?.url ?? context.server;
  return `${server}: ${err.code}: ${err.message}${note}`;
}

// docs/errors.md: after a quorum failure or a server bug a write may still have reached some replicas. The client marks
// these itself; this covers errors that did not come through it.
function isUndecidedWrite(err: KvError): boolean {
  return err.code === ErrorCode.QuorumFailed || err.code === ErrorCode.Internal;
}
