import { performance } from 'node:perf_hooks';
import { ReplicaService, systemClock } from '@kv/quorum';
import { openStore } from '@kv/wal';
import {
  SHUTDOWN_GRACE_MS_DEFAULT,
  closeServer,
  createHttpServer,
  createLogger,
  createRegistry,
  describeConfig,
  flushLogger,
  listen,
  loadServerTls,
  lockDataDir,
  onStopSignal,
  startProcess,
} from '@kv/service';
import { Histogram } from 'prom-client';
import { createApp } from './app';
import { DATANODE_SETTINGS, readDatanodeConfig } from './config';
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
  const store = await openStore(config.dataDir, {
    sync: config.walSync,
    syncIntervalMs: config.walSyncIntervalMs,
    logger,
    onSync: (info) => {
      syncSeconds.observe(info.durationMs / 1000);
      syncRecords.observe(info.records);
    },
    onFatal: (error) => {
      // The log can no longer promise durability: stop at once and let recovery replay the log on restart.
      process.stderr.write(`datanode ${config.nodeId}: fatal log error, exiting: ${error.message}\n`);
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
  });

  const { listener } = createApp({
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

  onStopSignal(async () => {
    await closeServer(server, SHUTDOWN_GRACE_MS_DEFAULT);
    await store.close();
    await lock.release();
    logger.info('stopped');
    await flushLogger(logger);
  }, logger);
});
