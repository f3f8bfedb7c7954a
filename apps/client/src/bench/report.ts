import { formatTable } from '../table';
import type { LoadResult } from './load-generator';
import { BENCH_OPS, BenchOp, formatMix, mixOps, OpMix } from './op-mix';
import { OpStats } from './op-stats';

/** The settings of a run, as reported with its results. */
export interface BenchSettings {
  server: string;
  connections: number;
  valueSize: number;
  keys: number;
  mix: OpMix;
  /** Operations per `/batch` request, or `null` for one request per operation. */
  batch: number | null;
  /** The operation count asked for, or `null` for a timed run. */
  ops: number | null;
  /** The duration asked for in seconds, or `null` for a counted run. */
  durationS: number | null;
  preload: boolean;
  w: number | null;
  r: number | null;
  seed: number;
}

/** Latency percentiles in ms, of the answered operations or requests. */
export interface LatencyReport {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The results of one kind of operation, of all operations, or of the HTTP requests. */
export interface StatsReport {
  count: number;
  ok: number;
  notFound: number;
  errorCount: number;
  /** Failures by code. */
  errors: Record<string, number>;
  /** `count` divided by the elapsed time. */
  perSecond: number;
  /** `null` when nothing was answered. */
  latencyMs: LatencyReport | null;
}

/** The machine-readable results of `kv bench --json`. */
export interface BenchReport {
  settings: BenchSettings;
  elapsedS: number;
  /** True when the run was stopped early (Ctrl-C). */
  interrupted: boolean;
  /** One entry per operation of the mix with a weight above 0. */
  operations: Partial<Record<BenchOp, StatsReport>>;
  /** All operations together. */
  total: StatsReport;
  /** HTTP requests: one per operation, or one per batch with `--batch`. */
  requests: StatsReport;
}

/** The results of a run as {@link BenchReport}. */
export function benchReport(settings: BenchSettings, result: LoadResult): BenchReport {
  const elapsedS = result.elapsedMs / 1000;
  const operations: Partial<Record<BenchOp, StatsReport>> = {};
  for (const op of mixOps(settings.mix)) operations[op] = statsReport(result.ops[op], elapsedS);
  return {
    settings,
    elapsedS: round(elapsedS, 3),
    interrupted: result.interrupted,
    operations,
    total: statsReport(totalOf(result), elapsedS),
    requests: statsReport(result.requests, elapsedS),
  };
}

/**
 * The results of a run as text for a terminal: a line of settings, a table with one row per operation and one for the
 * total (count, rate, not found, errors, latency p50/p90/p99/max in ms), the errors by code, and with `--batch` a line
 * about the requests.
 */
export function formatBenchReport(report: BenchReport): string {
  const s = report.settings;
  const mode = s.batch === null ? 'one request per operation' : `/batch requests of ${s.batch} operations`;
  const header =
    `kv bench ${s.server}: ${report.total.count} operations in ${report.elapsedS.toFixed(2)} s` +
    `${report.interrupted ? ' (interrupted)' : ''}\n` +
    `  ${s.connections} connections, ${mode}, mix ${formatMix(s.mix)}, ${s.valueSize}-byte values, ` +
    `${s.keys} keys${s.preload ? ' (preloaded)' : ''}, seed ${s.seed}`;
  const rate = s.batch === null ? 'ops/s' : 'keys/s';
  const rows: string[][] = [['op', 'count', rate, 'not found', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms']];
  const entries = Object.entries(report.operations) as [BenchOp, StatsReport][];
  for (const [op, stats] of entries) rows.push(row(op, stats));
  rows.push(row('total', report.total));
  const table = formatTable(rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);

  const lines = [header, '', table];
  const errorRows = entries.flatMap(([op, stats]) =>
    Object.entries(stats.errors).map(([code, count]) => [`  ${op}`, code, String(count)]),
  );
  if (errorRows.length > 0) lines.push('', 'errors:', formatTable(errorRows, ['left', 'left', 'right']));
  if (s.batch !== null) {
    const r = report.requests;
    const l = r.latencyMs;
    const latency = l === null ? '' : `; latency p50 ${ms(l.p50)} ms, p99 ${ms(l.p99)} ms`;
    lines.push(
      '',
      `requests: ${r.count} (${r.perSecond.toFixed(1)}/s), ${r.errorCount} failed as a whole${latency}`,
      'the latency of an operation is that of the /batch request that carried it',
    );
  }
  return lines.join('\n');
}

function row(name: string, stats: StatsReport): string[] {
  const l = stats.latencyMs;
  return [
    name,
    String(stats.count),
    stats.perSecond.toFixed(1),
    String(stats.notFound),
    String(stats.errorCount),
    l === null ? '-' : ms(l.p50),
    l === null ? '-' : ms(l.p90),
    l === null ? '-' : ms(l.p99),
    l === null ? '-' : ms(l.max),
  ];
}

function statsReport(stats: OpStats, elapsedS: number): StatsReport {
  const h = stats.latency;
  return {
    count: stats.count,
    ok: stats.ok,
    notFound: stats.notFound,
    errorCount: stats.errorCount,
    errors: Object.fromEntries([...stats.errors].sort(([a], [b]) => a.localeCompare(b))),
    perSecond: round(elapsedS > 0 ? stats.count / elapsedS : 0, 1),
    latencyMs:
      h.count === 0
        ? null
        : {
            p50: usToMs(h.percentileUs(50)),
            p90: usToMs(h.percentileUs(90)),
            p99: usToMs(h.percentileUs(99)),
            max: usToMs(h.maxUs),
            mean: usToMs(h.meanUs),
          },
  };
}

function totalOf(result: LoadResult): OpStats {
  const total = new OpStats();
  for (const op of BENCH_OPS) total.merge(result.ops[op]);
  return total;
}

function usToMs(us: number): number {
  return round(us / 1000, 3);
}

function ms(value: number): string {
  return value.toFixed(2);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
