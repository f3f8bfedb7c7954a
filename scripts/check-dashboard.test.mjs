// Tests of the dashboard check (scripts/check-dashboard.mjs): the repository's dashboard reads only metrics the code
// exports, and a dashboard that reads a renamed or unknown metric fails, naming it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkDashboard, dashboardQueries, declaredMetrics, exportedSeries, metricNames } from './check-dashboard.mjs';

const SCRIPT = fileURLToPath(new URL('./check-dashboard.mjs', import.meta.url));
const ROOT = path.resolve(path.dirname(SCRIPT), '..');
const DASHBOARD = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy/grafana/kv.json'), 'utf8'));

describe('metricNames', () => {
  test('names, not functions, labels, matchers, durations, variables or keywords', () => {
    assert.deepEqual(
      metricNames('histogram_quantile(0.99, sum by (le, route) (rate(kv_http_request_duration_seconds_bucket{service="proxy", status=~"5.."}[$__rate_interval])))'),
      ['kv_http_request_duration_seconds_bucket'],
    );
    assert.deepEqual(metricNames('sum(rate(a_sum[5m])) / sum without (x) (rate(a_count[5m])) > bool 1e3 and on (node) b'), ['a_sum', 'a_count', 'b']);
    assert.deepEqual(metricNames('min by (node) (kv_node_up) offset 5m'), ['kv_node_up']);
  });
});

describe('the names the code exports', () => {
  test('declarations are read with their kind; histograms are scraped as _bucket, _sum and _count', async () => {
    assert.deepEqual(declaredMetrics("new Histogram({\n  name: 'x_seconds',\n  help: 'h' })\nnew Gauge<'a'>({ name: \"y\", help: 'h' })"), [
      { name: 'x_seconds', kind: 'Histogram' },
      { name: 'y', kind: 'Gauge' },
    ]);
    const exported = await exportedSeries();
    for (const name of ['kv_http_requests_total', 'kv_wal_sync_seconds_bucket', 'kv_wal_sync_seconds_count', 'kv_node_up', 'kv_keys', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
      assert.ok(exported.has(name), `${name} not found`);
    }
    assert.ok(!exported.has('kv_wal_sync_seconds'), 'a histogram is not scraped under its bare name');
  });
});

describe('deploy/grafana/kv.json', () => {
  test('reads only metrics the code exports, and covers requests, quorum, repairs, hints, WAL, nodes, streaming and memory', async () => {
    assert.deepEqual(checkDashboard(DASHBOARD, await exportedSeries()), []);
    const read = new Set(dashboardQueries(DASHBOARD).flatMap(({ expr }) => metricNames(expr)));
    for (const name of [
      'kv_http_requests_total',
      'kv_http_request_duration_seconds_bucket',
      'kv_quorum_failures_total',
      'kv_read_repairs_total',
      'kv_hints_pending',
      'kv_hints_dropped',
      'kv_wal_sync_seconds_bucket',
      'kv_wal_sync_records_sum',
      'kv_node_up',
      'kv_stream_bytes_total',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(read.has(name), `the dashboard does not show ${name}`);
    }
  });

  test('a renamed metric fails, named with its panel', async () => {
    const renamed = JSON.parse(JSON.stringify(DASHBOARD).replaceAll('kv_quorum_failures_total', 'kv_quorum_failed_total'));
    const problems = checkDashboard(renamed, await exportedSeries());
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^panel "Quorum failures": kv_quorum_failed_total is not a metric the code exports/);
  });

  test('the command line: 0 for the dashboard, 1 naming the unknown metric of a broken copy', () => {
    assert.equal(spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' }).status, 0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-dashboard-'));
    try {
      const file = path.join(dir, 'kv.json');
      fs.writeFileSync(file, JSON.stringify({ panels: [{ title: 'p', targets: [{ expr: 'rate(kv_no_such_metric[1m])' }] }] }));
      const run = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' });
      assert.equal(run.status, 1);
      assert.match(run.stderr, /kv_no_such_metric is not a metric the code exports/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
