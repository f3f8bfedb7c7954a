// Foreground PUT latency while anti-entropy repairs a stale replica: starts a local kv cluster of the built apps (1
// proxy, 3 data nodes, WAL_SYNC=always), writes a base of keys, and then, in each run, makes node3 miss writes of a
// share of them with their hints lost (node3 down, HINTS_MAX=1), brings it back, and measures PUT at 64 connections
// with wrk idle and while `POST /cluster/repair` runs (the order alternates from run to run). Prints one row per run:
// idle and during p50/p99, their ratio, the round's duration, differences, keys repaired.
//
//   npx tsx --tsconfig tsconfig.base.json scripts/bench/repair-load.ts [--runs 4] [--duration 10] [--base 200000]
//     [--stale 8000] [--conns 64] [--proxy-env ANTI_ENTROPY_KEYS_PER_S=1000,...]
//
// Needs wrk (apt-get install -y wrk) and the built apps (npx nx run-many -t build -p proxy datanode client).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { TestCluster, eventually, repoRoot, request } from '@kv/testkit';

interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

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

function parseLatencyMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (match === null) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** wrk PUT (scripts/bench/kv-put.lua) for `durationS` seconds, without blocking this process. */
function wrkPut(url: string): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn('wrk', ['-t2', `-c${conns}`, `-d${durationS}s`, '--latency', '-s', path.join(here, 'kv-put.lua'), url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    proc.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    proc.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', () => {
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
      resolve({
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
        p50Ms: parseLatencyMs(/\s50%\s+(\S+)/.exec(text)?.[1] ?? ''),
        p99Ms: parseLatencyMs(/\s99%\s+(\S+)/.exec(text)?.[1] ?? ''),
        errors: non2xx + (socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0)),
      });
    });
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
async function repairUnderLoad(server: string): Promise<{ load: WrkResult; round: Round; loadEndedAt: number }> {
  const started = await request(server, 'POST', '/cluster/repair', {}, { 'content-type': 'application/json' });
  if (started.status !== 202) throw new Error(`POST /cluster/repair: ${started.status} ${JSON.stringify(started.body)}`);
  let loadEndedAt = 0;
  const load = wrkPut(server).then((result) => {
    loadEndedAt = Date.now();
    return result;
  });
  let round: Round;
  for (;;) {
    round = (await request(server, 'GET', '/cluster/repair')).body as Round;
    if (round.state !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { load: await load, round, loadEndedAt };
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

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
    for (let run = 1; run <= runs; run++) {
      const stale = stalePool.slice(((run - 1) * staleKeys) % stalePool.length).concat(stalePool).slice(0, staleKeys);
      await makeStale(cluster, stale, `run${run}`);
      let idle: WrkResult;
      let during: { load: WrkResult; round: Round; loadEndedAt: number };
      // Alternate the order, so that a drift of the machine's load does not always favour one side.
      if (run % 2 === 1) {
        idle = await wrkPut(cluster.proxyUrl);
        during = await repairUnderLoad(cluster.proxyUrl);
      } else {
        during = await repairUnderLoad(cluster.proxyUrl);
        idle = await wrkPut(cluster.proxyUrl);
      }
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
    process.stdout.write(`\np99 during / idle: ${sorted.map((r) => `${fmt(r, 2)}x`).join(', ')} (median ${fmt(median, 2)}x)\n`);
  } finally {
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`repair-load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
