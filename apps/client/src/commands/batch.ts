import { BATCH_OPS_MAX, BatchOp, BatchResult, ErrorCode } from '@kv/protocol';
import { entryErrorCode, entryStatus } from '../answer-codes';
import { BATCH_FILE_BYTES_MAX, parseBatchFile } from '../batch-file';
import type { CliCommand, CommandContext } from '../command';
import { ExitCode } from '../exit-codes';
import { createClient, GlobalArgs } from '../global-options';
import { integerIn } from '../option-values';
import type { Output } from '../output';
import { createProgress } from '../progress';
import { ReadQuorumArgs, WriteQuorumArgs, withReadQuorum, withWriteQuorum } from '../quorum-options';
import { readFileOrStdin } from '../read-input';
import { formatTable } from '../table';

/** Arguments of `kv batch`. */
export interface BatchArgs extends WriteQuorumArgs, ReadQuorumArgs {
  /** A JSON Lines file of operations, or `-` for standard input. */
  file: string;
  /** Operations per `POST /batch` request. */
  chunk: number;
}

/**
 * `kv batch <file>`: runs a JSON Lines file of operations through `POST /batch`, in requests of at most `--chunk`
 * operations sent one after another (so a later line always sees the writes of earlier requests). Prints a summary of the
 * operations by status, or with `--json` the server's result of every operation as JSON Lines, in file order.
 *
 * Exit code: 0 when every operation succeeded; 1 when the only failures are gets of missing keys; 3 when any other
 * operation failed or a request failed as a whole (the run stops there); 2 for a file that cannot be read or has a
 * malformed line (nothing is sent).
 */
export const batchCommand: CliCommand<BatchArgs> = {
  command: 'batch <file>',
  describe: 'run a JSON Lines file of operations through POST /batch ("-" reads standard input)',
  builder: (y) =>
    withReadQuorum(
      withWriteQuorum(
        y.positional('file', {
          type: 'string',
          describe: 'one {"op":"set","key":"k","value":"v"}, {"op":"get","key":"k"} or {"op":"del","key":"k"} per line',
          demandOption: true,
        }),
      ),
    )
      .option('chunk', {
        type: 'number',
        describe: `operations per request, 1..${BATCH_OPS_MAX}`,
        default: BATCH_OPS_MAX,
        requiresArg: true,
        coerce: integerIn('--chunk', 1, BATCH_OPS_MAX),
      })
      .example('$0 batch ops.jsonl', 'a summary of the results by status')
      .example('$0 --json batch ops.jsonl > results.jsonl', 'one result per operation, in order')
      .example('generate-ops | $0 batch - --chunk 200', 'operations from standard input, 200 per request'),
  run: runBatch,
};

/** Counts of the operations that ended with one status and code, per operation kind. */
interface Tally {
  status: number;
  code: string;
  set: number;
  get: number;
  del: number;
}

async function runBatch(args: GlobalArgs & BatchArgs, { io, out }: CommandContext): Promise<ExitCode> {
  const ops = parseBatchFile(await readFileOrStdin(args.file, io.stdin, BATCH_FILE_BYTES_MAX), args.file);
  const client = createClient(args);
  const tallies = new Map<string, Tally>();
  let requests = 0;
  let done = 0;
  const progress = createProgress(io, { label: 'batch', total: ops.length });
  try {
    for (let first = 0; first < ops.length; first += args.chunk) {
      const chunk = ops.slice(first, first + args.chunk);
      let results: BatchResult[];
      try {
        results = (await client.batch(chunk, { w: args.w, r: args.r })).results;
      } catch (err) {
        progress.stop();
        if (!out.json) out.line(formatSummary(tallies, done, requests, client.url));
        out.failure(err, { server: client.url, write: chunk.some((op) => op.op !== 'get') });
        out.message(`stopped after ${done} of ${ops.length} operations`);
        return ExitCode.Failure;
      }
      requests += 1;
      results.forEach((result, i) => {
        count(tallies, chunk[i], result);
        if (out.json) out.jsonLine(result);
      });
      done += chunk.length;
      progress.update(done, `${done} of ${ops.length} operations`);
    }
  } finally {
    progress.stop();
    client.close();
  }
  if (!out.json) out.line(formatSummary(tallies, done, requests, client.url));
  return exitCodeOf(tallies, out, client.url);
}

function count(tallies: Map<string, Tally>, op: BatchOp, result: BatchResult): void {
  const status = entryStatus(result);
  const code = status === 200 ? 'ok' : entryErrorCode(result);
  const id = `${status} ${code}`;
  let tally = tallies.get(id);
  if (tally === undefined) {
    tally = { status, code, set: 0, get: 0, del: 0 };
    tallies.set(id, tally);
  }
  tally[op.op] += 1;
}

function exitCodeOf(tallies: Map<string, Tally>, out: Output, server: string): ExitCode {
  const failures = sortedTallies(tallies).filter((t) => t.code !== 'ok');
  const serverFailures = failures.filter((t) => !(t.code === ErrorCode.NotFound && t.set + t.del === 0));
  if (serverFailures.length > 0) {
    const n = serverFailures.reduce((sum, t) => sum + t.set + t.get + t.del, 0);
    const codes = serverFailures.map((t) => `${t.code} ${t.set + t.get + t.del}`).join(', ');
    out.message(`${server}: ${plural(n, 'operation')} failed (${codes})`);
    return ExitCode.Failure;
  }
  return failures.length > 0 ? ExitCode.NotFound : ExitCode.Ok;
}

/**
 * ```
 * 5 operations in 1 request to http://localhost:8000
 * status  code          set  get  del  total
 * 200     ok              2    1    1      4
 * 404     KV_NOT_FOUND    0    1    0      1
 * ```
 */
function formatSummary(tallies: Map<string, Tally>, done: number, requests: number, server: string): string {
  const heading = `${plural(done, 'operation')} in ${plural(requests, 'request')} to ${server}`;
  if (tallies.size === 0) return heading;
  const rows = sortedTallies(tallies).map((t) =>
    [t.status, t.code, t.set, t.get, t.del, t.set + t.get + t.del].map(String),
  );
  const table = formatTable([['status', 'code', 'set', 'get', 'del', 'total'], ...rows], [
    'left',
    'left',
    'right',
    'right',
    'right',
    'right',
  ]);
  return `${heading}\n${table}`;
}

function sortedTallies(tallies: Map<string, Tally>): Tally[] {
  return [...tallies.values()].sort((a, b) => a.status - b.status || a.code.localeCompare(b.code));
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
