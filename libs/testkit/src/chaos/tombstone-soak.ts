import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeKey } from '@kv/protocol';
import { TestCluster } from '../cluster/test-cluster';
import { request } from '../http/request';
import { DELETE_SETTINGS } from './catalogue';
import { Random } from './random';
import { WORKLOAD_REQUEST_TIMEOUT_MS, type StopSignal } from './workloads';

/** Options of {@link runTombstoneSoak}. */
export interface TombstoneSoakOptions {
  seed: number;
  /** How long the workload runs, in ms (default 4 minutes). */
  durationMs?: number;
  /** Warm-up, in ms: memory and tombstones are compared with what they were at its end (default 60 s). */
  warmupMs?: number;
  /** Interval between samples, in ms (default 5 s). */
  sampleMs?: number;
  /** Concurrent clients (default 4). */
  clients?: number;
  /** Bytes of each value written (default 256). */
  valueBytes?: number;
  /**
   * How much a data node's resident memory at the end may exceed its resident memory at the end of the warm-up, in
   * percent (default 25). Each is the median of three samples, so that one garbage collection does not decide.
   */
  rssMarginPercent?: number;
  /**
   * False runs no anti-entropy round (`ANTI_ENTROPY_INTERVAL_MS=0`), so nothing is collected: the run must then fail
   * its tombstone bound, which shows that the check can fail (default true).
   */
  collection?: boolean;
  /** Receives one line per sample and phase. */
  log?: (line: string) => void;
}

/** One node's figures at one sample. */
export interface SoakNodeSample {
  id: string;
  /** Resident memory of the process, in bytes (`process_resident_memory_bytes`). */
  rssBytes: number;
  /** Live keys and tombstones, from its `/health`. */
  keys: number;
  tombstones: number;
}

/** One sample: when (ms since the workload started), operations acknowledged so far, and every data node. */
export interface SoakSample {
  atMs: number;
  ops: number;
  /** Acknowledged deletes and sets with a ttl so far: the tombstones created, once the values expire. */
  created: number;
  /** The tombstones a node may hold at this sample (see {@link runTombstoneSoak}). */
  bound: number;
  nodes: SoakNodeSample[];
}

/** The outcome of a tombstone soak. */
export interface TombstoneSoakResult {
  valid: boolean;
  /** Why it failed: one line per broken bound. */
  failures: string[];
  durationMs: number;
  /** Acknowledged operations: sets followed by deletes, deletes, sets with a ttl; and the rest (failed, unknown). */
  sets: number;
  deletes: number;
  ttlSets: number;
  notAcknowledged: number;
  samples: SoakSample[];
  /** How long a tombstone may live, in s (see {@link runTombstoneSoak}). */
  lifetimeS: number;
  /** Per node: resident memory at the end of the warm-up and at the end (medians of three samples), in bytes. */
  rss: { id: string; warmBytes: number; endBytes: number }[];
  rssMarginPercent: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The settings of the soak: those of the delete scenarios (a grace of 12 s, a round every 2 s). */
export const SOAK_SETTINGS = DELETE_SETTINGS;
/** The longest ttl the soak writes, in s. */
const TTL_MAX_S = 3;

/**
 * A long delete-heavy run, to show that tombstone collection keeps memory flat: clients write keys that are never
 * used again (the key space keeps moving, so without collection every deleted or expired key would stay as a
 * tombstone), half of them deleted right after their write, the other half written with a ttl of 1 to 3 s, with the
 * delete scenarios' short `TOMBSTONE_GRACE_MS` (12 s) and an anti-entropy round every 2 s. Every `sampleMs` it reads
 * each data node's resident memory (`/metrics`) and live keys and tombstones (`/health`).
 *
 * It fails when:
 * - a node's tombstones at a sample exceed the bound: 1.5 x the tombstones created (acknowledged deletes and ttl
 *   sets) in the lifetime of a tombstone before the sample, + 100. The lifetime: `TOMBSTONE_GRACE_MS` + the longest
 *   ttl + `MAX_CLOCK_SKEW_MS` (when an expired value becomes a tombstone) + 2 rounds + 10 s for a round to run: 30 s
 *   here. With collection a node holds at most what was created in that window; without, everything created since
 *   the start, which outgrows the bound after a few lifetimes;
 * - a node's resident memory at the end exceeds its memory at the end of the warm-up by more than `rssMarginPercent`.
 */
export async function runTombstoneSoak(options: TombstoneSoakOptions): Promise<TombstoneSoakResult> {
  const durationMs = options.durationMs ?? 240_000;
  const warmupMs = options.warmupMs ?? 60_000;
  const sampleMs = options.sampleMs ?? 5000;
  const rssMarginPercent = options.rssMarginPercent ?? 25;
  const log = options.log ?? (() => undefined);
  if (!(warmupMs + 3 * sampleMs < durationMs)) throw new TypeError('the soak must last at least its warm-up and three samples');
  const random = new Random(options.seed);
  const value = 'x'.repeat(options.valueBytes ?? 256);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kv-soak-'));
  const cluster = await TestCluster.start({
    dir,
    nodeEnv: { ...SOAK_SETTINGS.nodeEnv, LOG_LEVEL: 'warn' },
    proxyEnv: { ...SOAK_SETTINGS.proxyEnv, HEALTH_INTERVAL_MS: '200', LOG_LEVEL: 'warn', ...(options.collection === false ? { ANTI_ENTROPY_INTERVAL_MS: '0' } : {}) },
  });
  try {
    const stop: StopSignal = { stopped: false };
    const counts = { sets: 0, deletes: 0, ttlSets: 0, notAcknowledged: 0 };
    const settings = SOAK_SETTINGS.proxyEnv;
    const lifetimeS =
      (Number(settings.TOMBSTONE_GRACE_MS) + TTL_MAX_S * 1000 + Number(SOAK_SETTINGS.nodeEnv.MAX_CLOCK_SKEW_MS) + 2 * Number(settings.ANTI_ENTROPY_INTERVAL_MS) + 10_000) /
      1000;
    const call = async (method: string, key: string, body?: unknown): Promise<boolean> => {
      try {
        const res = await request(cluster.proxyUrl, method, `/kv/${encodeKey(key)}`, body, {}, WORKLOAD_REQUEST_TIMEOUT_MS);
        if (res.status === 200) return true;
      } catch {
        // counted below
      }
      counts.notAcknowledged += 1;
      return false;
    };
    const client = async (process: number, clientRandom: Random): Promise<void> => {
      for (let seq = 0; !stop.stopped; seq++) {
        const key = `soak-${options.seed}-${process}-${seq}`;
        if (clientRandom.chance(0.5)) {
          if (!(await call('PUT', key, { value }))) continue;
          counts.sets += 1;
          if (await call('DELETE', key)) counts.deletes += 1;
        } else if (await call('PUT', key, { value, ttl: clientRandom.between(1, TTL_MAX_S) })) {
          counts.ttlSets += 1;
        }
      }
    };
    const started = Date.now();
    const workload = Promise.all(Array.from({ length: options.clients ?? 4 }, (_, i) => client(i, random.fork())));
    const samples: SoakSample[] = [];
    const sample = async (): Promise<SoakSample> => {
      const nodes = await Promise.all(
        cluster.nodes.map(async (node) => {
          const [health, metrics] = await Promise.all([request(node.url, 'GET', '/health', undefined, {}, 10_000), request(node.url, 'GET', '/metrics', undefined, {}, 10_000)]);
          const rss = /^process_resident_memory_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(String(metrics.body));
          return { id: node.id, rssBytes: rss === null ? NaN : Number(rss[1]), keys: Number(health.body.keys), tombstones: Number(health.body.tombstones) };
        }),
      );
      const atMs = Date.now() - started;
      const created = counts.deletes + counts.ttlSets;
      // Created since the last sample at least a lifetime old (or since the start).
      const windowStart = [...samples].reverse().find((s) => s.atMs <= atMs - lifetimeS * 1000)?.created ?? 0;
      return { atMs, ops: counts.sets + counts.deletes + counts.ttlSets, created, bound: Math.ceil(1.5 * (created - windowStart)) + 100, nodes };
    };
    try {
      for (let next = started + sampleMs; next <= started + durationMs; next += sampleMs) {
        await sleep(Math.max(0, next - Date.now()));
        const s = await sample();
        samples.push(s);
        log(formatSample(s));
      }
    } finally {
      stop.stopped = true;
      await workload;
    }
    const elapsedMs = Date.now() - started;

    const failures: string[] = [];
    for (const s of samples) {
      for (const node of s.nodes) {
        if (node.tombstones > s.bound) failures.push(`${node.id} held ${node.tombstones} tombstones at ${(s.atMs / 1000).toFixed(0)} s, above the bound of ${s.bound}`);
      }
    }
    const warmIndex = samples.findIndex((s) => s.atMs > warmupMs);
    const rss = cluster.nodes.map((node) => {
      const of = (slice: SoakSample[]): number => median(slice.map((s) => s.nodes.find((n) => n.id === node.id)?.rssBytes ?? NaN));
      return { id: node.id, warmBytes: of(samples.slice(Math.max(0, warmIndex - 1), warmIndex + 2)), endBytes: of(samples.slice(-3)) };
    });
    for (const node of rss) {
      if (!(node.endBytes <= node.warmBytes * (1 + rssMarginPercent / 100))) {
        failures.push(`${node.id}: resident memory ${mib(node.endBytes)} MiB at the end, more than ${rssMarginPercent}% above ${mib(node.warmBytes)} MiB after the warm-up`);
      }
    }
    return { valid: failures.length === 0, failures, durationMs: elapsedMs, ...counts, samples, lifetimeS, rss, rssMarginPercent };
  } finally {
    await cluster.stop({ keepFiles: process.env.KV_KEEP_CLUSTER === '1' });
  }
}

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

/** One line per sample: time, operations, and each node's keys, tombstones and resident memory. */
export function formatSample(s: SoakSample): string {
  return `  ${(s.atMs / 1000).toFixed(0).padStart(4)} s  ops ${String(s.ops).padStart(7)}  bound ${String(s.bound).padStart(6)}  ${s.nodes
    .map((n) => `${n.id} keys ${String(n.keys).padStart(5)} tombstones ${String(n.tombstones).padStart(6)} rss ${mib(n.rssBytes).padStart(6)} MiB`)
    .join('  ')}`;
}

/** The table of a soak's samples (Markdown, at most `rows` rows, evenly spaced, the last included) and its verdict. */
export function formatSoak(result: TombstoneSoakResult, rows = 13): string {
  const step = Math.max(1, Math.ceil(result.samples.length / rows));
  const picked = result.samples.filter((_, i) => i % step === 0 || i === result.samples.length - 1);
  const ids = result.samples[0]?.nodes.map((n) => n.id) ?? [];
  const lines = [
    `| time | operations | tombstone bound | ${ids.map((id) => `${id} keys / tombstones / RSS MiB`).join(' | ')} |`,
    `|---:|---:|---:|${ids.map(() => '---:|').join('')}`,
    ...picked.map(
      (s) => `| ${(s.atMs / 1000).toFixed(0)} s | ${s.ops} | ${s.bound} | ${s.nodes.map((n) => `${n.keys} / ${n.tombstones} / ${mib(n.rssBytes)}`).join(' | ')} |`,
    ),
    '',
    `soak: ${(result.durationMs / 1000).toFixed(0)} s, ${result.sets} sets then deletes (${result.deletes} deletes), ${result.ttlSets} sets with a ttl, ` +
      `${result.notAcknowledged} not acknowledged; tombstone lifetime ${result.lifetimeS} s; RSS after warm-up -> end: ` +
      `${result.rss.map((n) => `${n.id} ${mib(n.warmBytes)} -> ${mib(n.endBytes)} MiB`).join(', ')} (margin ${result.rssMarginPercent}%)`,
    `soak: ${result.valid ? 'VALID' : `INVALID: ${result.failures.slice(0, 3).join('; ')}${result.failures.length > 3 ? `; and ${result.failures.length - 3} more` : ''}`}`,
  ];
  return lines.join('\n');
}
