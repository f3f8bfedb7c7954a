import type { LoadResult } from './load-generator';
import { OpStats } from './op-stats';
import { benchReport, BenchSettings, formatBenchReport } from './report';

const SETTINGS: BenchSettings = {
  server: 'http://localhost:8000',
  connections: 4,
  valueSize: 100,
  keys: 1000,
  mix: { set: 1, get: 1, del: 0 },
  batch: null,
  ops: 6,
  durationS: null,
  preload: false,
  w: null,
  r: null,
  seed: 9,
};

function result(): LoadResult {
  const set = new OpStats();
  const get = new OpStats();
  set.recordOk(1000);
  set.recordOk(3000);
  set.recordError('KV_QUORUM_FAILED', 2000);
  get.recordOk(500);
  get.recordNotFound(700);
  get.recordError('ECONNRESET', undefined);
  const requests = new OpStats();
  requests.merge(set);
  requests.merge(get);
  return { elapsedMs: 2000, ops: { set, get, del: new OpStats() }, requests, interrupted: false };
}

describe('bench report', () => {
  it('adds up the operations, with rates, errors by code and latencies in ms', () => {
    const report = benchReport(SETTINGS, result());
    expect(Object.keys(report.operations)).toEqual(['set', 'get']);
    expect(report.operations.set).toEqual({
      count: 3,
      ok: 2,
      notFound: 0,
      errorCount: 1,
      errors: { KV_QUORUM_FAILED: 1 },
      perSecond: 1.5,
      // 2 ms is reported as 2.015: the top of its histogram bucket (at most 1/64 above).
      latencyMs: { p50: 2.015, p90: 3, p99: 3, max: 3, mean: 2 },
    });
    expect(report.total).toMatchObject({
      count: 6,
      ok: 3,
      notFound: 1,
      errorCount: 2,
      errors: { ECONNRESET: 1, KV_QUORUM_FAILED: 1 },
      perSecond: 3,
    });
    expect(report.elapsedS).toBe(2);
  });

  it('formats a table with a row per operation, the total, and the errors by code', () => {
    expect(formatBenchReport(benchReport(SETTINGS, result()))).toBe(
      [
        'kv bench http://localhost:8000: 6 operations in 2.00 s',
        '  4 connections, one request per operation, mix set=1,get=1, 100-byte values, 1000 keys, seed 9',
        '',
        'op     count  ops/s  not found  errors  p50 ms  p90 ms  p99 ms  max ms',
        'set        3    1.5          0       1    2.02    3.00    3.00    3.00',
        'get        3    1.5          1       1    0.50    0.70    0.70    0.70',
        'total      6    3.0          1       2    1.01    3.00    3.00    3.00',
        '',
        'errors:',
        '  set  KV_QUORUM_FAILED  1',
        '  get  ECONNRESET        1',
      ].join('\n'),
    );
  });

  it('reports keys/s and the requests with --batch, and says when the run was interrupted', () => {
    const text = formatBenchReport(
      benchReport({ ...SETTINGS, batch: 3, preload: true }, { ...result(), interrupted: true }),
    );
    expect(text).toContain('6 operations in 2.00 s (interrupted)');
    expect(text).toContain('/batch requests of 3 operations');
    expect(text).toContain('1000 keys (preloaded)');
    expect(text).toMatch(/^op +count +keys\/s /m);
    expect(text).toContain('requests: 6 (3.0/s), 2 failed as a whole; latency p50 1.01 ms, p99 3.00 ms');
  });
});
