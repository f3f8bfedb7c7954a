// Foreground PUT latency while anti-entropy repairs a stale replica: starts a local kv cluster of the built apps (1
// proxy, 3 data nodes, WAL_SYNC=always), writes a base of keys, and then, in each run, makes node3 miss writes of a
// share of them with their hints lost (node3 down, HINTS_MAX=1), brings it back, and measures PUT at 64 connections
// with wrk idle and while `POST /cluster/repair` runs (the order alternates from run to run). Prints one row per run:
// idle and during p50/p99, their ratio, the round's duration, differences, keys repaired; then, per run, what each
// process's /metrics says of each window: event-loop delay (prom-client's default `nodejs_eventloop_lag_max_seconds`
// and `_p99_seconds`, reset at every scrape, so a scrape just before a window makes the next one cover the window
// alone), CPU seconds, seconds in garbage collection, and the data nodes' anti-entropy requests (count, mean and largest-bucket duration). The
// event-loop figures are far less noisy than wrk's p99 on a shared machine: a long turn on one process shows there
// whatever else the machine runs.
//
//   npx tsx --tsconfig tsconfig.base.json scripts/bench/repair-load.ts [--runs 4] [--duration 10] [--base 200000]
//     [--stale 8000] [--conns 64] [--proxy-env ANTI_ENTROPY_KEYS_PER_S=1000,...]
//
// Needs wrk (apt-get install -y wrk) and the built apps (npx nx run-many -t build -p proxy datanode client).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { TestCluster, eventually, repoRoot, request } from '@kv/testkit';
import { parseWrk, type WrkResult } from './tools';

interface Round {
  state: string;
  startedAt: number;
  finishedAt: number;
  differences: number;
  repaired: number;
  bytes: number;
  rangesFailed: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const runs = Number(option('runs', '4'));
const durationS = Number(option('duration', '10'));
const baseKeys = Number(option('base', '200000'));
const staleKeys = Number(option('stale', '8000'));
const conns = Number(option('conns', '64'));
const proxyEnv = Object.fromEntries(
  option('proxy-env', '')
    .split(',')
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const here = path.join(repoRoot(), 'scripts', 'bench');
/** The wrk script's key space (key1..key100000); the rest of the base is `base<n>`, which the load never writes. */
const WRK_KEYS = 100_000;

/** wrk PUT (scripts/bench/kv-put.lua) for `durationS` seconds, without blocking this process. */
function wrkPut(url: string): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn('wrk', ['-t2', `-c${conns}`, `-d${durationS}s`, '--latency', '-s', path.join(here, 'kv-put.lua'), url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    proc.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    proc.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', () => resolve(parseWrk(text)));
  });
}

/**
 * Writes `keys` (with a value of 100 bytes tagged `tag`) through `POST /batch`, 500 per request, 2 at a time; a write
 * that fails (a loaded machine can time one out) is sent again, up to 5 times.
 */
async function writeKeys(server: string, keys: readonly string[], tag: string): Promise<void> {
  const value = `${tag}-`.padEnd(100, 'x');
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += 500) chunks.push(keys.slice(i, i + 500));
  const worker = async (): Promise<void> => {
    for (let chunk = chunks.pop(); chunk !== undefined; chunk = chunks.pop()) {
      let left = chunk;
      for (let attempt = 1; left.length > 0; attempt++) {
        const res = await request(server, 'POST', '/batch', { ops: left.map((key) => ({ op: 'set', key, value })) }, { 'content-type': 'application/json' }, 60_000);
        const results = res.status === 200 ? (res.body.results as { status: number }[]) : left.map(() => ({ status: res.status }));
        const failed = left.filter((_, i) => results[i].status !== 200);
        if (failed.length > 0 && attempt >= 5) throw new Error(`${failed.length} writes failed 5 times: ${JSON.stringify(res.body).slice(0, 300)}`);
        left = failed;
      }
    }
  };
  await Promise.all(Array.from({ length: 2 }, worker));
}

async function nodeStatus(server: string, id: string): Promise<string | undefined> {
  const res = await request(server, 'GET', '/cluster');
  return (res.body.nodes as { id: string; status: string }[]).find((node) => node.id === id)?.status;
}

/** node3 misses new values of `keys` and their hints (the proxy keeps one hint at most), then comes back. */
async function makeStale(cluster: TestCluster, keys: readonly string[], tag: string): Promise<void> {
  await cluster.killNode('node3');
  await eventually(async () => (await nodeStatus(cluster.proxyUrl, 'node3')) === 'down', 10_000);
  await writeKeys(cluster.proxyUrl, keys, tag);
  await cluster.restartNode('node3');
  await eventually(async () => (await nodeStatus(cluster.proxyUrl, 'node3')) === 'up', 20_000);
}

/** A round over the whole ring started with `POST /cluster/repair`, under wrk. */
async function repairUnderLoad(server: string, urls: readonly string[]): Promise<{ load: WrkResult; stats: WindowStats[]; round: Round; loadEndedAt: number }> {
  const before = await Promise.all(urls.map(scrape));
  const started = await request(server, 'POST', '/cluster/repair', {}, { 'content-type': 'application/json' });
  if (started.status !== 202) throw new Error(`POST /cluster/repair: ${started.status} ${JSON.stringify(started.body)}`);
  let loadEndedAt = 0;
  const load = wrkPut(server).then(async (result) => {
    loadEndedAt = Date.now();
    const after = await Promise.all(urls.map(scrape));
    return { result, stats: urls.map((_, i) => windowStats(before[i], after[i])) };
  });
  let round: Round;
  for (;;) {
    round = (await request(server, 'GET', '/cluster/repair')).body as Round;
    if (round.state !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { result, stats } = await load;
  return { load: result, stats, round, loadEndedAt };
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/** One scrape of a process's /metrics: each sample's value by its name and labels as printed (`name{labels}`). */
type Scrape = Map<string, number>;

async function scrape(url: string): Promise<Scrape> {
  const res = await request(url, 'GET', '/metrics');
  const samples: Scrape = new Map();
  for (const line of String(res.body).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** The sum of the samples of metric `name` whose labels contain every one of `labels` (`route="/x"`, ...). */
function sample(scraped: Scrape, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [key, value] of scraped) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    if (labels.every((label) => key.includes(label))) sum += value;
  }
  return sum;
}

/** The anti-entropy routes of the data nodes whose request durations are reported. */
const INTERNAL_ROUTES = ['/internal/digests', '/internal/versions', '/internal/purge'] as const;

/** What one process did during one window, from a scrape before and one after. */
interface WindowStats {
  lagMaxMs: number;
  lagP99Ms: number;
  cpuS: number;
  /** Seconds in garbage collection (prom-client's `nodejs_gc_duration_seconds`): major (mark-sweep) and all kinds. */
  gcMajorS: number;
  gcS: number;
  /** Per anti-entropy route: requests answered, their summed seconds, and those slower than 10 ms. */
  routes: Record<(typeof INTERNAL_ROUTES)[number], { count: number; seconds: number; over10ms: number }>;
}

function windowStats(before: Scrape, after: Scrape): WindowStats {
  const delta = (name: string, ...labels: string[]): number => sample(after, name, ...labels) - sample(before, name, ...labels);
  const histogram = 'kv_http_request_duration_seconds';
  const routes = Object.fromEntries(
    INTERNAL_ROUTES.map((route) => {
      const count = delta(`${histogram}_count`, `route="${route}"`);
      return [route, { count, seconds: delta(`${histogram}_sum`, `route="${route}"`), over10ms: count - delta(`${histogram}_bucket`, `route="${route}"`, 'le="0.01"') }];
    }),
  ) as WindowStats['routes'];
  return {
    lagMaxMs: sample(after, 'nodejs_eventloop_lag_max_seconds') * 1000,
    lagP99Ms: sample(after, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    cpuS: delta('process_cpu_seconds_total'),
    gcMajorS: delta('nodejs_gc_duration_seconds_sum', 'kind="major"'),
    gcS: delta('nodejs_gc_duration_seconds_sum'),
    routes,
  };
}

/** Measures `body` (a window of load) on every process: scrapes them all just before it and just after it. */
async function observed<T>(urls: readonly string[], body: () => Promise<T>): Promise<{ result: T; stats: WindowStats[] }> {
  const before = await Promise.all(urls.map(scrape));
  const result = await body();
  const after = await Promise.all(urls.map(scrape));
  return { result, stats: urls.map((_, i) => windowStats(before[i], after[i])) };
}

async function main(): Promise<void> {
  const cluster = await TestCluster.start({
    relays: false,
    nodeEnv: { WAL_SYNC: 'always', LOG_LEVEL: 'warn' },
    proxyEnv: { LOG_LEVEL: 'warn', HEALTH_INTERVAL_MS: '1000', ANTI_ENTROPY_INTERVAL_MS: '0', HINTS_MAX: '1', ...proxyEnv },
  });
  try {
    const wrkKeys = Array.from({ length: Math.min(WRK_KEYS, baseKeys) }, (_, i) => `key${i + 1}`);
    const otherKeys = Array.from({ length: Math.max(0, baseKeys - WRK_KEYS) }, (_, i) => `base${i + 1}`);
    await writeKeys(cluster.proxyUrl, [...wrkKeys, ...otherKeys], 'base');
    const stalePool = otherKeys.length >= staleKeys ? otherKeys : [...otherKeys, ...wrkKeys];
    process.stdout.write(
      `base ${baseKeys} keys; ${staleKeys} stale on node3 per run (${fmt((100 * staleKeys) / baseKeys)}%); wrk PUT ${conns} connections, ${durationS} s; proxy env ${JSON.stringify(proxyEnv)}\n\n`,
    );
    process.stdout.write('| run | idle p50 / p99 ms | during p50 / p99 ms | p99 ratio | idle / during PUT/s | round s | differences | repaired | repaired keys/s | load inside round |\n');
    process.stdout.write('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n');
    const ratios: number[] = [];
    const names = ['proxy', ...cluster.nodes.map((node) => node.id)];
    const urls = [cluster.proxyUrl, ...cluster.nodes.map((node) => cluster.nodeUrl(node.id))];
    const details: string[] = [];
    for (let run = 1; run <= runs; run++) {
      const stale = stalePool.slice(((run - 1) * staleKeys) % stalePool.length).concat(stalePool).slice(0, staleKeys);
      await makeStale(cluster, stale, `run${run}`);
      let idleWindow: { result: WrkResult; stats: WindowStats[] };
      let during: Awaited<ReturnType<typeof repairUnderLoad>>;
      // Alternate the order, so that a drift of the machine's load does not always favour one side.
      if (run % 2 === 1) {
        idleWindow = await observed(urls, () => wrkPut(cluster.proxyUrl));
        during = await repairUnderLoad(cluster.proxyUrl, urls);
      } else {
        during = await repairUnderLoad(cluster.proxyUrl, urls);
        idleWindow = await observed(urls, () => wrkPut(cluster.proxyUrl));
      }
      const idle = idleWindow.result;
      details.push(...runDetails(run, names, idleWindow.stats, during.stats));
      const { round, load } = during;
      const roundS = (round.finishedAt - round.startedAt) / 1000;
      const ratio = load.p99Ms / idle.p99Ms;
      ratios.push(ratio);
      process.stdout.write(
        `| ${run} | ${fmt(idle.p50Ms)} / ${fmt(idle.p99Ms)} | ${fmt(load.p50Ms)} / ${fmt(load.p99Ms)} | ${fmt(ratio, 2)}x | ${fmt(idle.rps, 0)} / ${fmt(load.rps, 0)} | ${fmt(roundS)} | ${round.differences} | ${round.repaired} | ${fmt(round.repaired / roundS, 0)} | ${round.finishedAt >= during.loadEndedAt ? 'yes' : 'no (the round ended first)'} |\n`,
      );
      if (idle.errors + load.errors > 0 || round.state !== 'done') process.stdout.write(`  run ${run}: errors idle ${idle.errors}, during ${load.errors}; round ${round.state}, ${round.rangesFailed} ranges failed\n`);
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    const median = sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    process.stdout.write(`\nPer process and window (idle / during): event-loop delay max and p99 (ms), CPU s, GC s (major / all kinds); anti-entropy requests of the window on each node: count, mean ms, count over 10 ms.\n\n`);
    process.stdout.write('| run | process | loop delay max ms | loop delay p99 ms | CPU s | GC s | digests during | versions during | purge during |\n');
    process.stdout.write('|---:|---|---:|---:|---:|---:|---:|---:|---:|\n');
    for (const line of details) process.stdout.write(line);
    process.stdout.write(`\np99 during / idle: ${sorted.map((r) => `${fmt(r, 2)}x`).join(', ')} (median ${fmt(median, 2)}x)\n`);
  } finally {
    await cluster.stop();
  }
}

/** The rows of one run's per-process table. */
function runDetails(run: number, names: readonly string[], idle: readonly WindowStats[], during: readonly WindowStats[]): string[] {
  return names.map((name, i) => {
    const route = (r: (typeof INTERNAL_ROUTES)[number]): string => {
      const { count, seconds, over10ms } = during[i].routes[r];
      return count === 0 ? '-' : `${count}, ${fmt((1000 * seconds) / count, 2)} ms, ${over10ms} > 10 ms`;
    };
    return `| ${run} | ${name} | ${fmt(idle[i].lagMaxMs)} / ${fmt(during[i].lagMaxMs)} | ${fmt(idle[i].lagP99Ms)} / ${fmt(during[i].lagP99Ms)} | ${fmt(idle[i].cpuS)} / ${fmt(during[i].cpuS)} | ${fmt(idle[i].gcMajorS, 2)}, ${fmt(idle[i].gcS, 2)} / ${fmt(during[i].gcMajorS, 2)}, ${fmt(during[i].gcS, 2)} | ${route('/internal/digests')} | ${route('/internal/versions')} | ${route('/internal/purge')} |\n`;
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`repair-load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
