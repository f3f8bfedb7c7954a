// `npm run bench`: kv side by side with a 3-member etcd cluster (Raft, fsync per commit) and a bare Node HTTP server
// (the ceiling of any Node front end here), in one run, with one load generator (wrk), on this machine. Starts a
// local kv cluster of its own (WAL_SYNC=always, N=3, W=2, R=2), runs wrk PUT and GET at each connection count, then
// `kv bench --batch 100` for bulk writes, then redis-benchmark against kv's RESP port and against a redis-server with
// an fsync per write, then adds a fourth data node under a PUT load (membership change: streaming rate and foreground
// p99), and writes docs/benchmarks.md. Compare ratios from the same run only: the machine may be shared
// and noisy.
//
// Needs: apt-get install -y wrk etcd-server etcd-client redis-tools redis-server (etcd, redis-benchmark and
// redis-server are skipped, with a note, when missing).
// usage: npm run bench -- [--conns 64,256] [--duration 8] [--resp-requests 100000] [--no-write]
// The CPU budget per request alone (the kv cluster, PUT and GET at the first connection count and bulk writes metered and profiled;
// printed, docs/benchmarks.md left as it is):
//        npm run bench -- --cpu-budget [--conns 64] [--duration 8]
// The costs of anti-entropy (scripts/bench/anti-entropy.ts), each run alone and written into its subsection of the
// Anti-entropy section, which a full run keeps as it is:
//        npm run bench -- --digest-cost [--pairs 3] [--conns 64] [--duration 8]
//        npm run bench -- --repair [--repair-keys 1000000]       (also: npm run bench:repair)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestCluster, freePort, repoRoot, request, waitForHealth, waitForPort, waitForSettled } from '@kv/testkit';
import { antiEntropyBench } from './anti-entropy';
import { fmt, parseWrk, preload, type WrkResult } from './tools';
import { CpuMeter, budgetTables, bundleModules, profileShares, splitBudget, type Budget, type BundleModule, type CpuProfile, type Measured } from './cpu-budget.mjs';

/** Time for every worker of a proxy to join (each waits the others' lease) before it is measured. */
const WORKERS_SETTLE_MS = 5000;

interface Row {
  system: string;
  conns: number;
  put: WrkResult | undefined;
  get: WrkResult | undefined;
}

const root = repoRoot();
const here = path.join(root, 'scripts', 'bench');
const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const conns = option('conns', '64,256').split(',').map(Number);
const durationS = Number(option('duration', '8'));
/** Requests per redis-benchmark figure with -P 16 (a fifth of it without pipelining). */
const respRequests = Number(option('resp-requests', '100000'));
/** Commands in flight per connection of redis-benchmark (its -P). */
const RESP_PIPELINE = 16;
const write = !args.includes('--no-write');

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/**
 * Runs wrk with a Lua script against `url`; two threads, `c` connections, `durationS` seconds, latency percentiles.
 * `scriptArgs` go to the script's `init` (after wrk's `--`).
 */
function wrk(script: string, url: string, c: number, ...scriptArgs: string[]): WrkResult {
  const out = spawnSync('wrk', wrkArgs(script, url, c, scriptArgs), { encoding: 'utf8' });
  return parseWrk(out.stdout + out.stderr);
}

/** {@link wrk} without blocking this process, so that it can watch the cluster meanwhile. */
function wrkInBackground(script: string, url: string, c: number): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn('wrk', wrkArgs(script, url, c, []), { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    proc.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    proc.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', () => resolve(parseWrk(text)));
  });
}

function wrkArgs(script: string, url: string, c: number, scriptArgs: readonly string[]): string[] {
  const argv = ['-t2', `-c${c}`, `-d${durationS}s`, '--latency', '-s', path.join(here, script), url];
  if (scriptArgs.length > 0) argv.push('--', ...scriptArgs);
  return argv;
}

/** One redis-benchmark figure: SET and GET, req/s and latency percentiles (ms). */
interface RespRow {
  system: string;
  clients: number;
  pipeline: number;
  set: { rps: number; p50Ms: number; p99Ms: number } | undefined;
  get: { rps: number; p50Ms: number; p99Ms: number } | undefined;
}

/**
 * Runs `redis-benchmark -t set,get -d 100` against 127.0.0.1:`port`: `clients` connections, `pipeline` commands in
 * flight on each, `requests` per command, keys drawn from 100,000 (`-r`), so GETs of keys not set yet answer nil.
 */
function redisBenchmark(system: string, port: number, clients: number, pipeline: number, requests: number): RespRow {
  const argv = ['-h', '127.0.0.1', '-p', String(port), '-t', 'set,get', '-P', String(pipeline), '-n', String(requests), '-d', '100', '-r', '100000', '-c', String(clients), '--csv'];
  const out = spawnSync('redis-benchmark', argv, { encoding: 'utf8', timeout: 600_000 });
  const figures = (test: string): RespRow['set'] => {
    const line = out.stdout.split('\n').find((l) => l.startsWith(`"${test}"`));
    if (line === undefined) return undefined;
    const cells = line.split(',').map((cell) => Number(cell.replace(/"/g, '')));
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    return { rps: cells[1], p50Ms: cells[4], p99Ms: cells[6] };
  };
  return { system, clients, pipeline, set: figures('SET'), get: figures('GET') };
}

/** A redis-server with an fsync per write (appendfsync always) and no snapshots, on a free loopback port. */
async function redisServer(dir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const proc = run('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', dir]);
  await waitForPort(port, 10_000);
  return {
    port,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((resolve) => (proc.exitCode !== null ? resolve(null) : proc.once('exit', resolve)));
    },
  };
}

function run(command: string, argv: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(command, argv, { env: { ...process.env, ...env }, stdio: 'ignore' });
}

async function etcdCluster(dir: string): Promise<{ leader: string; stop: () => Promise<void> }> {
  const base = await freePort();
  const ports = [0, 1, 2].map((i) => ({ client: base + 100 + i * 10, peer: base + 101 + i * 10 }));
  const cluster = ports.map((p, i) => `e${i}=http://127.0.0.1:${p.peer}`).join(',');
  const procs = ports.map((p, i) =>
    run('etcd', [
      '--name', `e${i}`, '--data-dir', path.join(dir, `e${i}`),
      '--listen-client-urls', `http://127.0.0.1:${p.client}`, '--advertise-client-urls', `http://127.0.0.1:${p.client}`,
      '--listen-peer-urls', `http://127.0.0.1:${p.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${p.peer}`,
      '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'kv-bench', '--log-level', 'error',
    ]),
  );
  const endpoints = ports.map((p) => `http://127.0.0.1:${p.client}`);
  let leader = '';
  for (let attempt = 0; attempt < 100 && leader === ''; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const status = spawnSync('etcdctl', ['--endpoints', endpoints.join(','), 'endpoint', 'status'], { encoding: 'utf8' });
    leader = status.stdout.split('\n').find((line) => line.split(', ')[4] === 'true')?.split(', ')[0] ?? '';
  }
  const stop = async (): Promise<void> => {
    for (const proc of procs) proc.kill('SIGTERM');
    await Promise.all(procs.map((proc) => new Promise((resolve) => (proc.exitCode !== null ? resolve(null) : proc.once('exit', resolve)))));
  };
  if (leader === '') {
    await stop();
    throw new Error('etcd did not elect a leader');
  }
  return { leader, stop };
}

/** What adding a fourth data node to three, under a PUT load, measured. */
interface MembershipFigures {
  keysPerNode: number;
  mibPerNode: number;
  idle: WrkResult;
  during: WrkResult;
  /** Seconds from the 202 to the end of the copy phase, and to the change's end. */
  copyS: number;
  totalS: number;
  keysStreamed: number;
  mibStreamed: number;
  /** Whether the copy phase outlasted the load (so that every request of `during` ran while ranges streamed). */
  coveredLoad: boolean;
}

/** Extra data loaded before the change, so that streaming it outlasts one load figure at the default rate. */
const MEMBERSHIP_EXTRA_KEYS = 48_000;
const MEMBERSHIP_EXTRA_VALUE_BYTES = 1024;

/**
 * Adds a fourth data node to the cluster while wrk writes through the proxy at `c` connections: PUT p50/p99 idle
 * (just before) and during the copy phase, the streaming rate (`kv_stream_bytes_total` over the copy phase), and how
 * long the change took.
 */
async function membershipChange(cluster: TestCluster, c: number): Promise<MembershipFigures> {
  await preload(cluster.proxyUrl, MEMBERSHIP_EXTRA_KEYS, MEMBERSHIP_EXTRA_VALUE_BYTES, 'bulk');
  const health = (await request(cluster.nodes[0].url, 'GET', '/health')).body as { keys: number; bytes: number };
  const idle = wrk('kv-put.lua', cluster.proxyUrl, c);
  const node = await cluster.addNode('node4');
  const started = performance.now();
  const res = await request(cluster.proxyUrl, 'POST', '/cluster/changes', { add: [{ id: node.id, url: cluster.nodeUrl(node.id) }] }, { 'content-type': 'application/json' });
  if (res.status !== 202) throw new Error(`membership change refused: ${res.status} ${JSON.stringify(res.body)}`);
  const load = wrkInBackground('kv-put.lua', cluster.proxyUrl, c);
  let copyEnded: number | undefined;
  let ended: number | undefined;
  let loadEnded: number | undefined;
  void load.then(() => (loadEnded = performance.now()));
  while (ended === undefined && performance.now() - started < 600_000) {
    const state = (await request(cluster.proxyUrl, 'GET', '/cluster')).body as { change: null | { phase: string } };
    if (copyEnded === undefined && (state.change === null || state.change.phase !== 'copy')) copyEnded = performance.now();
    if (state.change === null) ended = performance.now();
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const during = await load;
  if (copyEnded === undefined || ended === undefined) throw new Error('the membership change did not complete within 10 minutes');
  const metrics = String((await request(cluster.proxyUrl, 'GET', '/metrics')).body);
  const counter = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  return {
    keysPerNode: health.keys,
    mibPerNode: health.bytes / 2 ** 20,
    idle,
    during,
    copyS: (copyEnded - started) / 1000,
    totalS: (ended - started) / 1000,
    keysStreamed: counter('kv_stream_keys_total'),
    mibStreamed: counter('kv_stream_bytes_total') / 2 ** 20,
    coveredLoad: loadEnded === undefined || copyEnded >= loadEnded,
  };
}

/** The paragraph of docs/benchmarks.md on the membership change. */
function membershipReport(m: MembershipFigures | undefined, c: number): string {
  if (m === undefined) return 'Not measured in this run.';
  const ratio = (m.during.p99Ms / m.idle.p99Ms).toFixed(2);
  return [
    `Adding a fourth data node to three that hold ${fmt(m.keysPerNode)} keys (${fmt(m.mibPerNode, 1)} MiB) each, while wrk writes through the proxy at ${c} connections ` +
      `(\`STREAM_BYTES_PER_S\` at its default, 8 MiB/s):`,
    '',
    '| | PUT req/s | PUT p50 / p99 ms |',
    '|---|---:|---:|',
    `| idle, just before | ${fmt(m.idle.rps)} | ${fmt(m.idle.p50Ms, 1)} / ${fmt(m.idle.p99Ms, 1)} |`,
    `| during the copy phase | ${fmt(m.during.rps)} | ${fmt(m.during.p50Ms, 1)} / ${fmt(m.during.p99Ms, 1)} |`,
    '',
    `Foreground p99 during the change: **${ratio}x** idle. Streamed: ${fmt(m.keysStreamed)} entries, ${fmt(m.mibStreamed, 1)} MiB in ` +
      `${fmt(m.copyS, 1)} s of copy phase (**${fmt(m.mibStreamed / m.copyS, 1)} MiB/s**); the change completed (epoch +3) ${fmt(m.totalS, 1)} s after ` +
      `it was accepted.${m.coveredLoad ? '' : ' The copy phase ended before the load did: part of the load ran after it.'}`,
  ].join('\n');
}

/** The processes of a kv cluster by name (`proxy`, `node1`...), with their pids, for {@link CpuMeter}. */
function clusterPids(cluster: TestCluster): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const proc of [cluster.proxy, ...cluster.nodes.map((node) => node.process)]) {
    if (proc.pid === undefined) throw new Error(`${proc.name} is not running`);
    pids[proc.name] = proc.pid;
  }
  return pids;
}

/** The bulk figure's \`kv bench\` options: 100 writes per \`POST /batch\`, 16 connections. */
const BULK_ARGS = ['--duration', String(durationS), '--batch', '100', '--connections', '16', '--mix', 'set=1'];

/** The CPU per request metered over the figures of the CPU budget. */
interface MeteredFigures {
  put: Record<string, Measured>;
  get: Record<string, Measured>;
  /** Per key written. */
  bulk: Record<string, Measured>;
}

/**
 * A load against the cluster with every cluster process's CPU metered over it: µs per unit of work (`units` of the
 * load's result: requests completed, keys written).
 */
function meteredRun<T>(cluster: TestCluster, load: () => T, units: (result: T) => number): { result: T; cpu: Record<string, Measured> } {
  const meter = new CpuMeter(clusterPids(cluster));
  meter.start();
  const result = load();
  meter.stop();
  return { result, cpu: meter.perRequest(units(result)) };
}

/** A wrk figure against the cluster's proxy, metered: CPU per request. */
function metered(cluster: TestCluster, script: string, c: number): { result: WrkResult; cpu: Record<string, Measured> } {
  return meteredRun(cluster, () => wrk(script, cluster.proxyUrl, c), (result) => result.requests);
}

/** The bulk figure (\`kv bench --batch 100\`, {@link BULK_ARGS}), metered: CPU per key written. */
function meteredBulk(cluster: TestCluster): { result: ReturnType<typeof kvBench>; cpu: Record<string, Measured> } {
  return meteredRun(cluster, () => kvBench(cluster.proxyUrl, BULK_ARGS), (result) => result.keys);
}

/**
 * Stops every process of the cluster and starts it again with `execArgv` (the data nodes first, then the proxy, which
 * waits until it is ready and every node counts).
 */
async function restartCluster(cluster: TestCluster, execArgvOf: (name: string) => string[]): Promise<void> {
  await cluster.proxy.stop();
  await Promise.all(cluster.nodes.map((node) => node.process.stop()));
  for (const node of cluster.nodes) {
    node.process.execArgv = execArgvOf(node.id);
    await cluster.startNode(node);
  }
  cluster.proxy.execArgv = execArgvOf(cluster.proxy.name);
  await cluster.startProxy();
  await waitForSettled(cluster.proxyUrl, undefined, 30_000);
}

/** The modules of each esbuild bundle a profile's frames point into, read once. */
const bundles = new Map<string, BundleModule[] | undefined>();
function modulesOf(url: string): BundleModule[] | undefined {
  if (!url.startsWith('file://') || !url.includes('/dist/apps/')) return undefined;
  if (!bundles.has(url)) bundles.set(url, bundleModules(readFileSync(fileURLToPath(url), 'utf8')));
  return bundles.get(url);
}

/** One CPU budget: an operation of one process. */
interface BudgetRow {
  op: string;
  process: string;
  budget: Budget;
}

/**
 * For each figure (`op` with the load that makes it): restarts the cluster's processes with `--cpu-prof`, runs the figure
 * again, stops them (each writes its profile as it exits) and splits `measured` (the same figure, unprofiled) by the
 * profile's shares. A profile slows its process: only the split comes from it. The processes run without a profiler
 * again afterwards.
 */
async function profiledBudget(
  cluster: TestCluster,
  dir: string,
  figures: readonly { op: string; load: () => void; measured: Record<string, Measured> }[],
): Promise<BudgetRow[]> {
  const rows: BudgetRow[] = [];
  try {
    for (const figure of figures) {
      const profiles = (name: string): string => path.join(dir, figure.op, name);
      await restartCluster(cluster, (name) => ['--cpu-prof', '--cpu-prof-dir', profiles(name)]);
      figure.load();
      await cluster.proxy.stop();
      await Promise.all(cluster.nodes.map((node) => node.process.stop()));
      for (const [name, measured] of Object.entries(figure.measured)) {
        const files = readdirSync(profiles(name)).filter((file) => file.endsWith('.cpuprofile'));
        if (files.length !== 1) throw new Error(`${name}: ${files.length} CPU profiles in ${profiles(name)}, expected one`);
        const profile = JSON.parse(readFileSync(path.join(profiles(name), files[0]), 'utf8')) as CpuProfile;
        rows.push({ op: figure.op, process: name, budget: splitBudget(measured, profileShares(profile, modulesOf)) });
      }
    }
  } finally {
    await restartCluster(cluster, () => []);
  }
  return rows;
}

/** The CPU budget of kv's PUT and GET at `c` connections and of bulk writes: the figures metered, then profiled; the tables. */
async function cpuBudget(cluster: TestCluster, dir: string, c: number, cpu: MeteredFigures): Promise<string> {
  const rows = await profiledBudget(cluster, dir, [
    { op: 'PUT', load: () => void wrk('kv-put.lua', cluster.proxyUrl, c), measured: cpu.put },
    { op: 'GET', load: () => void wrk('kv-get.lua', cluster.proxyUrl, c), measured: cpu.get },
    { op: 'bulk key', load: () => void kvBench(cluster.proxyUrl, BULK_ARGS), measured: cpu.bulk },
  ]);
  return budgetTables(rows);
}

/** `--cpu-budget`: only the CPU budget per request, printed. */
async function cpuBudgetOnly(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'kv-bench-'));
  try {
    const cluster = await TestCluster.start({ relays: false, nodeEnv: { WAL_SYNC: 'always', LOG_LEVEL: 'warn' }, proxyEnv: { LOG_LEVEL: 'warn' } });
    try {
      await preload(cluster.proxyUrl);
      const put = metered(cluster, 'kv-put.lua', conns[0]);
      const get = metered(cluster, 'kv-get.lua', conns[0]);
      const bulk = meteredBulk(cluster);
      const tables = await cpuBudget(cluster, path.join(scratch, 'profiles'), conns[0], { put: put.cpu, get: get.cpu, bulk: bulk.cpu });
      process.stdout.write(
        `PUT ${fmt(put.result.rps)} req/s, GET ${fmt(get.result.rps)} req/s at ${conns[0]} connections; bulk ${fmt(bulk.result.keysPerS)} keys/s\n\n${cpuBudgetSection(tables)}\n`,
      );
    } finally {
      await cluster.stop();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The "CPU per request" subsection of docs/benchmarks.md (also what `--cpu-budget` prints). */
function cpuBudgetSection(tables: string): string {
  return `### CPU per request

CPU µs per request of each process of kv (N=3, W=2, R=2, fsync), from its own counters over the PUT and GET figures at
${conns[0]} connections and per key of the bulk figure (\`POST /batch\`, 100 writes a request), split by where a CPU profile
of the same figure saw it go (see Method: the totals are measured, the kernel columns are a rough guide).

${tables}`;
}

function kvBench(server: string, extra: string[]): { keysPerS: number; p99Ms: number; keys: number } {
  const out = spawnSync(process.execPath, [path.join(root, 'dist/apps/client/main.js'), '--server', server, '--json', 'bench', ...extra], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`kv bench failed: ${out.stderr}`);
  const report = JSON.parse(out.stdout);
  return { keysPerS: report.total.perSecond, p99Ms: report.requests.latencyMs?.p99 ?? NaN, keys: report.total.count };
}

async function main(): Promise<void> {
  if (!has('wrk')) {
    process.stderr.write('bench: wrk is missing: apt-get install -y wrk (and etcd-server etcd-client for the etcd column)\n');
    process.exit(2);
  }
  const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', 'proxy', 'datanode', 'client', '--output-style=static'], {
    cwd: root,
    env: { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false' },
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  if (args.includes('--digest-cost') || args.includes('--repair')) {
    // Only these measurements, into their subsections of docs/benchmarks.md#anti-entropy.
    await antiEntropyBench(args, write);
    return;
  }
  if (args.includes('--cpu-budget')) {
    await cpuBudgetOnly();
    return;
  }
  const rows: Row[] = [];
  const respRows: RespRow[] = [];
  const respSkipped: string[] = [];
  const withResp = has('redis-benchmark');
  if (!withResp) respSkipped.push('redis-benchmark is missing (apt-get install -y redis-tools): no RESP figures');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'kv-bench-'));
  try {
    // etcd first: it is the reference every kv figure is divided by.
    if (has('etcd') && has('etcdctl')) {
      const etcd = await etcdCluster(path.join(scratch, 'etcd'));
      try {
        for (const c of conns) rows.push({ system: 'etcd (3 members)', conns: c, put: wrk('etcd.lua', etcd.leader, c, 'put'), get: wrk('etcd.lua', etcd.leader, c, 'get') });
      } finally {
        await etcd.stop();
      }
    } else {
      process.stderr.write('bench: etcd is missing (apt-get install -y etcd-server etcd-client): no etcd column\n');
    }

    const barePort = await freePort();
    const bare = run(process.execPath, [path.join(here, 'bare-node-server.js')], { PORT: String(barePort) });
    try {
      await waitForHealth(`http://127.0.0.1:${barePort}/health`);
      for (const c of conns) rows.push({ system: 'bare Node server', conns: c, put: wrk('kv-put.lua', `http://127.0.0.1:${barePort}`, c), get: wrk('kv-get.lua', `http://127.0.0.1:${barePort}`, c) });
    } finally {
      bare.kill('SIGTERM');
    }

    const cluster = await TestCluster.start({ relays: false, resp: withResp, nodeEnv: { WAL_SYNC: 'always', LOG_LEVEL: 'warn' }, proxyEnv: { LOG_LEVEL: 'warn' } });
    let bulk: { keysPerS: number; p99Ms: number };
    let membership: MembershipFigures | undefined;
    let cpuTables: string;
    try {
      await preload(cluster.proxyUrl);
      const cpu: Partial<MeteredFigures> = {};
      for (const c of conns) {
        const put = metered(cluster, 'kv-put.lua', c);
        const get = metered(cluster, 'kv-get.lua', c);
        rows.push({ system: 'kv (N=3, W=2, R=2, fsync)', conns: c, put: put.result, get: get.result });
        // The first connection count's figures give the CPU budget per request.
        if (c === conns[0]) {
          cpu.put = put.cpu;
          cpu.get = get.cpu;
        }
      }
      const bulkMetered = meteredBulk(cluster);
      bulk = bulkMetered.result;
      cpu.bulk = bulkMetered.cpu;
      if (cpu.put === undefined || cpu.get === undefined) throw new Error('the CPU budget was not metered');
      cpuTables = await cpuBudget(cluster, path.join(scratch, 'profiles'), conns[0], { put: cpu.put, get: cpu.get, bulk: cpu.bulk });
      // One data node's own single-key internal API (no proxy, no replication; fsync per write): the figure
      // the cluster is compared with in docs/ARCHITECTURE.md.
      const node = cluster.nodes[0].url;
      rows.push({ system: 'one data node, internal API', conns: conns[0], put: wrk('node-put.lua', node, conns[0]), get: wrk('node-get.lua', node, conns[0]) });
      // The same proxy with its data routes served through the Express router instead of the lean handler.
      await cluster.restartProxy({ TEST_EXPRESS_DATA_ROUTES: 'true' });
      rows.push({
        system: 'kv, data routes through Express',
        conns: conns[0],
        put: wrk('kv-put.lua', cluster.proxyUrl, conns[0]),
        get: wrk('kv-get.lua', cluster.proxyUrl, conns[0]),
      });
      // Two worker processes sharing the proxy's port (PROXY_WORKERS=2), each a coordinator: they know of each other,
      // so writes take two phases. The second worker takes connections a lease after the first (a few seconds).
      await cluster.restartProxy({ TEST_EXPRESS_DATA_ROUTES: 'false', PROXY_WORKERS: '2' });
      await new Promise((resolve) => setTimeout(resolve, WORKERS_SETTLE_MS));
      for (const c of conns) {
        rows.push({ system: 'kv, 2 proxy workers (PROXY_WORKERS=2)', conns: c, put: wrk('kv-put.lua', cluster.proxyUrl, c), get: wrk('kv-get.lua', cluster.proxyUrl, c) });
      }
      await cluster.restartProxy({ PROXY_WORKERS: '1' });
      const respPort = cluster.respPort;
      if (withResp && respPort !== undefined) {
        respRows.push(redisBenchmark('kv over RESP', respPort, conns[0], RESP_PIPELINE, respRequests));
        respRows.push(redisBenchmark('kv over RESP', respPort, conns[0], 1, Math.ceil(respRequests / 5)));
      }
      membership = await membershipChange(cluster, conns[0]);
    } finally {
      await cluster.stop();
    }

    if (withResp && has('redis-server')) {
      const redis = await redisServer(path.join(scratch, 'redis'));
      try {
        respRows.push(redisBenchmark('redis-server (appendfsync always)', redis.port, conns[0], RESP_PIPELINE, respRequests));
        respRows.push(redisBenchmark('redis-server (appendfsync always)', redis.port, conns[0], 1, Math.ceil(respRequests / 5)));
      } finally {
        await redis.stop();
      }
    } else if (withResp) {
      respSkipped.push('redis-server is missing (apt-get install -y redis-server): no Redis column');
    }
    for (const line of respSkipped) process.stderr.write(`bench: skipped: ${line}\n`);

    const lines: string[] = [];
    const etcdOf = (c: number): Row | undefined => rows.find((r) => r.system.startsWith('etcd') && r.conns === c);
    lines.push('| system | connections | PUT req/s | PUT p50 / p99 ms | GET req/s | GET p50 / p99 ms | PUT vs etcd | GET vs etcd |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      const reference = etcdOf(row.conns);
      const ratio = (mine: WrkResult | undefined, theirs: WrkResult | undefined): string =>
        mine === undefined || theirs === undefined ? '-' : `${(mine.rps / theirs.rps).toFixed(2)}x`;
      lines.push(
        `| ${row.system} | ${row.conns} | ${fmt(row.put?.rps)} | ${fmt(row.put?.p50Ms, 1)} / ${fmt(row.put?.p99Ms, 1)} | ${fmt(row.get?.rps)} | ` +
          `${fmt(row.get?.p50Ms, 1)} / ${fmt(row.get?.p99Ms, 1)} | ${ratio(row.put, reference?.put)} | ${ratio(row.get, reference?.get)} |`,
      );
    }
    const errors = rows.filter((r) => (r.put?.errors ?? 0) + (r.get?.errors ?? 0) > 0).map((r) => `${r.system} at ${r.conns}: ${(r.put?.errors ?? 0) + (r.get?.errors ?? 0)} errors`);
    const table = lines.join('\n');
    const bulkLine = `Bulk writes through \`POST /batch\` (100 operations per request, 16 connections, \`kv bench --batch 100\`): **${fmt(bulk.keysPerS)} keys/s**, request p99 ${fmt(bulk.p99Ms, 1)} ms.`;
    const kvHttp = rows.find((r) => r.system.startsWith('kv (') && r.conns === conns[0]);
    const respTable = respReport(respRows, kvHttp, respSkipped);
    const membershipText = membershipReport(membership, conns[0]);
    const cpuText = cpuBudgetSection(cpuTables);
    process.stdout.write(`${table}\n\n${bulkLine}\n${errors.length > 0 ? `\nerrors: ${errors.join('; ')}\n` : ''}\n${cpuText}\n\n${respTable}\n\n${membershipText}\n`);
    if (write) writeReport(table, bulkLine, errors, cpuText, respTable, membershipText);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The RESP table: each redis-benchmark figure, with kv over RESP against redis-server and against kv over HTTP. */
function respReport(respRows: RespRow[], kvHttp: Row | undefined, skipped: string[]): string {
  if (respRows.length === 0) return skipped.map((line) => `Skipped: ${line}.`).join('\n');
  const redisOf = (pipeline: number): RespRow | undefined => respRows.find((r) => r.system.startsWith('redis-server') && r.pipeline === pipeline);
  const ratio = (mine: number | undefined, theirs: number | undefined): string =>
    mine === undefined || theirs === undefined || Number.isNaN(mine) || Number.isNaN(theirs) ? '-' : `${(mine / theirs).toFixed(2)}x`;
  const lines = [
    '| system | clients | pipeline (-P) | SET req/s | SET p50 / p99 ms | GET req/s | GET p50 / p99 ms | SET vs redis-server | GET vs redis-server |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of respRows) {
    const redis = redisOf(row.pipeline);
    lines.push(
      `| ${row.system} | ${row.clients} | ${row.pipeline} | ${fmt(row.set?.rps)} | ${fmt(row.set?.p50Ms, 1)} / ${fmt(row.set?.p99Ms, 1)} | ` +
        `${fmt(row.get?.rps)} | ${fmt(row.get?.p50Ms, 1)} / ${fmt(row.get?.p99Ms, 1)} | ${ratio(row.set?.rps, redis?.set?.rps)} | ${ratio(row.get?.rps, redis?.get?.rps)} |`,
    );
  }
  const unpipelined = respRows.find((r) => r.system === 'kv over RESP' && r.pipeline === 1);
  const pipelined = respRows.find((r) => r.system === 'kv over RESP' && r.pipeline === RESP_PIPELINE);
  if (kvHttp !== undefined && unpipelined !== undefined) {
    lines.push(
      '',
      `kv over RESP beside kv over HTTP, same run, ${kvHttp.conns} connections, one request in flight on each: ` +
        `SET ${ratio(unpipelined.set?.rps, kvHttp.put?.rps)} of HTTP PUT, GET ${ratio(unpipelined.get?.rps, kvHttp.get?.rps)} of HTTP GET` +
        (pipelined === undefined
          ? '.'
          : `; with ${RESP_PIPELINE} commands in flight per connection: SET ${ratio(pipelined.set?.rps, kvHttp.put?.rps)}, GET ${ratio(pipelined.get?.rps, kvHttp.get?.rps)}.`),
    );
  }
  for (const line of skipped) lines.push('', `Skipped: ${line}.`);
  return lines.join('\n');
}

/**
 * The sections of docs/benchmarks.md that a full run does not measure, as they stand (empty when there are none), for
 * it to keep: every top-level section after "Last run" (the Anti-entropy figures, the tombstone soak of
 * `npm run chaos -- --soak`), each rewritten only by its own command.
 */
function keptSections(): string {
  const file = path.join(root, 'docs/benchmarks.md');
  if (!existsSync(file)) return '';
  const doc = readFileSync(file, 'utf8');
  const lastRun = doc.indexOf('\n## Last run');
  const start = doc.indexOf('\n## ', lastRun < 0 ? 0 : lastRun + 1);
  return start < 0 ? '' : doc.slice(start + 1).trimEnd();
}

function writeReport(table: string, bulkLine: string, errors: string[], cpuText: string, respTable: string, membershipText: string): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const kept = keptSections();
  const doc = `# Benchmarks

\`npm run bench\` (scripts/bench/run.ts) measures, in one run and with one load generator, kv beside a 3-member etcd
cluster and a bare Node HTTP server, on the machine it runs on. Compare the ratios of one run, never absolute figures
of different runs: the machine may be shared and noisy.

## Method

- **kv**: a local cluster of the built apps, 1 proxy and 3 data nodes on loopback, \`WAL_SYNC=always\` (every write
  acknowledged only after \`fdatasync\` on 2 of its 3 replicas), N=3, W=2, R=2, blocking read repair, logs at \`warn\`.
  A lone proxy writes in one phase; with \`PROXY_WORKERS=2\` (two coordinators on one port) writes take two phases (a
  read of the newest version first), as with any number of proxies (docs/ARCHITECTURE.md, Several coordinators).
- **etcd**: 3 members on loopback (Raft, fsync per commit), through its v3 JSON gateway on the leader.
- **bare Node server**: \`scripts/bench/bare-node-server.js\`, a Node http server that parses each JSON body into a Map
  and answers: no framework, no replication, no disk. The ceiling of any Node HTTP front end on this machine.
- **Load**: wrk, 2 threads, ${durationS} s per figure; PUT of \`key<1..100000>\` with a 100-byte value, then GET of random keys of
  that space. For kv every key is written first (\`POST /batch\`), so every GET finds a value; the etcd and bare-Node
  GET runs follow their PUT runs. Lua scripts in \`scripts/bench/\`.
- **Bulk**: \`kv bench --batch 100 --mix set=1 --connections 16\` for ${durationS} s.
- **RESP**: \`redis-benchmark -t set,get -d 100 -r 100000 -c ${conns[0]}\`, with \`-P ${RESP_PIPELINE}\` (${respRequests.toLocaleString('en-US')}
  requests per command) and without pipelining (a fifth of that), against kv's RESP port (the same cluster, after the
  HTTP figures) and against a \`redis-server --appendonly yes --appendfsync always --save ''\` on loopback: one
  process, one copy, an fsync per write (per event-loop turn, which groups pipelined writes) against kv's three
  replicas and two fsyncs before an answer. GETs of keys not written yet answer nil on both.
- **Membership change**: on the same kv cluster, after the figures above, ${MEMBERSHIP_EXTRA_KEYS.toLocaleString('en-US')} more keys of
  ${MEMBERSHIP_EXTRA_VALUE_BYTES.toLocaleString('en-US')} bytes (so that streaming outlasts a load figure), then a PUT figure idle and one while
  \`POST /cluster/changes\` adds a fourth data node; \`GET /cluster\` is polled for the phases and \`/metrics\` gives what was streamed.
- **CPU per request** (also alone, printed and not written here: \`npm run bench -- --cpu-budget\`): over the kv PUT
  and GET figures at ${conns[0]} connections and the bulk figure, each process's utime and stime (\`/proc/<pid>/stat\`) divided
  by the requests wrk completed (by the keys written, for bulk). Then the four processes are restarted with \`node --cpu-prof\`, the same figure runs again and they are
  stopped (each writes its profile as it exits); a profile slows its process, so only the split comes from it. Each
  frame's self time goes to a category by its source file (the bundle's \`// libs/...\` module comments map a line to
  its file), package or Node module (\`scripts/bench/cpu-budget.mjs\`): HTTP serving (libs/service's server, the apps'
  handlers, Node's HTTP server, Express), replication client (the node client and batching transport, axios, Node's
  HTTP client), encoding (libs/protocol's codecs and bodies), coordination (the rest of libs/quorum and libs/ring),
  store & digests (the key index with its range digests, the replica service, libs/wal's in-memory map), WAL (the
  rest of libs/wal), GC, event loop (timers, microtasks, stream callbacks), other;
  a frame with none of its own takes its caller's; idle and startup are left out. User CPU is split by these shares, system CPU by
  the samples of the native calls that enter the kernel
  from JavaScript: socket writes, the WAL's file writes and \`fdatasync\`. Socket reads and polling have no frames,
  and the WAL's writes and fsyncs run in libuv's thread pool, which the profiler does not sample (their columns weigh
  the calls that hand them over): the kernel columns are a rough guide.
- **Anti-entropy** (\`npm run bench -- --digest-cost\`, \`npm run bench -- --repair\`, each alone; a full run keeps their figures):
  the cost of the range digests on the write path is measured on a cluster of its own (as **kv** above), with wrk PUT at
  64 connections for 8 s per run after a 2 s warm-up, the three data nodes restarted before each run with their
  digests kept or not (\`TEST_FAULTS=true TEST_RANGE_DIGESTS=off\`), in pairs of alternating order; beside req/s, the
  data nodes' CPU time (utime + stime of \`/proc/<pid>/stat\`) over the run divided by the PUTs acknowledged, far less
  disturbed by the machine's noise. A full repair: 1 proxy and 3 data nodes (\`WAL_SYNC=always\`, no scheduled round),
  1,000,000 keys of 100 bytes loaded through \`POST /batch\`, then \`POST /cluster/repair\` polled through
  \`GET /cluster/repair\` until it ends (time and counts from its summary); then node3 is killed, 1% of the keys are
  written again, the proxy is stopped and its hint log deleted (so that hints cannot repair node3), node3 and the proxy
  are started again and a round runs, then another, which must find nothing. The proxy reaches each node through a
  TCP relay in the benchmark's process that counts the bytes both ways. Memory per key:
  \`node scripts/measure-memory.mjs\` (resident memory of each data node before and after the keys are written through the
  proxy, then after as many deletes of keys never written, each of which leaves a tombstone).
- **Machine**: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node.js ${process.version}.

## Last run (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)

${table}

${bulkLine}
${errors.length > 0 ? `\nErrors during the run: ${errors.join('; ')}.\n` : ''}
${cpuText}

### RESP

${respTable}

### Membership change

${membershipText}

See docs/ARCHITECTURE.md (Data path) for where the time goes and why the data path is built as it is.
${kept === '' ? '' : `\n${kept}\n`}`;
  writeFileSync(path.join(root, 'docs/benchmarks.md'), doc);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
