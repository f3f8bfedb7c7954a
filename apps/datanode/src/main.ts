import { performance } from 'node:perf_hooks';
import { EXPIRY_SWEEP_INTERVAL_MS_DEFAULT, PeriodicTask, ReplicaService, systemClock } from '@kv/quorum';
import { FaultFileSystem, NodeFileSystem, openStore, triggerFileFault } from '@kv/wal';
import {
  SHUTDOWN_GRACE_MS_DEFAULT,
  closeServer,
  createHttpServer,
  createLogger,
  createRegistry,
  describeConfig,
  InFlight,
  inFlightMetrics,
  flushLogger,
  listen,
  loadServerTls,
  lockDataDir,
  onStopSignal,
  startProcess,
} from '@kv/service';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createApp } from './app';
import { HeapGuard } from './heap-guard';
import { DATANODE_SETTINGS, datanodeSecurityWarnings, readDatanodeConfig, replicaDigestOptions } from './config';
import { loadClusterState } from './cluster-state';
import { loadIncarnation } from './incarnation';

startProcess('datanode', DATANODE_SETTINGS, async () => {
  const config = readDatanodeConfig();
  // Read before anything else: a missing or mismatched file is a configuration error (exit 2), found at once.
  const tls = loadServerTls({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, clientCaFile: config.tlsClientCaFile });
  const logger = createLogger({ level: config.logLevel, service: 'datanode', fields: { nodeId: config.nodeId } });
  const registry = createRegistry('datanode');
  const syncSeconds = new Histogram({
    name: 'kv_wal_sync_seconds',
    help: 'Time of one group commit of the log (write and fdatasync)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const syncRecords = new Histogram({
    name: 'kv_wal_sync_records',
    help: 'Records made durable by one group commit of the log',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    registers: [registry],
  });

  logger.info('opening store', { config: describeConfig(DATANODE_SETTINGS, config) });
  const lock = await lockDataDir(config.dataDir, `datanode ${config.nodeId}`);
  const identity = await loadIncarnation(config.dataDir);
  if (config.testDiskFaultFile !== undefined) {
    logger.warn(
      config.testIgnoreDiskErrors
        ? 'test-only: the log drops its writes and reports them done while the disk fault file exists (durability weakened)'
        : 'test-only: the log fails while the disk fault file exists',
      { file: config.testDiskFaultFile },
    );
  }
  const store = await openStore(config.dataDir, {
    fs: config.testDiskFaultFile === undefined ? undefined : new FaultFileSystem(new NodeFileSystem(), triggerFileFault(config.testDiskFaultFile), { drop: config.testIgnoreDiskErrors }),
    sync: config.walSync,
    syncIntervalMs: config.walSyncIntervalMs,
    logger,
    onSync: (info) => {
      syncSeconds.observe(info.durationMs / 1000);
      syncRecords.observe(info.records);
    },
    onFatal: (error) => {
      // Crash-only: the log can no longer promise durability (after a failed fsync the page cache may have dropped the
      // data), so stop at once; every acknowledged write was fsynced, and recovery replays the log on restart.
      const cause = (error.cause as NodeJS.ErrnoException | undefined)?.code;
      const disk = cause === 'ENOSPC' ? 'the disk is full' : cause === undefined ? 'the disk failed' : `the disk failed (${cause})`;
      const line = `fatal log error, exiting: ${disk}: ${error.message}; acknowledged writes are on disk, restart once the disk is fixed`;
      process.stderr.write(`datanode ${config.nodeId}: ${line}\n`);
      logger.error(line, { code: error.code, cause });
      process.exit(1);
    },
  });
  logger.info('recovered', { recovery: store.recovery, keys: store.size, incarnation: identity.incarnation, filled: identity.filled });
  if (!identity.filled) logger.warn('new data directory: this node counts toward quorums once a proxy has refilled it', { incarnation: identity.incarnation });
  const clusterState = await loadClusterState(config.dataDir);
  logger.info('cluster map', { epoch: clusterState.mapState.committed?.epoch ?? 0 });
  const replica = new ReplicaService({
    nodeId: config.nodeId,
    store,
    keys: (function* keys() {
      for (const entry of store.allEntries()) yield entry.key;
    })(),
    mapState: clusterState.mapState,
    persistMap: clusterState.persistMap,
    streamProgress: clusterState.streamProgress,
    persistStream: clusterState.persistStream,
    incarnation: identity.incarnation,
    filled: identity.filled,
    recordFilled: identity.recordFilled,
    wall: systemClock,
    monotonic: { now: () => performance.now() },
    maxClockSkewMs: config.maxClockSkewMs,
    ...replicaDigestOptions(config),
  });
  if (config.testRangeDigests === 'off') logger.warn('test-only: range digests are not kept (TEST_RANGE_DIGESTS=off): anti-entropy cannot compare this node');

  // Expired values become tombstones at their own version once MAX_CLOCK_SKEW_MS has passed (bounded work per tick);
  // the first tick converts what expired while the node was down.
  const expiredConverted = new Counter({
    name: 'kv_expired_converted_total',
    help: 'Expired values this node turned into tombstones at their version (MAX_CLOCK_SKEW_MS after they expired)',
    registers: [registry],
  });
  const expirySweep = new PeriodicTask(
    systemClock,
    EXPIRY_SWEEP_INTERVAL_MS_DEFAULT,
    async () => {
      const converted = await replica.sweepExpired();
      if (converted === 0) return;
      expiredConverted.inc(converted);
      logger.debug('expired values turned into tombstones', { converted, waiting: replica.expiry.size });
    },
    (error) => logger.warn('converting expired values failed; will retry', { error: String(error) }),
  );
  expirySweep.start();

  const inFlight: InFlight = new InFlight(
    { requestsMax: config.maxRequestsInFlight, bytesMax: config.maxBytesInFlight },
    inFlightMetrics(registry, () => inFlight),
  );
  const heap = new HeapGuard({
    percentMax: config.maxHeapPercent,
    changed: (state, percent, before) => {
      const fields = { heapPercent: Math.round(percent), maxHeapPercent: config.maxHeapPercent };
      if (state === 'refusing') logger.error('memory nearly full (heap, or the container limit): writes of values are refused until keys are deleted or the node gets more memory', fields);
      else if (state === 'warning') logger.warn(`heap within ${before === 'refusing' ? 'the warning margin again: writes accepted' : '10 points of MAX_HEAP_PERCENT: writes will be refused beyond it'}`, fields);
      else logger.info('heap below the warning margin again', fields);
    },
  });
  new Gauge({
    name: 'kv_heap_used_percent',
    help: "Percent of the heap's limit in use at the latest reading; writes of values are refused at MAX_HEAP_PERCENT",
    registers: [registry],
    collect() {
      this.set(heap.percent);
    },
  });
  heap.start();
  const { listener } = createApp({
    inFlight,
    heap,
    store,
    nodeId: config.nodeId,
    replica,
    clusterToken: config.clusterToken,
    maxValueBytes: config.maxValueBytes,
    walSync: config.walSync,
    logger,
    registry,
  });
  const server = createHttpServer(listener, {}, tls);
  const port = await listen(server, config.port, config.host);
  logger.info('listening', { host: config.host, port, protocol: tls === undefined ? 'http' : 'https', clientCertificates: tls?.clientCa !== undefined });
  for (const warning of datanodeSecurityWarnings({ ...config, port })) logger.warn(warning);

  onStopSignal(async () => {
    await closeServer(server, SHUTDOWN_GRACE_MS_DEFAULT);
    await expirySweep.stop();
    heap.stop();
    await store.close();
    await lock.release();
    logger.info('stopped');
    await flushLogger(logger);
  }, logger);
});
