import { BATCH_OPS_MAX } from '@kv/protocol';
import { randomInt } from 'node:crypto';
import { HttpSender } from '../bench/http-sender';
import { LoadGenerator, LoadSpec } from '../bench/load-generator';
import { OP_MIX_DEFAULT, OpMix, parseMix } from '../bench/op-mix';
import { preloadKeys } from '../bench/preload';
import { benchReport, BenchSettings, formatBenchReport } from '../bench/report';
import type { CliCommand, CommandContext } from '../command';
import { ExitCode } from '../exit-codes';
import { createClient, GlobalArgs, readCacert } from '../global-options';
import { integerIn, positiveNumberUpTo } from '../option-values';
import { createProgress } from '../progress';
import { ReadQuorumArgs, WriteQuorumArgs, withReadQuorum, withWriteQuorum } from '../quorum-options';

/** Length of a run without `--duration` or `--ops`, in seconds: long enough to warm up, short enough to wait for. */
export const BENCH_DURATION_S_DEFAULT = 10;
/** Longest `--duration`, in seconds: one day. */
export const BENCH_DURATION_S_MAX = 86_400;
/** Largest `--ops`. */
export const BENCH_OPS_MAX = 10_000_000_000;
/** Default `--connections`: enough concurrency to load a proxy on one machine without queueing in the client. */
export const BENCH_CONNECTIONS_DEFAULT = 64;
/** Largest `--connections`: each is a socket, and file descriptors run out beyond a few thousand. */
export const BENCH_CONNECTIONS_MAX = 4096;
/** Default `--value-size`, in bytes: a small record, as in most key-value benchmarks. */
export const BENCH_VALUE_BYTES_DEFAULT = 100;
/** Largest `--value-size`, in bytes: 16 times the server's default limit, for servers configured higher. */
export const BENCH_VALUE_BYTES_MAX = 16 * 1024 * 1024;
/** Default `--keys`: a key space large enough that keys rarely collide, small enough to preload in seconds. */
export const BENCH_KEYS_DEFAULT = 100_000;
/** Largest `--keys`. */
export const BENCH_KEYS_MAX = 1_000_000_000;
/** How often the progress display is refreshed, in ms. */
const PROGRESS_REFRESH_MS = 100;
/** Least time between two plain progress lines when stderr is not a terminal, in ms. */
const PLAIN_PROGRESS_INTERVAL_MS = 10_000;

/** Arguments of `kv bench`. */
export interface BenchArgs extends WriteQuorumArgs, ReadQuorumArgs {
  duration: number | undefined;
  ops: number | undefined;
  connections: number;
  'value-size': number;
  keys: number;
  mix: OpMix;
  batch: number | undefined;
  preload: boolean;
  seed: number | undefined;
}

/**
 * `kv bench`: a closed-loop load generator against the proxy (see `LoadGenerator`); with several proxies named, against
 * the first that answers `GET /health`. Prints a progress display on stderr
 * while it runs, then the results (per operation: count, rate, not found, errors, latency percentiles) as a table, or as
 * JSON with `--json`. Exits 3 when the proxy cannot be reached or when every operation failed, 0 otherwise (errors are
 * reported in the results). The first Ctrl-C stops the run early and still reports.
 */
export const benchCommand: CliCommand<BenchArgs> = {
  command: 'bench',
  describe: 'generate load against the proxy and report throughput and latency',
  builder: (y) =>
    withReadQuorum(withWriteQuorum(y))
      .option('duration', {
        type: 'number',
        describe: `run this many seconds (default ${BENCH_DURATION_S_DEFAULT} when --ops is not given)`,
        requiresArg: true,
        coerce: positiveNumberUpTo('--duration', BENCH_DURATION_S_MAX),
      })
      .option('ops', {
        type: 'number',
        describe: 'run this many operations',
        requiresArg: true,
        coerce: integerIn('--ops', 1, BENCH_OPS_MAX),
      })
      .conflicts('duration', 'ops')
      .option('connections', {
        type: 'number',
        describe: 'concurrent connections, each with one request in flight',
        default: BENCH_CONNECTIONS_DEFAULT,
        requiresArg: true,
        coerce: integerIn('--connections', 1, BENCH_CONNECTIONS_MAX),
      })
      .option('value-size', {
        type: 'number',
        describe: 'bytes of each value written',
        default: BENCH_VALUE_BYTES_DEFAULT,
        requiresArg: true,
        coerce: integerIn('--value-size', 0, BENCH_VALUE_BYTES_MAX),
      })
      .option('keys', {
        type: 'number',
        describe: 'size of the key space: keys bench:0 .. bench:<keys-1>, drawn uniformly',
        default: BENCH_KEYS_DEFAULT,
        requiresArg: true,
        coerce: integerIn('--keys', 1, BENCH_KEYS_MAX),
      })
      .option('mix', {
        type: 'string',
        describe: 'relative weights of the operations set, get and del',
        default: OP_MIX_DEFAULT,
        requiresArg: true,
        coerce: (text: string) => parseMix(text),
      })
      .option('batch', {
        type: 'number',
        describe: `send POST /batch requests of this many operations (1..${BATCH_OPS_MAX}); rates are then keys/s`,
        requiresArg: true,
        coerce: integerIn('--batch', 1, BATCH_OPS_MAX),
      })
      .option('preload', {
        type: 'boolean',
        describe: 'first write every key of the key space (not measured), so that gets find values',
        default: false,
      })
      .option('seed', {
        type: 'number',
        describe: 'seed of the key and operation choices, to repeat a run (default: random, reported)',
        requiresArg: true,
        coerce: integerIn('--seed', 0, 2 ** 32 - 1),
      })
      .example('$0 bench', `${BENCH_DURATION_S_DEFAULT} s of set=50,get=50, ${BENCH_CONNECTIONS_DEFAULT} connections`)
      .example('$0 bench --preload --mix get=9,set=1', 'read-mostly, on a preloaded key space')
      .example('$0 bench --ops 100000 --batch 100', 'POST /batch, 100 operations per request')
      .example('$0 --json bench > result.json', 'machine-readable results'),
  run: runBench,
};

async function runBench(args: GlobalArgs & BenchArgs, { io, out }: CommandContext): Promise<ExitCode> {
  const durationS = args.ops === undefined ? (args.duration ?? BENCH_DURATION_S_DEFAULT) : undefined;
  const settings: BenchSettings = {
    server: args.server,
    connections: args.connections,
    valueSize: args['value-size'],
    keys: args.keys,
    mix: args.mix,
    batch: args.batch ?? null,
    ops: args.ops ?? null,
    durationS: durationS ?? null,
    preload: args.preload,
    w: args.w ?? null,
    r: args.r ?? null,
    seed: args.seed ?? randomInt(0, 2 ** 32),
  };

  // A server that cannot be reached is reported once, clearly, instead of as thousands of counted errors. With several
  // proxies the run measures the first one that answers: the load generator sends to one proxy, never fails over.
  const client = createClient(args);
  let server: string;
  try {
    await client.health();
    server = client.url;
  } catch (err) {
    out.failure(err, { server: client.url });
    return ExitCode.Failure;
  } finally {
    client.close();
  }

  const sender = new HttpSender({
    baseUrl: server,
    token: args.token,
    connections: args.connections,
    timeoutMs: args.timeout,
    ca: readCacert(args),
  });
  settings.server = sender.url;
  try {
    if (args.preload && !(await preload(sender, args, { io, out }))) return ExitCode.Failure;

    const spec: LoadSpec = {
      connections: args.connections,
      valueBytes: args['value-size'],
      keys: args.keys,
      mix: args.mix,
      batchOps: args.batch,
      opsTotal: args.ops,
      durationMs: durationS === undefined ? undefined : durationS * 1000,
      w: args.w,
      r: args.r,
      seed: settings.seed,
    };
    const generator = new LoadGenerator(sender, spec);
    const progress = createProgress(io, {
      label: 'bench',
      total: spec.opsTotal ?? spec.durationMs ?? 1,
      plainIntervalMs: PLAIN_PROGRESS_INTERVAL_MS,
    });
    const refresh = (): void => {
      const p = generator.progress();
      const rate = p.elapsedMs > 0 ? Math.round((p.ops / p.elapsedMs) * 1000) : 0;
      const detail = `${p.ops} ops | ${rate} ops/s | ${p.errors} errors | ${(p.elapsedMs / 1000).toFixed(1)} s`;
      progress.update(spec.opsTotal === undefined ? p.elapsedMs : p.ops, detail);
    };
    const untrap = io.trapInterrupt?.(() => generator.stop());
    const timer = setInterval(refresh, PROGRESS_REFRESH_MS);
    let report;
    try {
      report = benchReport(settings, await generator.run());
    } finally {
      clearInterval(timer);
      untrap?.();
      refresh();
      progress.stop();
    }

    if (out.json) out.jsonLine(report);
    else out.line(formatBenchReport(report));
    const total = report.total;
    if (total.count > 0 && total.ok + total.notFound === 0) {
      out.message(`${sender.url}: every operation failed (${describeCodes(total.errors)})`);
      return ExitCode.Failure;
    }
    return ExitCode.Ok;
  } finally {
    sender.close();
  }
}

// Writes the key space; false (after a message) when nothing could be written.
async function preload(
  sender: HttpSender,
  args: GlobalArgs & BenchArgs,
  { io, out }: CommandContext,
): Promise<boolean> {
  const progress = createProgress(io, { label: 'preload', total: args.keys });
  const result = await preloadKeys(
    sender,
    { keys: args.keys, valueBytes: args['value-size'], connections: args.connections, w: args.w },
    (done) => progress.update(done, `${done} of ${args.keys} keys`),
  );
  progress.stop();
  const failed = args.keys - result.written;
  if (failed === 0) return true;
  const codes = describeCodes(Object.fromEntries(result.errors));
  if (result.written === 0) {
    out.message(`${sender.url}: preload failed: no key could be written (${codes})`);
    return false;
  }
  out.message(`preload: ${failed} of ${args.keys} keys not written (${codes}); going on`);
  return true;
}

function describeCodes(errors: Record<string, number>): string {
  return Object.entries(errors)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
}
