// The costs of anti-entropy, for docs/benchmarks.md#anti-entropy:
//  - `--digest-cost`: what keeping the range digests up to date costs on the write path. PUT through the proxy with
//    wrk, the data nodes restarted in turn with their digests kept and not kept (`TEST_RANGE_DIGESTS=off`), in pairs
//    whose order alternates; for each run the throughput and the data nodes' CPU time per PUT (utime + stime of
//    /proc/<pid>/stat over the run, which the machine's noise disturbs far less than throughput).
//  - `--repair`: a full repair round (`POST /cluster/repair`) of a cluster holding `--repair-keys` keys (default
//    1,000,000) of 100 bytes, when the replicas agree and after 1% of the keys changed while one node was down and the
//    proxy's hints were lost; its time, the bytes between the proxy and the data nodes (counted by the relays the proxy
//    reaches them through), and the round's summary; then a second round, which must find nothing.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestCluster, repoRoot, request, waitForHealth, waitForSettled } from '@kv/testkit';
import { fmt, parseWrk, preload, type WrkResult } from './tools';
import { CLOCK_TICKS, parseProcStat } from './cpu-budget.mjs';

const root = repoRoot();
const here = path.join(root, 'scripts', 'bench');

/** CPU time (user + system) a process has used so far, in µs, from /proc/<pid>/stat. */
function cpuMicros(pid: number): number {
  const { utime, stime } = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return ((utime + stime) / CLOCK_TICKS) * 1e6;
}

function nodesCpuMicros(cluster: TestCluster): number {
  return cluster.nodes.reduce((sum, node) => sum + cpuMicros(node.process.pid as number), 0);
}

/** wrk with `script` against `url`: 2 threads, `c` connections, `durationS` seconds. */
function wrk(script: string, url: string, c: number, durationS: number): WrkResult {
  const out = spawnSync('wrk', ['-t2', `-c${c}`, `-d${durationS}s`, '--latency', '-s', path.join(here, script), url], { encoding: 'utf8' });
  return parseWrk(out.stdout + out.stderr);
}

// ---------------------------------------------------------------------------------------------------------------
// Digests on the write path

/** One PUT run with the digests kept (`on`) or not (`off`). */
export interface DigestRun {
  digests: 'on' | 'off';
  put: WrkResult;
  /** CPU µs of the three data nodes together per PUT acknowledged. */
  nodeCpuUsPerPut: number;
}

export interface DigestCostOptions {
  pairs: number;
  conns: number;
  durationS: number;
}

/** Seconds of PUT load after each restart of the nodes, before the measured run (warms the JIT and the connections). */
const WARMUP_S = 2;

/** Restarts every data node with its digests `digests`, and waits until the proxy is ready again. */
async function restartNodes(cluster: TestCluster, digests: 'on' | 'off'): Promise<void> {
  for (const node of cluster.nodes) {
    await node.process.stop();
    node.process.env.TEST_RANGE_DIGESTS = digests;
    await cluster.startNode(node);
  }
  await waitForHealth(`${cluster.proxyUrl}/health/ready`, 30_000);
  await waitForSettled(cluster.proxyUrl, undefined, 30_000);
}

export async function digestCost(options: DigestCostOptions): Promise<DigestRun[]> {
  const cluster = await TestCluster.start({
    relays: false,
    nodeEnv: { WAL_SYNC: 'always', LOG_LEVEL: 'warn', TEST_FAULTS: 'true', TEST_RANGE_DIGESTS: 'on' },
    proxyEnv: { LOG_LEVEL: 'warn', ANTI_ENTROPY_INTERVAL_MS: '0' },
  });
  const runs: DigestRun[] = [];
  try {
    await preload(cluster.proxyUrl);
    for (let pair = 0; pair < options.pairs; pair++) {
      // Alternate the order in each pair, so that a drift of the machine's load favours neither.
      const order: ('on' | 'off')[] = pair % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      for (const digests of order) {
        await restartNodes(cluster, digests);
        wrk('kv-put.lua', cluster.proxyUrl, options.conns, WARMUP_S);
        const before = nodesCpuMicros(cluster);
        const put = wrk('kv-put.lua', cluster.proxyUrl, options.conns, options.durationS);
        const used = nodesCpuMicros(cluster) - before;
        runs.push({ digests, put, nodeCpuUsPerPut: used / put.requests });
        process.stderr.write(`bench: digests ${digests}: ${fmt(put.rps)} PUT/s, ${fmt(used / put.requests, 1)} node CPU µs per PUT\n`);
      }
    }
  } finally {
    await cluster.stop();
  }
  return runs;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The subsection of docs/benchmarks.md on the digests' cost. */
export function digestCostReport(runs: DigestRun[], options: DigestCostOptions): string {
  const of = (digests: 'on' | 'off'): DigestRun[] => runs.filter((run) => run.digests === digests);
  const lines = [
    `PUT through the proxy at ${options.conns} connections, ${options.durationS} s per run, the three data nodes restarted before each run with their ` +
      `digests kept (\`on\`, the default) or not (\`TEST_RANGE_DIGESTS=off\`), ${options.pairs} pairs in alternating order:`,
    '',
    '| run | digests | PUT req/s | PUT p50 / p99 ms | data nodes CPU µs per PUT |',
    '|---:|---|---:|---:|---:|',
    ...runs.map((run, i) => `| ${i + 1} | ${run.digests} | ${fmt(run.put.rps)} | ${fmt(run.put.p50Ms, 1)} / ${fmt(run.put.p99Ms, 1)} | ${fmt(run.nodeCpuUsPerPut, 1)} |`),
  ];
  const rpsOn = median(of('on').map((run) => run.put.rps));
  const rpsOff = median(of('off').map((run) => run.put.rps));
  const cpuOn = median(of('on').map((run) => run.nodeCpuUsPerPut));
  const cpuOff = median(of('off').map((run) => run.nodeCpuUsPerPut));
  const errors = runs.reduce((sum, run) => sum + run.put.errors, 0);
  const signed = (n: number, digits: number): string => `${n >= 0 ? '+' : ''}${fmt(n, digits)}`;
  const spread = (values: number[], digits: number): string => `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}`;
  lines.push(
    '',
    `Medians: **${fmt(rpsOn)} PUT/s with digests, ${fmt(rpsOff)} without (${signed((rpsOn / rpsOff - 1) * 100, 1)}%)**; the data nodes' CPU per PUT ` +
      `(three replicas' writes together) **${fmt(cpuOn, 1)} µs with digests, ${fmt(cpuOff, 1)} µs without (${signed(cpuOn - cpuOff, 1)} µs, ` +
      `${signed((cpuOn / cpuOff - 1) * 100, 1)}%)**. Runs of the same kind spread over ${spread(of('on').map((run) => run.put.rps), 0)} and ` +
      `${spread(of('off').map((run) => run.put.rps), 0)} PUT/s, ${spread(of('on').map((run) => run.nodeCpuUsPerPut), 1)} and ` +
      `${spread(of('off').map((run) => run.nodeCpuUsPerPut), 1)} µs (with, without): a difference of medians inside that spread is the ` +
      `machine's noise, not the digests.${errors > 0 ? ` Errors during the runs: ${errors}.` : ''}`,
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// A full repair

export interface RepairOptions {
  keys: number;
  valueBytes: number;
  /** Keys made to differ on one replica before the second round. */
  differing: number;
}

/** One repair round as measured. */
export interface RepairRound {
  label: string;
  /** From the round's summary (`GET /cluster/repair`). */
  seconds: number;
  ranges: number;
  rangesFailed: number;
  differences: number;
  repaired: number;
  repairBytes: number;
  /** Bytes through the relays during the round, proxy to nodes and back, less the background (probes, leases). */
  bytesToNodes: number;
  bytesFromNodes: number;
  /** The background traffic measured idle just before the round, both ways, in bytes per second. */
  backgroundBytesPerS: number;
}

export interface RepairFigures {
  options: RepairOptions;
  loadS: number;
  keysPerNode: number;
  mibPerNode: number;
  rounds: RepairRound[];
}

function relayBytes(cluster: TestCluster): { to: number; from: number } {
  return cluster.nodes.reduce((sum, node) => ({ to: sum.to + node.relay.bytesToTarget, from: sum.from + node.relay.bytesFromTarget }), { to: 0, from: 0 });
}

/** Idle seconds over which the background traffic between the proxy and the nodes is measured. */
const BACKGROUND_S = 5;

/** Bytes per second between the proxy and the nodes, both ways, over {@link BACKGROUND_S} idle seconds. */
async function backgroundRate(cluster: TestCluster): Promise<number> {
  const before = relayBytes(cluster);
  await new Promise((resolve) => setTimeout(resolve, BACKGROUND_S * 1000));
  const after = relayBytes(cluster);
  return (after.to - before.to + after.from - before.from) / BACKGROUND_S;
}

/**
 * Waits until the traffic between the proxy and the nodes has settled to its background (below
 * {@link QUIET_BYTES_PER_S} for two seconds in a row): after a load the proxy still sends the writes its slowest
 * replica has not taken yet (it answered at W=2).
 */
async function waitQuiet(cluster: TestCluster): Promise<void> {
  let quiet = 0;
  for (let s = 0; s < 600 && quiet < 2; s++) {
    const before = relayBytes(cluster);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = relayBytes(cluster);
    quiet = after.to - before.to + after.from - before.from < QUIET_BYTES_PER_S ? quiet + 1 : 0;
  }
  if (quiet < 2) throw new Error('the traffic between the proxy and the nodes did not settle within 10 minutes');
}

/** Traffic between the proxy and the three nodes, both ways, below which the cluster counts as idle. */
const QUIET_BYTES_PER_S = 16 * 1024;

async function repairRound(cluster: TestCluster, label: string): Promise<RepairRound> {
  await waitQuiet(cluster);
  const background = await backgroundRate(cluster);
  const before = relayBytes(cluster);
  const wallStart = performance.now();
  const started = await request(cluster.proxyUrl, 'POST', '/cluster/repair', {}, { 'content-type': 'application/json' });
  if (started.status !== 202 && started.status !== 200) throw new Error(`repair refused: ${started.status} ${JSON.stringify(started.body)}`);
  let status = started.body;
  while (status.state === 'running' && performance.now() - wallStart < 1_800_000) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = (await request(cluster.proxyUrl, 'GET', '/cluster/repair')).body;
  }
  const wallS = (performance.now() - wallStart) / 1000;
  const after = relayBytes(cluster);
  if (status.state === 'running') throw new Error('the repair round did not end within 30 minutes');
  const seconds = (status.finishedAt - status.startedAt) / 1000;
  // The background traffic splits about evenly both ways (small requests, small answers).
  const backgroundHalf = (background * wallS) / 2;
  const round: RepairRound = {
    label,
    seconds,
    ranges: status.rangesTotal,
    rangesFailed: status.rangesFailed,
    differences: status.differences,
    repaired: status.repaired,
    repairBytes: status.bytes,
    bytesToNodes: Math.max(0, after.to - before.to - backgroundHalf),
    bytesFromNodes: Math.max(0, after.from - before.from - backgroundHalf),
    backgroundBytesPerS: background,
  };
  process.stderr.write(`bench: repair (${label}): ${JSON.stringify({ ...round, rawTo: after.to - before.to, rawFrom: after.from - before.from, wallS })}\n`);
  return round;
}

/** The directories of a proxy's hint logs (its own, or one per worker). */
function hintDirs(proxyDataDir: string): string[] {
  const dirs = [path.join(proxyDataDir, 'hints')];
  for (const entry of readdirSync(proxyDataDir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.startsWith('worker-')) dirs.push(path.join(proxyDataDir, entry.name, 'hints'));
  }
  return dirs;
}

export async function repairBench(options: RepairOptions): Promise<RepairFigures> {
  // Through relays (the default): they count the bytes between the proxy and each node.
  const cluster = await TestCluster.start({
    nodeEnv: { WAL_SYNC: 'always', LOG_LEVEL: 'warn' },
    // Probes at the proxy's default period rather than the test clusters' 200 ms; no scheduled round.
    proxyEnv: { LOG_LEVEL: 'warn', ANTI_ENTROPY_INTERVAL_MS: '0', HEALTH_INTERVAL_MS: '1000' },
  });
  try {
    const loadStart = performance.now();
    await preload(cluster.proxyUrl, options.keys, options.valueBytes, 'key');
    const loadS = (performance.now() - loadStart) / 1000;
    process.stderr.write(`bench: loaded ${fmt(options.keys)} keys in ${fmt(loadS, 1)} s\n`);
    const rounds: RepairRound[] = [];
    rounds.push(await repairRound(cluster, 'replicas agree'));
    // Read once every replica has taken every write (the load was answered at W=2).
    const health = (await request(cluster.nodes[0].url, 'GET', '/health')).body as { keys: number; bytes: number };

    // 1% of the keys get new versions while node3 is down, and the proxy's hints for it are lost: only anti-entropy
    // can bring node3 up to date.
    await cluster.killNode('node3');
    await preload(cluster.proxyUrl, options.differing, options.valueBytes, 'key', 'y');
    await cluster.proxies[0].process.stop();
    for (const dir of hintDirs(cluster.proxies[0].dataDir)) rmSync(dir, { recursive: true, force: true });
    await cluster.restartNode('node3');
    await cluster.startProxy();
    await waitForSettled(cluster.proxyUrl, undefined, 30_000);
    rounds.push(await repairRound(cluster, `${fmt((options.differing / options.keys) * 100, 0)}% of the keys stale on one replica`));
    rounds.push(await repairRound(cluster, 'again, after the repair'));
    return { options, loadS, keysPerNode: health.keys, mibPerNode: health.bytes / 2 ** 20, rounds };
  } finally {
    await cluster.stop();
  }
}

const mib = (bytes: number): string => fmt(bytes / 2 ** 20, 2);

/** The subsection of docs/benchmarks.md on a full repair. */
export function repairReport(figures: RepairFigures): string {
  const { options } = figures;
  const lines = [
    `A full repair round (\`POST /cluster/repair\`, the whole ring, \`ANTI_ENTROPY_BYTES_PER_S\` and \`ANTI_ENTROPY_PAUSE_MS\` at their defaults) ` +
      `of 1 proxy and 3 data nodes holding ${fmt(figures.keysPerNode)} keys of ${options.valueBytes} bytes each (${mib(figures.mibPerNode * 2 ** 20)} MiB ` +
      `per node; loaded through \`POST /batch\` in ${fmt(figures.loadS, 1)} s):`,
    '',
    '| round | time s | ranges (failed) | keys different | keys repaired | repair writes MiB | proxy → nodes MiB | nodes → proxy MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...figures.rounds.map(
      (r) =>
        `| ${r.label} | ${fmt(r.seconds, 1)} | ${fmt(r.ranges)} (${fmt(r.rangesFailed)}) | ${fmt(r.differences)} | ${fmt(r.repaired)} | ${mib(r.repairBytes)} | ` +
        `${mib(r.bytesToNodes)} | ${mib(r.bytesFromNodes)} |`,
    ),
    '',
    `Bytes on the wire between the proxy and the three nodes (HTTP headers included), less the background traffic of the ` +
      `proxy's probes and leases measured for ${BACKGROUND_S} s just before each round, once the cluster was idle ` +
      `(${figures.rounds.map((r) => fmt(r.backgroundBytesPerS / 1024, 1)).join(', ')} KiB/s).`,
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The report

/** The heading of docs/benchmarks.md's section these figures go in. */
export const SECTION = '## Anti-entropy';

/**
 * Replaces, in the text of docs/benchmarks.md, the body of each subsection `### <heading>` of the Anti-entropy
 * section by the text given for it (a subsection not there yet is added at the end of the section); the section is
 * added at the end of the document when it is missing. The other subsections stay as they are.
 */
export function updateSection(doc: string, bodies: ReadonlyMap<string, string>): string {
  let start = doc.indexOf(`\n${SECTION}\n`);
  if (start < 0) {
    doc = `${doc.trimEnd()}\n\n${SECTION}\n`;
    start = doc.indexOf(`\n${SECTION}\n`);
  }
  const afterHeading = start + SECTION.length + 2;
  const next = doc.indexOf('\n## ', afterHeading);
  const end = next < 0 ? doc.length : next + 1;
  // The section's preamble, then one part per subsection, each starting with its heading.
  const parts = doc.slice(afterHeading, end).split(/^(?=### )/m);
  for (const [heading, body] of bodies) {
    const text = `### ${heading}\n\n${body.trim()}`;
    const at = parts.findIndex((part) => part.startsWith(`### ${heading}\n`));
    if (at >= 0) parts[at] = text;
    else parts.push(text);
  }
  const section = parts.map((part) => part.trim()).filter((part) => part !== '').join('\n\n');
  return `${doc.slice(0, afterHeading)}\n${section}\n${end < doc.length ? `\n${doc.slice(end)}` : ''}`;
}

/** Runs the measurements asked for in `args` (`--digest-cost`, `--repair`) and updates docs/benchmarks.md unless `write` is false. */
export async function antiEntropyBench(args: readonly string[], write: boolean): Promise<void> {
  const option = (name: string, fallback: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
  };
  const bodies = new Map<string, string>();
  if (args.includes('--digest-cost')) {
    const options: DigestCostOptions = {
      pairs: Number(option('pairs', '3')),
      conns: Number(option('conns', '64').split(',')[0]),
      durationS: Number(option('duration', '8')),
    };
    bodies.set(DIGEST_HEADING, digestCostReport(await digestCost(options), options));
  }
  if (args.includes('--repair')) {
    const keys = Number(option('repair-keys', '1000000'));
    const figures = await repairBench({ keys, valueBytes: 100, differing: Math.round(keys / 100) });
    bodies.set(REPAIR_HEADING, repairReport(figures));
  }
  for (const [heading, body] of bodies) process.stdout.write(`### ${heading}\n\n${body}\n\n`);
  if (write) {
    const file = path.join(root, 'docs/benchmarks.md');
    writeFileSync(file, updateSection(readFileSync(file, 'utf8'), bodies));
  }
}

export const DIGEST_HEADING = 'Digests on the write path';
export const REPAIR_HEADING = 'A full repair';
