import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ErrorCode,
  KvError,
  NodeClient,
  isCertificateError,
  type ClusterChangePlan,
  type ClusterChangeStarted,
  type ClusterMap,
  type ClusterResponse,
  type ReadyResponse,
  type RepairStarted,
  type RepairStatus,
} from '@kv/protocol';
import {
  BatchingTransport,
  Coordinator,
  DurableHintStore,
  DuplicateCoordinatorError,
  FileStableStore,
  HINT_DISK_RETRY_MS_DEFAULT,
  HttpBatchSender,
  coordinatorLeaseMs,
  formatCoordinatorClaim,
  resolveClockId,
  systemClock,
  type Clock,
  type RepairProgress,
} from '@kv/quorum';
import { HashRing } from '@kv/ring';
import { FaultFileSystem, NodeFileSystem, triggerFileFault } from '@kv/wal';
import {
  EXIT_CONFIG_ERROR,
  SHUTDOWN_GRACE_MS_DEFAULT,
  closeServer,
  createHttpServer,
  createLogger,
  createRegistry,
  InFlight,
  inFlightMetrics,
  describeConfig,
  flushLogger,
  listen,
  loadClientTls,
  loadServerTls,
  lockDataDir,
  onStopSignal,
  startProcess,
  type ClientTls,
  type Logger,
  type ServerTls,
} from '@kv/service';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { createApp, type ProxyUi } from './app';
import { clockFloorLost } from './clock-floor-check';
import { PROXY_SETTINGS, proxySecurityWarnings, readProxyConfig, type ProxyConfig } from './config';
import { ProxyMetrics } from './proxy-metrics';
import { PublicApi } from './public-api';
import { RequestDeadlines } from './request-deadline';
import { ProxyRespBackend } from './resp-backend';
import { startRespServer } from './resp-server';
import { stopCoordinator } from './shutdown';
import { hintsWithoutExpiry } from './weakened-hints';
import { RingViewCache } from './ui/ring-view';
import { countsOf, readStatusPage } from './ui/status-page';

/** Sockets per data node: batching keeps one batch in flight per node, a few more serve probes and hints. */
const NODE_SOCKETS_MAX = 4;
/** Time without data allowed while a peer streams its entries for a refill. */
const REFILL_IDLE_MS_MIN = 10_000;
/** A worker that exits unexpectedly is started again after this pause (not in a tight loop if it keeps failing). */
const WORKER_RESTART_DELAY_MS = 1000;
/** How often the test-only clock offset file is read again. */
const OFFSET_FILE_POLL_MS = 100;
/** The environment variable that tells a worker process its number. */
const WORKER_ENV = 'KV_PROXY_WORKER';
/** IPC messages between workers and the primary for aggregated metrics. */
const METRICS_REQUEST = 'kv:metrics-request';
const METRICS_ANSWER = 'kv:metrics-answer';

startProcess('proxy', PROXY_SETTINGS, async () => {
  const config = readProxyConfig();
  // Read before anything else, by the primary too: a missing or mismatched file is a configuration error (exit 2).
  const tls = {
    server: loadServerTls({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile }),
    nodes: loadClientTls({ caFile: config.tlsCaFile, certFile: config.tlsClientCertFile, keyFile: config.tlsClientKeyFile }),
  };
  const workers = config.proxyWorkers === 0 ? os.availableParallelism() : config.proxyWorkers;
  if (cluster.isPrimary && workers > 1) {
    await runPrimary(config, workers);
    return;
  }
  await runCoordinator(config, cluster.isWorker ? Number(process.env[WORKER_ENV]) : undefined, tls);
});

/**
 * The primary process of `PROXY_WORKERS` > 1: holds the lock of `DATA_DIR`, forks the workers (each a full
 * coordinator with its own clock id, hints and floor under `DATA_DIR/worker-<n>`, sharing the port), starts again a
 * worker that dies, serves the workers' aggregated metrics, and stops them on SIGTERM.
 */
async function runPrimary(config: ProxyConfig, workers: number): Promise<void> {
  const logger = createLogger({ level: config.logLevel, service: 'proxy', fields: { role: 'primary' } });
  const lock = await lockDataDir(config.dataDir, 'proxy');
  logger.info('starting workers', { workers, config: describeConfig(PROXY_SETTINGS, config) });
  for (const warning of proxySecurityWarnings(config)) logger.warn(warning);
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  const fork = (index: number): void => {
    const worker = cluster.fork({ [WORKER_ENV]: String(index) });
    worker.on('message', (message: { type?: string; id?: number }) => {
      if (message?.type !== METRICS_REQUEST) return;
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: METRICS_ANSWER, id: message.id, text }),
        (error: unknown) => worker.send({ type: METRICS_ANSWER, id: message.id, error: String(error) }),
      );
    });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      if (code === EXIT_CONFIG_ERROR) {
        // A configuration error (or a duplicate clock id) is the same for every worker: stop.
        logger.error('worker refused to start; stopping', { worker: index, code });
        process.exit(EXIT_CONFIG_ERROR);
      }
      logger.error('worker exited; starting it again', { worker: index, code, signal });
      setTimeout(() => fork(index), WORKER_RESTART_DELAY_MS).unref();
    });
  };
  for (let i = 0; i < workers; i++) fork(i);
  onStopSignal(async () => {
    stopping = true;
    const exits = Object.values(cluster.workers ?? {}).map(
      (worker) => new Promise<void>((resolve) => (worker === undefined || worker.isDead() ? resolve() : worker.once('exit', () => resolve()))),
    );
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    await Promise.all(exits);
    await lock.release();
    logger.info('stopped');
    await flushLogger(logger);
  }, logger);
}

/**
 * One coordinator: a lone proxy, or one worker of `PROXY_WORKERS` (`index`); `tls.server` for its HTTPS, `tls.nodes`
 * for its connections to https:// data nodes.
 */
async function runCoordinator(
  config: ProxyConfig,
  index: number | undefined,
  tls: { server: ServerTls | undefined; nodes: ClientTls | undefined },
): Promise<void> {
  const dataDir = index === undefined ? config.dataDir : path.join(config.dataDir, `worker-${index}`);
  const lock = await lockDataDir(dataDir, index === undefined ? 'proxy' : `proxy worker ${index}`);
  const stable = new FileStableStore(dataDir);
  const configuredId = config.proxyId === undefined ? undefined : index === undefined ? config.proxyId : `${config.proxyId}-${index}`;
  const clockId = await resolveClockId(stable, configuredId, () => `p${randomBytes(5).toString('hex').slice(0, 7)}`);
  const logger = createLogger({ level: config.logLevel, service: 'proxy', fields: { proxyId: clockId } });
  const registry = createRegistry('proxy');
  logger.info('starting', { config: describeConfig(PROXY_SETTINGS, config), proxyId: clockId, worker: index, dataDir });
  const testOnly = config.testUnsafeClock || config.testClockOffsetMs !== 0 || config.testReadRepair !== 'blocking' ||
    config.testClockOffsetFile !== undefined || config.testFrozenClockMs !== undefined || config.testLoneCoordinator ||
    config.testDiskFaultFile !== undefined || config.testWeaken !== undefined;
  if (testOnly) {
    logger.warn('test-only settings in effect: guarantees are weakened', {
      testWeaken: config.testWeaken,
      testUnsafeClock: config.testUnsafeClock,
      testClockOffsetMs: config.testClockOffsetMs,
      testClockOffsetFile: config.testClockOffsetFile,
      testFrozenClockMs: config.testFrozenClockMs,
      testLoneCoordinator: config.testLoneCoordinator,
      testReadRepair: config.testReadRepair,
      testDiskFaultFile: config.testDiskFaultFile,
    });
  }
  const clock = wallClock(config, logger);
  const leaseMs = coordinatorLeaseMs(config.healthIntervalMs);
  const claim = { clockId, incarnation: randomBytes(8).toString('hex'), leaseMs };
  const header = formatCoordinatorClaim(claim);

  const nodeIds = config.nodes.map((node) => node.id);
  const newClient = (url: string): NodeClient => {
    const client = new NodeClient({
      baseUrl: url,
      token: config.clusterToken?.[0],
      timeoutMs: config.nodeTimeoutMs,
      maxSockets: NODE_SOCKETS_MAX,
      tls: tls.nodes,
    });
    if (!config.testLoneCoordinator) client.presentAs(header);
    return client;
  };
  // The data nodes' clients: those of NODES first, then of every member of the cluster map (docs/ARCHITECTURE.md, The
  // cluster map and membership changes); a member's client is made when a map naming it is first seen.
  const clients = new Map(config.nodes.map((node) => [node.id, newClient(node.url)]));
  const urls = new Map(config.nodes.map((node) => [node.id, node.url]));
  let epochInUse = 0;
  const clientFor = (nodeId: string, url: string): NodeClient => {
    const known = clients.get(nodeId);
    if (known !== undefined && urls.get(nodeId) === url) return known;
    known?.close();
    const made = newClient(url);
    made.useEpoch(epochInUse);
    clients.set(nodeId, made);
    urls.set(nodeId, url);
    return made;
  };
  const client = (nodeId: string): NodeClient => {
    const known = clients.get(nodeId);
    if (known === undefined) throw new KvError(ErrorCode.Unavailable, `data node ${nodeId} is not a member known to this proxy`);
    return known;
  };
  const seed: ClusterMap = {
    epoch: 1,
    members: config.nodes.map((node) => ({ id: node.id, url: node.url, state: 'active' })),
    vnodes: config.vnodes,
    replicas: config.replicas,
    writeQuorum: config.writeQuorum,
    readQuorum: config.readQuorum,
    transition: null,
  };
  const hintDir = path.join(dataDir, 'hints');
  const floorLost = config.testUnsafeClock ? false : await clockFloorLost(stable, hintDir);
  if (config.testDiskFaultFile !== undefined) logger.warn('test-only: the hint log fails while the disk fault file exists', { file: config.testDiskFaultFile });
  const hints = await DurableHintStore.open(hintDir, {
    hintsMax: config.hintsMax,
    hintsMaxBytes: config.hintsMaxBytes,
    store: config.testDiskFaultFile === undefined ? {} : { fs: new FaultFileSystem(new NodeFileSystem(), triggerFileFault(config.testDiskFaultFile)) },
    events: {
      diskFailed: (error) =>
        logger.error('hint log failed (disk full or failing): hints are not recorded until it opens again; requests are still served', {
          err: error,
          cause: (error as { cause?: NodeJS.ErrnoException } | undefined)?.cause?.code,
          retryMs: HINT_DISK_RETRY_MS_DEFAULT,
        }),
      diskRecovered: () => logger.warn('hint log open again: hints are recorded again'),
    },
  });
  if (floorLost) {
    logger.warn(
      'the clock floor is missing from DATA_DIR although this proxy ran here before (deleted, or restored without it): ' +
        'versions start from the wall clock alone, so a clock stepped back since may issue versions below earlier ones',
      { dataDir },
    );
  }
  const metrics = new ProxyMetrics(registry, hints);
  const probeTimeoutMs = Math.min(config.healthIntervalMs, config.nodeTimeoutMs);
  // Data nodes whose certificate failed verification, logged once until they verify again.
  const certificateRefused = new Set<string>();

  // Set once the coordinator exists: a node refusing a batch (another incarnation, a lapsed lease) is acted on at once.
  let refused: (nodeId: string, error: unknown) => void = () => undefined;
  // What each data node's last probe counted, for the status page.
  const nodeCounts = new Map<string, { keys?: number; tombstones?: number }>();
  const transport = new BatchingTransport({
    sender: new HttpBatchSender(clients, metrics.batchSent, (nodeId, error) => refused(nodeId, error)),
  });
  const coordinator = await Coordinator.open({
    claim,
    nodeIds,
    ring: new HashRing(nodeIds, { vnodes: config.vnodes }),
    transport,
    probe: async (nodeId) => {
      try {
        if (config.testLoneCoordinator) {
          const health = await client(nodeId).health({ timeoutMs: probeTimeoutMs });
          nodeCounts.set(nodeId, countsOf(health));
          return { ...health, coordinators: [] };
        }
        const status = await client(nodeId).status({ timeoutMs: probeTimeoutMs });
        certificateRefused.delete(nodeId);
        nodeCounts.set(nodeId, countsOf(status));
        return status;
      } catch (error) {
        if (isCertificateError(error) && !certificateRefused.has(nodeId)) {
          // Once until the node verifies again: a node with a certificate of another CA is down until it is replaced.
          certificateRefused.add(nodeId);
          logger.warn('data node refused: certificate verification failed (check TLS_CA_FILE and the node\'s TLS_CERT_FILE)', {
            node: nodeId,
            err: (error as Error).message,
          });
        }
        throw error;
      }
    },
    register: async (nodeId) => (config.testLoneCoordinator ? [] : (await client(nodeId).register({ timeoutMs: probeTimeoutMs })).coordinators),
    markFilled: (nodeId, incarnation) => client(nodeId).markFilled(incarnation, { timeoutMs: config.nodeTimeoutMs }),
    entries: (nodeId) => client(nodeId).entries({ idleMs: Math.max(config.nodeTimeoutMs, REFILL_IDLE_MS_MIN) }),
    expectIncarnation: (nodeId, incarnation) => client(nodeId).expectIncarnation(incarnation),
    clusterMap: {
      seed,
      streamBytesPerS: config.streamBytesPerS,
      membersChanged: (map) => {
        epochInUse = map.epoch;
        for (const member of map.members) clientFor(member.id, member.url);
        for (const member of map.members) client(member.id).useEpoch(map.epoch);
      },
      probeNew: async (url) => {
        const probe = newClient(url);
        try {
          const health = await probe.health({ timeoutMs: config.nodeTimeoutMs });
          return { nodeId: health.nodeId, keys: health.keys };
        } finally {
          probe.close();
        }
      },
      holdings: async (nodeId) => {
        const health = await client(nodeId).health({ timeoutMs: config.nodeTimeoutMs });
        return { keys: health.keys, bytes: health.bytes ?? 0 };
      },
      peers: {
        readMap: (nodeId) => client(nodeId).readMap({ timeoutMs: config.nodeTimeoutMs }),
        prepare: (nodeId, epoch, ballot) => client(nodeId).prepare(epoch, ballot, { timeoutMs: config.nodeTimeoutMs }),
        accept: (nodeId, ballot, map) => client(nodeId).accept(ballot, map, { timeoutMs: config.nodeTimeoutMs }),
        commit: (nodeId, map) => {
          const member = map.members.find((m) => m.id === nodeId);
          return (member === undefined ? client(nodeId) : clientFor(nodeId, member.url)).commitMap(map, { timeoutMs: config.nodeTimeoutMs });
        },
        rangeEntries: (nodeId, ranges) => client(nodeId).entries({ ranges, idleMs: Math.max(config.nodeTimeoutMs, REFILL_IDLE_MS_MIN) }),
        streamProgress: (nodeId, change) => client(nodeId).streamProgress(change, { timeoutMs: config.nodeTimeoutMs }),
        recordStreamed: (nodeId, change, indexes, keys, bytes) => client(nodeId).recordStream(change, indexes, { keys, bytes }, { timeoutMs: config.nodeTimeoutMs }),
      },
    },
    antiEntropy: {
      intervalMs: config.antiEntropyIntervalMs,
      bytesPerS: config.antiEntropyBytesPerS,
      keysPerS: config.antiEntropyKeysPerS,
      pauseMs: config.antiEntropyPauseMs,
      tombstoneGraceMs: config.tombstoneGraceMs,
      peers: {
        digests: async (nodeId, ranges, buckets) =>
          (await client(nodeId).digests(ranges, buckets, { timeoutMs: config.nodeTimeoutMs })).map((range) => ({
            digest: range.digest,
            keys: range.keys,
            ...(range.buckets === undefined ? {} : { buckets: range.buckets.map(([bucket, digest, keys]) => ({ bucket, digest, keys })) }),
          })),
        versions: async (nodeId, ranges, tombstonesBeforeMs) =>
          (await client(nodeId).versions(ranges, tombstonesBeforeMs, { timeoutMs: Math.max(config.nodeTimeoutMs, REFILL_IDLE_MS_MIN) })).keys,
        purge: (nodeId, epoch, entries) => client(nodeId).purge(epoch, entries, { timeoutMs: config.nodeTimeoutMs }),
      },
    },
    stable,
    hints: config.testWeaken === 'hints-without-expiry' ? hintsWithoutExpiry(hints) : hints,
    clock,
    monotonic: { now: () => performance.now() },
    timers: systemClock,
    replicas: config.replicas,
    writeQuorum: config.writeQuorum,
    readQuorum: config.readQuorum,
    timeoutMs: config.nodeTimeoutMs,
    versionDriftMsMax: 2 * config.maxClockSkewMs,
    maxClockSkewMs: config.maxClockSkewMs,
    healthIntervalMs: config.healthIntervalMs,
    unsafe: {
      unsafeClock: config.testUnsafeClock,
      readRepair: config.testReadRepair,
      backgroundRepairDelayMs: config.testReadRepairDelayMs,
      assumeAlone: config.testLoneCoordinator,
      purgeWithoutConfirmation: config.testWeaken === 'purge-without-confirmation',
    },
    events: {
      ...metrics.coordinatorEvents,
      hintFailed: (nodeId, error) => logger.warn('hint not recorded', { node: nodeId, err: error }),
      nodeStatusChanged: (status) => logger.warn(status.up ? 'node up' : 'node down', { node: status.id }),
      lostData: (nodeId, incarnation, previous) =>
        logger.warn('node lost its data: it no longer counts toward quorums until it is refilled', { node: nodeId, incarnation, previous }),
      refilled: (nodeId, report, ms) => {
        metrics.coordinatorEvents.refilled?.(nodeId, report, ms);
        logger.warn('node refilled: it counts toward quorums again', { node: nodeId, ...report, ms });
      },
      hintsDiscarded: (nodeId, hints) => {
        metrics.coordinatorEvents.hintsDiscarded?.(nodeId, hints);
        logger.info('hints discarded: their node left the cluster map (its ranges were streamed to their new owners)', { node: nodeId, hints });
      },
      refillFailed: (nodeId, error) => logger.warn('refill failed; will try again', { node: nodeId, err: error }),
      floorWriteFailed: (error) =>
        logger.error('clock floor not written: writes are refused once the floor on disk no longer covers them; reads are served', { err: error }),
      floorWritten: () => logger.warn('clock floor written again: writes are served again'),
      nodeStateNotRecorded: (nodeId, error) => logger.error('could not record the state of a data node', { node: nodeId, err: error }),
      versionIgnored: (version) => {
        metrics.versionIgnored();
        logger.warn('a version on a replica is too far ahead of this proxy\'s clock to follow: clocks disagree', { version });
      },
      joined: (others, waitedMs) => logger.info('joined the cluster', { otherProxies: others, waitedMs, leaseMs }),
      duplicateSeen: (nodeId) => logger.warn('a data node hears from another running proxy with this PROXY_ID; waiting for it to go', { node: nodeId }),
      leaseLapsed: () => logger.warn("this proxy's lease lapsed on a data node (it was paused or cut off): registering again"),
      mapAdopted: (map) => {
        metrics.clusterEpoch(map.epoch);
        logger.info('cluster map in use', {
          epoch: map.epoch,
          members: map.members.map((member) => (member.state === 'active' ? member.id : `${member.id} (${member.state})`)),
          change: map.transition === null ? null : { id: map.transition.id, phase: map.transition.phase },
        });
      },
      weakSync: (nodeId, mode) =>
        logger.warn(
          `data node ${nodeId} runs WAL_SYNC=${mode}: it acknowledges writes before they are on its disk, so a power loss of that node and another replica can lose acknowledged writes`,
          { node: nodeId, walSync: mode },
        ),
      skewSettingDiffers: (nodeId, nodeMs, ownMs) =>
        logger.warn('a data node refuses versions at another MAX_CLOCK_SKEW_MS than this proxy: set it alike on every process', {
          node: nodeId,
          nodeMaxClockSkewMs: nodeMs,
          proxyMaxClockSkewMs: ownMs,
        }),
      quorumsDiffer: (map, own) =>
        logger.warn(
          "the cluster map's N, W and R differ from this proxy's REPLICAS, WRITE_QUORUM and READ_QUORUM, which it counts quorums with: set them alike on every proxy",
          { epoch: map.epoch, map: { replicas: map.replicas, writeQuorum: map.writeQuorum, readQuorum: map.readQuorum }, proxy: own },
        ),
      changeStalled: (error) => logger.warn('membership change stalled; it resumes at the next turn', { err: error }),
      rangesStreamed: (target, ranges, keys, bytes, progress) => {
        metrics.rangesStreamed(ranges, keys, bytes);
        logger.info('ranges streamed', {
          change: progress.change,
          node: target,
          ranges,
          keys,
          bytes,
          done: `${progress.rangesDone}/${progress.rangesTotal}`,
        });
      },
      roundStarted: (progress) => logger.info('anti-entropy round started', { ranges: progress.rangesTotal, keyRange: progress.keyRange ?? null }),
      rangeCompared: (progress, found) => metrics.coordinatorEvents.rangeCompared?.(progress, found),
      roundFinished: (progress) => {
        metrics.coordinatorEvents.roundFinished?.(progress);
        const summary = {
          state: progress.state,
          ranges: progress.rangesDone,
          rangesFailed: progress.rangesFailed,
          differences: progress.differences,
          repaired: progress.repaired,
          purged: progress.purged,
          bytes: progress.bytes,
          ms: (progress.finishedAt ?? 0) - (progress.startedAt ?? 0),
          ...(progress.error === undefined ? {} : { error: progress.error }),
        };
        if (progress.state === 'done') logger.info('anti-entropy round done', summary);
        else logger.warn('anti-entropy round incomplete: ranges not compared are tried again next round, and no tombstone of theirs is purged', summary);
      },
      hintExpired: (hint) => {
        metrics.coordinatorEvents.hintExpired?.(hint);
        logger.info('hint dropped: older than TOMBSTONE_GRACE_MS minus MAX_CLOCK_SKEW_MS (anti-entropy repairs its replica)', { node: hint.nodeId, version: hint.version });
      },
      clockIdTaken: (error) => {
        // Another process serves with this clock id now: equal versions for different values must never be issued.
        process.stderr.write(`proxy: ${error.message}\n`);
        logger.error('another running proxy took this PROXY_ID while this one was away: exiting', { err: error });
        void flushLogger(logger).finally(() => process.exit(EXIT_CONFIG_ERROR));
      },
    },
  });
  metrics.watch(coordinator.health);
  refused = (nodeId, error) => coordinator.noteRefusal(nodeId, error);

  const ringCache = new RingViewCache();
  const statusPage = readStatusPage(path.join(__dirname, 'ui', 'index.html'));
  const ui: ProxyUi = {
    page: statusPage,
    sources: {
      counts: (nodeId) => nodeCounts.get(nodeId),
      ring: () => ringCache.view(coordinator.map ?? seed),
      hints: () => ({ pending: hints.count, bytes: hints.bytes, dropped: hints.dropped + hints.diskDropped }),
      // The anti-entropy round in progress or last ended on this proxy (POST /cluster/repair or the scheduled one).
      repair: () => coordinator.repairProgress,
    },
  };

  const syncModeOf = (nodeId: string): { walSync?: 'always' | 'interval' | 'none' } => {
    const walSync = coordinator.syncModeOf(nodeId);
    return walSync === undefined ? {} : { walSync };
  };
  const clusterView = (): ClusterResponse => {
    const map = coordinator.map ?? seed;
    const transition = map.transition;
    const progress = coordinator.changeProgress;
    return {
      nodes: map.members.map((member) => ({
        id: member.id,
        url: member.url,
        status: coordinator.health.isUp(member.id) ? 'up' : 'down',
        state: coordinator.stateOf(member.id),
        member: member.state,
        ...syncModeOf(member.id),
        ...coordinator.holdingsOf(member.id),
      })),
      replicas: map.replicas,
      writeQuorum: map.writeQuorum,
      readQuorum: map.readQuorum,
      vnodes: map.vnodes,
      epoch: coordinator.map?.epoch ?? 0,
      change:
        transition === null
          ? null
          : {
              id: transition.id,
              phase: transition.phase,
              add: [...transition.add],
              remove: [...transition.remove],
              progress:
                progress === undefined || progress.change !== transition.id
                  ? null
                  : { rangesDone: progress.rangesDone, rangesTotal: progress.rangesTotal, keysStreamed: progress.keysStreamed, bytesStreamed: progress.bytesStreamed },
            },
    };
  };
  const changeCluster = async (request: { add: { id: string; url: string }[]; remove: string[]; dryRun: boolean }): Promise<ClusterChangePlan | ClusterChangeStarted> => {
    const answer = await coordinator.changeMembership({ add: request.add, remove: request.remove }, request.dryRun);
    if (!answer.dryRun) {
      logger.warn('membership change started', { change: answer.change, epoch: answer.epoch, add: request.add, remove: request.remove });
      return { dryRun: false, epoch: answer.epoch, change: answer.change };
    }
    const plan = answer.plan;
    return {
      dryRun: true,
      epoch: plan.map.epoch,
      members: plan.map.members.map((member) => ({ ...member })),
      ranges: plan.ranges.map((range) => ({ ...range, from: [...range.from], to: [...range.to] })),
      keys: plan.keys,
      bytes: plan.bytes,
      share: plan.share,
    };
  };
  const repairView = (progress: RepairProgress | undefined, keyRangeText?: string): RepairStatus => ({
    state: progress?.state ?? 'idle',
    rangesDone: progress?.rangesDone ?? 0,
    rangesTotal: progress?.rangesTotal ?? 0,
    rangesFailed: progress?.rangesFailed ?? 0,
    differences: progress?.differences ?? 0,
    repaired: progress?.repaired ?? 0,
    purged: progress?.purged ?? 0,
    bytes: progress?.bytes ?? 0,
    keyRange: progress?.keyRange === undefined ? null : (keyRangeText ?? `${progress.keyRange.start}:${progress.keyRange.end}`),
    startedAt: progress?.startedAt ?? null,
    finishedAt: progress?.finishedAt ?? null,
    ...(progress?.error === undefined ? {} : { error: progress.error }),
  });
  const repair = async (request: { keyRange?: { start: number; end: number }; keyRangeText?: string; wait: boolean }): Promise<RepairStarted> => {
    const { started, done } = coordinator.repair(request.keyRange);
    done.catch(() => undefined);
    if (started) logger.info('repair requested', { keyRange: request.keyRangeText ?? null, wait: request.wait });
    const progress = request.wait ? await done : coordinator.repairProgress;
    return { ...repairView(progress, request.keyRangeText), started };
  };
  const ready = (): ReadyResponse & { ready: boolean } => {
    const memberIds = (coordinator.map ?? seed).members.map((member) => member.id);
    const nodesUp = memberIds.filter((id) => coordinator.health.isUp(id) && coordinator.health.isCounted(id)).length;
    return {
      ready: coordinator.presence.joined && nodesUp >= config.writeQuorum,
      status: 'ready',
      nodesUp,
      nodes: memberIds.length,
      writeQuorum: config.writeQuorum,
      joined: coordinator.presence.joined,
    };
  };
  const api = new PublicApi({
    replicator: coordinator.replicator,
    versions: coordinator.versions,
    maxValueBytes: config.maxValueBytes,
    batchResponseBytesMax: config.maxBatchResponseBytes,
  });
  const inFlight: InFlight = new InFlight(
    { requestsMax: config.maxRequestsInFlight, bytesMax: config.maxBytesInFlight },
    inFlightMetrics(registry, () => inFlight),
  );
  const deadlines = new RequestDeadlines(config.requestTimeoutMs);
  const { listener } = createApp({
    api,
    inFlight,
    deadlines,
    cluster: clusterView,
    changeCluster,
    repair,
    repairStatus: () => repairView(coordinator.repairProgress),
    ready,
    authToken: config.authToken,
    clusterToken: config.clusterToken,
    logger,
    registry,
    metricsText: index === undefined ? undefined : aggregatedMetrics(registry),
    expressDataRoutes: config.testExpressDataRoutes,
    ui,
  });

  await coordinator.start();
  const joined = coordinator.joined().catch(async (error: unknown) => {
    if (error instanceof DuplicateCoordinatorError) {
      process.stderr.write(`proxy: ${error.message}\n`);
      await flushLogger(logger);
      process.exit(EXIT_CONFIG_ERROR);
    }
  });
  // A worker takes connections on the shared port only once it may serve, so that none answers "not ready" beside
  // workers that are; a lone proxy listens at once (its liveness), and its readiness tells when it joined.
  if (index !== undefined) await joined;
  const server = createHttpServer(listener, {}, tls.server);
  const port = await listen(server, config.port, config.host);
  logger.info('listening', { host: config.host, port, protocol: tls.server === undefined ? 'http' : 'https', nodes: nodeIds, hintsPending: hints.count });
  // Workers leave the warnings to the primary, which logs them once.
  if (index === undefined) for (const warning of proxySecurityWarnings({ ...config, port })) logger.warn(warning);

  // The Redis protocol beside HTTP (RESP_PORT), over the same replicator; stopped before the node clients close.
  const resp = await startRespServer(config.respPort, config.host, {
    backend: new ProxyRespBackend({
      replicator: coordinator.replicator,
      versions: coordinator.versions,
      cluster: clusterView,
      maxValueBytes: config.maxValueBytes,
      proxyId: clockId,
      now: () => clock.now(),
      deadlines,
      inFlight,
      batchResponseBytesMax: config.maxBatchResponseBytes,
    }),
    authToken: config.authToken,
    maxValueBytes: config.maxValueBytes,
    idleTimeoutMs: config.respIdleTimeoutMs,
    logger,
    registry,
  });

  onStopSignal(async () => {
    await stopCoordinator({
      drain: async () => {
        await Promise.all([closeServer(server, SHUTDOWN_GRACE_MS_DEFAULT), resp.stop(SHUTDOWN_GRACE_MS_DEFAULT)]);
      },
      stopCoordinator: () => coordinator.stop(),
      replicasSettled: () => coordinator.replicator.settled(),
      closeNodeClients: () => {
        for (const nodeClient of clients.values()) nodeClient.close();
      },
      closeHints: () => hints.close(),
    });
    await lock.release();
    logger.info('stopped');
    await flushLogger(logger);
  }, logger);
}

/**
 * The proxy's wall clock: the system's, or under test-only settings one shifted by an offset (fixed, or read again
 * from a file every {@link OFFSET_FILE_POLL_MS} to step it while running) or frozen.
 */
function wallClock(config: ProxyConfig, logger: Logger): Clock {
  if (config.testFrozenClockMs !== undefined) {
    const frozen = config.testFrozenClockMs;
    return { now: () => frozen };
  }
  let offsetMs = config.testClockOffsetMs;
  const file = config.testClockOffsetFile;
  if (file !== undefined) {
    const read = (): void => {
      try {
        const parsed = Number(readFileSync(file, 'utf8').trim());
        if (Number.isFinite(parsed)) offsetMs = config.testClockOffsetMs + parsed;
      } catch {
        // no file yet: no offset
      }
    };
    read();
    setInterval(read, OFFSET_FILE_POLL_MS).unref();
    logger.warn('test-only: the wall clock follows an offset file', { file });
  }
  return { now: () => Date.now() + offsetMs };
}

/** A worker's `/metrics`: the metrics of every worker, aggregated by the primary. */
function aggregatedMetrics(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Installs the worker's side of prom-client's aggregation (it answers the primary's requests).
  new AggregatorRegistry();
  let nextId = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: { type?: string; id?: number; text?: string; error?: string }) => {
    if (message?.type !== METRICS_ANSWER || message.id === undefined) return;
    const request = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) request?.reject(new Error(message.error));
    else request?.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      process.send?.({ type: METRICS_REQUEST, id });
    });
}
