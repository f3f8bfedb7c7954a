import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { NodeClient, encodeKey } from '@kv/protocol';
import { HashRing } from '@kv/ring';
import { checkConvergence, type ConvergenceCheckResult, type ReplicaState } from '../checker/check-convergence';
import { checkRegister, type RegisterCheckResult } from '../checker/check-register';
import { checkSet, type SetCheckResult } from '../checker/check-set';
import { formatReport } from '../checker/format-report';
import type { Operation } from '../checker/history';
import { TestCluster } from '../cluster/test-cluster';
import { request } from '../http/request';
import { DISK_NEMESES, PROXY_CLOCK_SKEW_MS_MAX, healAll, nemesisByName, type NemesisName } from './nemeses';
import { Random } from './random';
import { FINAL_READ_QUERY, runDeleteWorkload, runRegisterWorkload, runSetWorkload, runTtlWorkload, type StopSignal } from './workloads';
import { checkDeletes, formatDeletes, type DeleteCheckResult } from '../checker/check-deletes';
import { checkTtl, formatTtl, type TtlCheckResult } from '../checker/check-ttl';

/** A chaos scenario: a workload against a real cluster while nemeses strike, then checks. */
export interface ScenarioOptions {
  name: string;
  seed: number;
  /** How long the workload runs, in ms. */
  durationMs: number;
  /** The nemeses to draw from, one at a time; empty for a run without faults. */
  nemeses: readonly NemesisName[];
  /** How long each fault lasts, in ms: [min, max]. */
  faultMs?: [number, number];
  /** Quiet time between faults, in ms: [min, max]. */
  quietMs?: [number, number];
  /**
   * `delete`: keys written once and deleted (many tombstones), checked for deleted values that come back. `ttl`: sets
   * with a short ttl, plain sets, deletes and reads over shared keys, checked for expired, overwritten or deleted
   * values that come back (`checkTtl`).
   */
  workload: 'register' | 'set' | 'delete' | 'ttl';
  /** How the register workload reaches the proxy (default `http`); `resp` also turns the proxy's RESP port on. */
  protocol?: 'http' | 'resp';
  clients?: number;
  /** Register and ttl workloads: keys shared by the clients. */
  keys?: number;
  /** Register workload: share of writes. */
  writeRatio?: number;
  /** Proxies, each a coordinator of its own; clients spread their operations over them (default 1). */
  proxies?: number;
  /** `?r=` of the workload's reads (weakened runs use 1). */
  readQuorum?: number;
  writeQuorum?: number;
  proxyEnv?: Record<string, string>;
  nodeEnv?: Record<string, string>;
  /** Time allowed for a membership change in progress at the end to complete, in ms (default 60 s). */
  changeTimeoutMs?: number;
  /** Time allowed for replicas to converge once everything is healed, in ms. */
  convergenceTimeoutMs?: number;
  /**
   * Delete and ttl workloads: time allowed, once everything is healed (and, for ttl, every value set has expired), for anti-entropy to collect every tombstone (the
   * scenario asks for rounds with `POST /cluster/repair`), in ms (default the proxies' `TOMBSTONE_GRACE_MS` + 30 s).
   */
  collectionTimeoutMs?: number;
  /** Receives one line per fault and phase. */
  log?: (line: string) => void;
  /** Keep the cluster's data and logs when the scenario finds a violation. */
  keepFilesOnViolation?: boolean;
}

/** The outcome of one scenario. */
export interface ScenarioResult {
  name: string;
  seed: number;
  /** Operations recorded (inserts for the set workload). */
  ops: number;
  /** Faults injected, as described by the nemeses. */
  faults: string[];
  /** True when every checker found the run valid (an undecided linearizability check counts as valid but is reported). */
  valid: boolean;
  /** Violations found: non-linearizable keys, lost or unexpected elements, keys that did not converge. */
  violations: number;
  /** The checkers' text reports. */
  reports: string[];
  register?: RegisterCheckResult;
  set?: SetCheckResult;
  convergence?: ConvergenceCheckResult;
  deletes?: DeleteCheckResult;
  ttl?: TtlCheckResult;
  durationMs: number;
  /** Where the cluster's files were kept, if they were. */
  keptDir?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the proxy's metrics until no hint is pending, for at most `timeoutMs`. */
async function hintsDelivered(proxyUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await request(proxyUrl, 'GET', '/metrics', undefined, {}, 2000);
      if (/^kv_hints_pending\{[^}]*\} 0$/m.test(String(res.body))) return true;
    } catch {
      // the proxy may be restarting
    }
    await sleep(200);
  }
  return false;
}

interface ClusterAnswer {
  epoch: number;
  nodes: { id: string }[];
  vnodes: number;
  replicas: number;
  change: unknown;
}

/**
 * The cluster's map once no membership change runs (asked of the proxies in turn), or the last answer with its change
 * still running at the deadline.
 */
async function settledMap(cluster: TestCluster, timeoutMs: number): Promise<ClusterAnswer | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: ClusterAnswer | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await request(cluster.proxyUrls[attempt % cluster.proxyUrls.length], 'GET', '/cluster', undefined, {}, 2000);
      if (res.status === 200) {
        last = res.body as ClusterAnswer;
        if (last.change === null) return last;
      }
    } catch {
      // a proxy may be restarting
    }
    if (Date.now() >= deadline) return last;
    await sleep(250);
  }
}

/** What the replicas of each key hold (every data node, or the owners `ownersOf` names), through the internal API. */
async function replicaStates(
  cluster: TestCluster,
  keys: readonly string[],
  token: string | undefined,
  ownersOf?: (key: string) => readonly string[],
) {
  const states = new Map<string, Map<string, ReplicaState>>();
  for (const key of keys) states.set(key, new Map());
  await Promise.all(
    cluster.nodes.map(async (node) => {
      const client = new NodeClient({ baseUrl: node.url, token, timeoutMs: 10_000 });
      try {
        for (let i = 0; i < keys.length; i += 1000) {
          const chunk = keys.slice(i, i + 1000);
          const results = await client.batch(chunk.map((key) => ['g', key] as ['g', string]));
          results.forEach((result, j) => {
            if (ownersOf !== undefined && !ownersOf(chunk[j]).includes(node.id)) return;
            const state: ReplicaState = Array.isArray(result) ? { version: result[0] as string, value: result[1] as string | null } : null;
            states.get(chunk[j])?.set(node.id, state);
          });
        }
      } finally {
        client.close();
      }
    }),
  );
  return states;
}

/** Tombstones every data node holds (its `/health`), summed; a node that does not answer counts as holding some. */
async function tombstonesHeld(cluster: TestCluster): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) {
    try {
      const res = await request(node.url, 'GET', '/health', undefined, {}, 2000);
      total += Number(res.body.tombstones ?? 1);
    } catch {
      total += 1;
    }
  }
  return total;
}

/**
 * Asks the proxies for anti-entropy rounds (`POST /cluster/repair`, waiting for each) until the data nodes hold no
 * tombstone or `timeoutMs` passes; returns the tombstones left.
 */
async function collectTombstones(cluster: TestCluster, timeoutMs: number, log: (line: string) => void): Promise<number> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let left = await tombstonesHeld(cluster);
  for (let attempt = 0; left > 0 && performance.now() < deadline; attempt++) {
    try {
      await request(cluster.proxyUrls[attempt % cluster.proxyUrls.length], 'POST', '/cluster/repair', { wait: true }, {}, 60_000);
    } catch {
      // a proxy may be restarting
    }
    await sleep(1000);
    left = await tombstonesHeld(cluster);
  }
  log(left === 0 ? `  tombstones collected after ${((performance.now() - started) / 1000).toFixed(1)} s` : `  ${left} tombstones left at the deadline`);
  return left;
}

/**
 * How far behind the workload's clock a proxy's clock may be in a ttl scenario with these nemeses: the proxies decide
 * expiry on their own wall clocks, which `proxy-clock-skew` sets up to {@link PROXY_CLOCK_SKEW_MS_MAX} back (within
 * `MAX_CLOCK_SKEW_MS`, which the design allows). `proxy-clock-back` steps a clock back by up to an hour, beyond
 * `MAX_CLOCK_SKEW_MS`: expiry is not promised then, so a ttl scenario refuses it.
 * @throws TypeError for `proxy-clock-back`.
 */
export function ttlClockBoundMs(nemeses: readonly NemesisName[]): number {
  if (nemeses.includes('proxy-clock-back')) throw new TypeError('the ttl workload cannot run with proxy-clock-back: it steps a clock back beyond MAX_CLOCK_SKEW_MS');
  return nemeses.includes('proxy-clock-skew') ? PROXY_CLOCK_SKEW_MS_MAX : 0;
}

/**
 * Runs one scenario end to end: starts a cluster, runs the workload while faults come and go, heals everything,
 * waits for hints, reads every key back (which also repairs), and checks the history (linearizability per key, or
 * the set's lost and unexpected elements) and the replicas' convergence.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const random = new Random(options.seed);
  const nemesisRandom = random.fork();
  const workloadRandom = random.fork();
  const [faultMin, faultMax] = options.faultMs ?? [500, 2000];
  const [quietMin, quietMax] = options.quietMs ?? [300, 1500];
  const token = options.nodeEnv?.CLUSTER_TOKEN;
  const clockBoundMs = options.workload === 'ttl' ? ttlClockBoundMs(options.nemeses) : 0;
  const proxies = options.proxies ?? 1;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kv-cluster-'));
  const cluster = await TestCluster.start({
    dir,
    proxies,
    resp: options.protocol === 'resp',
    diskFaults: options.nemeses.some((name) => DISK_NEMESES.includes(name)),
    nodeEnv: options.nodeEnv,
    proxyEnv: { HEALTH_INTERVAL_MS: '200', ...options.proxyEnv },
    // Each proxy's wall clock follows an offset file, so that nemeses can step it while it runs.
    proxyEnvs: Array.from({ length: proxies }, (_, i) => ({
      TEST_CLOCK_OFFSET_FILE: path.join(dir, `${proxies === 1 ? 'proxy' : `proxy${i + 1}`}.clock-offset`),
    })),
  });
  const faults: string[] = [];
  let keep = false;
  try {
    const stop: StopSignal = { stopped: false };
    const prefix = `${options.workload}-${options.seed}`;
    const register =
      options.workload === 'register'
        ? runRegisterWorkload({
            proxyUrl: cluster.proxyUrl,
            proxyUrls: () => cluster.proxyUrls,
            protocol: options.protocol,
            respPort: () => cluster.respPort,
            random: workloadRandom,
            clients: options.clients ?? 6,
            keys: options.keys ?? 5,
            writeRatio: options.writeRatio ?? 0.5,
            readQuorum: options.readQuorum,
            writeQuorum: options.writeQuorum,
            stop,
            prefix,
          })
        : undefined;
    // What the set, delete and ttl workloads share.
    const shared = { proxyUrl: cluster.proxyUrl, proxyUrls: () => cluster.proxyUrls, random: workloadRandom, clients: options.clients ?? 6, stop, prefix };
    const set =
      options.workload === 'set'
        ? runSetWorkload(shared)
        : undefined;

    const deletes =
      options.workload === 'delete'
        ? runDeleteWorkload(shared)
        : undefined;

    const ttl =
      options.workload === 'ttl'
        ? runTtlWorkload({
            ...shared,
            keys: options.keys,
          })
        : undefined;

    const end = performance.now() + options.durationMs;
    while (options.nemeses.length > 0 && performance.now() < end) {
      await sleep(Math.min(nemesisRandom.between(quietMin, quietMax), Math.max(0, end - performance.now())));
      if (performance.now() >= end) break;
      const nemesis = nemesisByName(nemesisRandom.pick(options.nemeses));
      try {
        const what = await nemesis.start(cluster, nemesisRandom);
        faults.push(what);
        log(`  fault: ${what}`);
        await sleep(nemesisRandom.between(faultMin, faultMax));
      } finally {
        await nemesis.heal(cluster);
      }
    }
    await sleep(Math.max(0, end - performance.now()));
    stop.stopped = true;
    const history: Operation[] = register === undefined ? [] : await register;
    const setResult = set === undefined ? undefined : await set;
    const deleteResult = deletes === undefined ? undefined : await deletes;
    const ttlResult = ttl === undefined ? undefined : await ttl;
    const workloadEnded = performance.now();
    await healAll(cluster);
    log(`  healed in ${((performance.now() - workloadEnded) / 1000).toFixed(1)} s; waiting for hints`);
    const delivered = (
      await Promise.all(cluster.proxyUrls.map((url) => hintsDelivered(url, options.convergenceTimeoutMs ?? 15_000)))
    ).every(Boolean);
    log(delivered ? `  hints delivered after ${((performance.now() - workloadEnded) / 1000).toFixed(1)} s` : '  hints still pending at the deadline');

    const result: ScenarioResult = {
      name: options.name,
      seed: options.seed,
      ops: 0,
      faults,
      valid: true,
      violations: 0,
      reports: [],
      durationMs: 0,
    };
    let keys: string[];
    if (ttlResult !== undefined) {
      // Every value set with a ttl must have expired and been turned into a tombstone on every replica (MAX_CLOCK_SKEW_MS
      // after its expiry, by the nodes' sweep, once a second) before collection is asked for. A set of unknown outcome
      // took its version within its request's deadline.
      const skewMs = Number(options.nodeEnv?.MAX_CLOCK_SKEW_MS ?? 60_000);
      const lastExpiry = Math.max(0, ...ttlResult.history.map((op) => (op.kind === 'set' && op.ttlMs !== undefined ? (op.expiresAt ?? op.invokedAt + op.ttlMs + Number(options.proxyEnv?.REQUEST_TIMEOUT_MS ?? 1000)) : 0)));
      const converted = lastExpiry + skewMs + 2000 - Date.now();
      if (converted > 0) {
        log(`  waiting ${(converted / 1000).toFixed(1)} s for the last values set with a ttl to expire and be converted`);
        await sleep(converted);
      }
      const graceMs = Number(options.proxyEnv?.TOMBSTONE_GRACE_MS ?? 86_400_000);
      const tombstonesLeft = await collectTombstones(cluster, options.collectionTimeoutMs ?? graceMs + 30_000, log);
      await ttlResult.finalRead((options.clients ?? 6) + 1);
      result.ttl = checkTtl(ttlResult.history, { clockBoundMs, tombstonesLeft });
      result.ops = ttlResult.history.length;
      result.reports.push(formatTtl(result.ttl));
      result.violations += result.ttl.violations.length + (tombstonesLeft > 0 ? 1 : 0);
      keys = ttlResult.keys;
    } else if (deleteResult !== undefined) {
      // Tombstones must all go, by anti-entropy alone: rounds are asked for until the nodes hold none.
      const graceMs = Number(options.proxyEnv?.TOMBSTONE_GRACE_MS ?? 86_400_000);
      const tombstonesLeft = await collectTombstones(cluster, options.collectionTimeoutMs ?? graceMs + 30_000, log);
      const present = await deleteResult.finalRead();
      result.deletes = checkDeletes(deleteResult.keys, deleteResult.readsAfterDelete, present, tombstonesLeft);
      result.ops = deleteResult.keys.length;
      result.reports.push(formatDeletes(result.deletes));
      result.violations += result.deletes.resurrected.length + (tombstonesLeft > 0 ? 1 : 0);
      keys = deleteResult.keys.map((key) => key.key);
    } else if (setResult !== undefined) {
      const present = await setResult.finalRead();
      result.set = checkSet(setResult.inserts, present);
      result.ops = setResult.inserts.length;
      result.reports.push(formatReport(result.set));
      result.violations += result.set.lost.length + result.set.unexpected.length + result.set.duplicated.length;
      keys = setResult.inserts.map((op) => op.key);
    } else {
      keys = [...new Set(history.map((op) => op.key))];
      // A final read of every key from every replica, by a process of its own: part of the history, and it repairs
      // stale replicas.
      const finalProcess = (options.clients ?? 6) + 1;
      let id = history.length;
      for (const key of keys) {
        const op: Operation = { id: id++, process: finalProcess, key, kind: 'read', value: null, outcome: 'unknown', invokedAt: performance.now(), completedAt: Infinity };
        const res = await request(workloadRandom.pick(cluster.proxyUrls), 'GET', `/kv/${encodeKey(key)}${FINAL_READ_QUERY}`, undefined, {}, 10_000);
        op.completedAt = performance.now();
        if (res.status === 200 || res.status === 404) {
          op.outcome = 'ok';
          op.value = res.status === 200 ? res.body.value : null;
        }
        history.push(op);
      }
      result.register = checkRegister(history);
      result.ops = history.length;
      result.reports.push(formatReport(result.register));
      result.violations += result.register.violations.length;
    }

    // Membership changes: the one in progress must complete (they resume after any fault), and the replicas of a
    // key are then its owners in the final map; nodes that left keep what they held, and are not asked.
    let ownersOf: ((key: string) => readonly string[]) | undefined;
    if (options.nemeses.includes('change-membership')) {
      const map = await settledMap(cluster, options.changeTimeoutMs ?? 60_000);
      if (map === undefined || map.change !== null) {
        result.violations += 1;
        result.reports.push(`membership: the change in progress did not complete (${map === undefined ? 'no proxy answered' : `epoch ${map.epoch}`})`);
      } else {
        const ring = new HashRing(
          map.nodes.map((node) => node.id),
          { vnodes: map.vnodes },
        );
        ownersOf = (key) => ring.preferenceList(key, map.replicas);
        result.reports.push(`membership: epoch ${map.epoch}, members ${map.nodes.map((node) => node.id).join(', ')}`);
        log(`  membership settled at epoch ${map.epoch} after ${((performance.now() - workloadEnded) / 1000).toFixed(1)} s`);
      }
    }

    // Convergence: every replica of every key holds the same entry, within the bound.
    const deadline = Date.now() + (options.convergenceTimeoutMs ?? 15_000);
    let convergence = checkConvergence(await replicaStates(cluster, keys, token, ownersOf));
    while (!convergence.valid && Date.now() < deadline) {
      await sleep(500);
      convergence = checkConvergence(await replicaStates(cluster, keys, token, ownersOf));
    }
    result.convergence = convergence;
    result.reports.push(formatReport(convergence));
    result.violations += convergence.divergent.length;

    result.valid = result.violations === 0;
    keep = !result.valid && (options.keepFilesOnViolation ?? false);
    result.durationMs = performance.now() - started;
    if (keep) result.keptDir = cluster.dir;
    return result;
  } finally {
    await cluster.stop({ keepFiles: keep || process.env.KV_KEEP_CLUSTER === '1' });
  }
}

/** One line for a scenario's result: name, seed, operations, faults, violations. */
export function summarize(result: ScenarioResult): string {
  const verdict = result.valid ? 'ok' : 'VIOLATIONS';
  const undecided = result.register !== undefined && result.register.valid === 'unknown' ? ' (linearizability undecided for some keys)' : '';
  return (
    `${result.name.padEnd(28)} seed=${result.seed} ops=${result.ops} faults=${result.faults.length} ` +
    `violations=${result.violations} ${verdict}${undecided} ${(result.durationMs / 1000).toFixed(1)} s`
  );
}
