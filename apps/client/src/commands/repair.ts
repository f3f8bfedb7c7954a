import type { RepairStatus } from '@kv/protocol';
import { parseKeyRange } from '@kv/protocol';
import type { CliCommand } from '../command';
import { ExitCode } from '../exit-codes';
import { createClient } from '../global-options';
import { integerIn, positiveNumberUpTo } from '../option-values';
import { describeFailure } from '../output';
import { createProgress } from '../progress';
import { UsageError } from '../usage-error';

/** Default `--wait-timeout`, in seconds: a round of a large ring at the default throttle fits in an hour. */
export const REPAIR_WAIT_TIMEOUT_S_DEFAULT = 3600;
/** Longest `--wait-timeout`, in seconds: one week. */
const WAIT_TIMEOUT_S_MAX = 604_800;
/** Default `--poll-interval`, in ms. */
const POLL_INTERVAL_MS_DEFAULT = 500;
/** Polls failed in a row before `--wait` gives up. */
const POLL_FAILURES_MAX = 5;
/** Least time between two plain progress lines when stderr is not a terminal, in ms. */
const PLAIN_PROGRESS_INTERVAL_MS = 5_000;

/** Arguments of `kv repair`. */
export interface RepairArgs {
  'key-range': string | undefined;
  wait: boolean;
  'wait-timeout': number | undefined;
  'poll-interval': number | undefined;
}

/** `kv repair` summary line: what a round compared, found and did. */
export function formatRepair(status: RepairStatus): string {
  const scope = status.keyRange === null ? 'the whole ring' : `key range ${status.keyRange}`;
  const failed = status.rangesFailed > 0 ? `, ${status.rangesFailed} not fully compared (a replica did not answer)` : '';
  const error = status.error === undefined ? '' : ` (${status.error})`;
  return (
    `repair ${status.state}${error}: ${status.rangesDone}/${status.rangesTotal} ranges of ${scope} compared${failed}, ` +
    `${status.differences} keys differed, ${status.repaired} repaired, ${status.purged} tombstones purged, ${status.bytes} bytes written`
  );
}

/**
 * `kv repair [--key-range START:END] [--wait]`: runs an anti-entropy round now on the proxy (`POST /cluster/repair`):
 * every range's replicas are compared and the stale ones written the newest versions. With `--wait`, follows it with a
 * progress bar (`GET /cluster/repair`) and prints the summary; exits 3 when some range could not be compared.
 */
export const repairCommand: CliCommand<RepairArgs> = {
  command: 'repair',
  describe: "compare every range's replicas now and repair the stale ones (anti-entropy)",
  builder: (y) =>
    y
      .usage('$0 repair [--key-range START:END] [--wait]\n\nRuns an anti-entropy round now: replicas are compared by digest and the newest version of each differing key is written where it lacks.')
      .option('key-range', {
        type: 'string',
        describe: 'only the keys whose ring hash h is START < h <= END (0 to 4294967295; wraps when START > END)',
        requiresArg: true,
      })
      .option('wait', { type: 'boolean', describe: 'wait until the round is over, with its progress on stderr, and print its summary', default: false })
      .option('wait-timeout', {
        type: 'number',
        describe: `with --wait: give up waiting after this many seconds (default ${REPAIR_WAIT_TIMEOUT_S_DEFAULT}); the round goes on`,
        requiresArg: true,
        coerce: positiveNumberUpTo('--wait-timeout', WAIT_TIMEOUT_S_MAX),
      })
      .option('poll-interval', {
        type: 'number',
        describe: `with --wait: ms between two polls of GET /cluster/repair (default ${POLL_INTERVAL_MS_DEFAULT})`,
        requiresArg: true,
        coerce: integerIn('--poll-interval', 10, 60_000),
      })
      .example('$0 repair --wait', 'repairs the whole ring and prints what it found')
      .example('$0 repair --key-range 0:1073741823 --wait', 'repairs a quarter of the ring')
      .example('$0 --json repair --wait', 'prints the final status as JSON'),
  run: async (args, { io, out }) => {
    for (const option of ['wait-timeout', 'poll-interval'] as const) {
      if (args[option] !== undefined && !args.wait) throw new UsageError(`--${option} needs --wait`);
    }
    const keyRange = args['key-range'];
    if (keyRange !== undefined) {
      try {
        parseKeyRange(keyRange);
      } catch {
        throw new UsageError(`--key-range must be START:END, hashes from 0 to 4294967295, got ${JSON.stringify(keyRange)}`);
      }
    }
    const client = createClient(args);
    try {
      const started = await client.repair(keyRange === undefined ? {} : { keyRange });
      if (!args.wait) {
        out.result(started, (answer) => `${answer.started ? 'repair started' : 'a repair is already running'}: ${formatRepair(answer)}; follow it with 'kv repair --wait'`);
        return ExitCode.Ok;
      }
      const progress = createProgress(io, { label: 'repair', total: Math.max(1, started.rangesTotal), plainIntervalMs: PLAIN_PROGRESS_INTERVAL_MS });
      const detail = (status: RepairStatus): string => `${status.rangesDone}/${status.rangesTotal} ranges | ${status.differences} differences | ${status.repaired} repaired`;
      const deadline = Date.now() + (args['wait-timeout'] ?? REPAIR_WAIT_TIMEOUT_S_DEFAULT) * 1000;
      let last: RepairStatus = started;
      let failures = 0;
      while (last.state === 'running' || last.startedAt !== started.startedAt) {
        if (Date.now() >= deadline) {
          progress.stop();
          out.message(`the repair is not over after the wait (${detail(last)}); it goes on in the background`);
          return ExitCode.Failure;
        }
        await new Promise((resolve) => setTimeout(resolve, args['poll-interval'] ?? POLL_INTERVAL_MS_DEFAULT));
        try {
          last = await client.repairStatus();
          failures = 0;
          progress.update(last.rangesDone, detail(last));
        } catch (err) {
          failures += 1;
          progress.update(last.rangesDone, `${detail(last)} | poll failed (${failures} in a row): ${describeFailure(err, { server: client.url })}`, true);
          if (failures >= POLL_FAILURES_MAX) {
            progress.stop();
            out.failure(err, { server: client.url });
            return ExitCode.Failure;
          }
        }
      }
      progress.update(last.rangesTotal, detail(last), true);
      progress.stop();
      out.result(last, formatRepair);
      return last.state === 'done' ? ExitCode.Ok : ExitCode.Failure;
    } catch (err) {
      out.failure(err, { server: client.url, write: false });
      return ExitCode.Failure;
    } finally {
      client.close();
    }
  },
};
