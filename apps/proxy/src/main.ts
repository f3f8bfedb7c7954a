import path from 'node:path';
import { NodeClient, type ClusterResponse } from '@kv/protocol';
import {
  BatchingTransport,
  Coordinator,
  DurableHintStore,
  FileStableStore,
  HttpBatchSender,
  offsetClock,
  systemClock,
} from '@kv/quorum';
import { HashRing } from '@kv/ring';
import {
  SHUTDOWN_GRACE_MS_DEFAULT,
  closeServer,
  createHttpServer,
  createLogger,
  createRegistry,
  describeConfig,
  flushLogger,
  listen,
  onStopSignal,
  startProcess,
} from '@kv/service';
import { createApp } from './app';
import { PROXY_SETTINGS, readProxyConfig } from './config';
import { ProxyMetrics } from './proxy-metrics';
import { PublicApi } from './public-api';
import { ProxyRespBackend } from './resp-backend';
import { startRespServer } from './resp-server';

/** Sockets per data node: batching keeps one batch in flight per node, a few more serve probes and hints. */
const NODE_SOCKETS_MAX = 4;
/** Time without data allowed while a peer streams its entries for a refill. */
const REFILL_IDLE_MS_MIN = 10_000;

startProcess('proxy', PROXY_SETTINGS, async () => {
  const config = readProxyConfig();
  const logger = createLogger({ level: config.logLevel, service: 'proxy', fields: { proxyId: config.proxyId } });
  const registry = createRegistry('proxy');
  logger.info('starting', { config: describeConfig(PROXY_SETTINGS, config) });
  if (config.testUnsafeClock || config.testClockOffsetMs !== 0 || config.testReadRepair !== 'blocking') {
    logger.warn('test-only settings in effect: guarantees are weakened', {
      testUnsafeClock: config.testUnsafeClock,
      testClockOffsetMs: config.testClockOffsetMs,
      testReadRepair: config.testReadRepair,
    });
  }

  const clock = offsetClock(systemClock, config.testClockOffsetMs);
  const nodeIds = config.nodes.map((node) => node.id);
  const clients = new Map(
    config.nodes.map((node) => [
      node.id,
      new NodeClient({ baseUrl: node.url, token: config.clusterToken, timeoutMs: config.nodeTimeoutMs, maxSockets: NODE_SOCKETS_MAX }),
    ]),
  );
  const client = (nodeId: string): NodeClient => clients.get(nodeId) as NodeClient;
  const hints = await DurableHintStore.open(path.join(config.dataDir, 'hints'), { hintsMax: config.hintsMax });
  const metrics = new ProxyMetrics(registry, hints);

  // Set once the coordinator exists: a node refusing a batch as another incarnation is probed at once.
  let probeNow: (nodeId: string) => void = () => undefined;
  const transport = new BatchingTransport({
    sender: new HttpBatchSender(clients, metrics.batchSent, (nodeId) => probeNow(nodeId)),
  });
  const coordinator = await Coordinator.open({
    clockId: config.proxyId,
    nodeIds,
    ring: new HashRing(nodeIds, { vnodes: config.vnodes }),
    transport,
    probe: (nodeId) => client(nodeId).health({ timeoutMs: Math.min(config.healthIntervalMs, config.nodeTimeoutMs) }),
    entries: (nodeId) => client(nodeId).entries({ idleMs: Math.max(config.nodeTimeoutMs, REFILL_IDLE_MS_MIN) }),
    expectIncarnation: (nodeId, incarnation) => client(nodeId).expectIncarnation(incarnation),
    stable: new FileStableStore(config.dataDir),
    hints,
    clock,
    timers: systemClock,
    replicas: config.replicas,
    writeQuorum: config.writeQuorum,
    readQuorum: config.readQuorum,
    timeoutMs: config.nodeTimeoutMs,
    healthIntervalMs: config.healthIntervalMs,
    unsafe: {
      unsafeClock: config.testUnsafeClock,
      readRepair: config.testReadRepair,
      backgroundRepairDelayMs: config.testReadRepairDelayMs,
    },
    events: {
      ...metrics.coordinatorEvents,
      hintFailed: (nodeId, error) => logger.warn('hint not recorded', { node: nodeId, err: error }),
      nodeStatusChanged: (status) => logger.warn(status.up ? 'node up' : 'node down', { node: status.id }),
      lostData: (nodeId, incarnation, previous) =>
        logger.warn('node lost its data: it no longer counts toward quorums until it is refilled', { node: nodeId, incarnation, previous }),
      refilled: (nodeId, report, ms) => logger.warn('node refilled: it counts toward quorums again', { node: nodeId, ...report, ms }),
      refillFailed: (nodeId, error) => logger.warn('refill failed; will try again', { node: nodeId, err: error }),
      floorWriteFailed: (error) => logger.error('clock floor not written', { err: error }),
      nodeStateNotRecorded: (nodeId, error) => logger.error('could not record the state of a data node', { node: nodeId, err: error }),
    },
  });
  metrics.watch(coordinator.health);
  probeNow = (nodeId) => coordinator.probeNow(nodeId);

  const cluster = (): ClusterResponse => ({
    nodes: config.nodes.map((node) => ({
      id: node.id,
      url: node.url,
      status: coordinator.health.isUp(node.id) ? 'up' : 'down',
      state: coordinator.stateOf(node.id),
    })),
    replicas: config.replicas,
    writeQuorum: config.writeQuorum,
    readQuorum: config.readQuorum,
    vnodes: config.vnodes,
  });
  const api = new PublicApi({ replicator: coordinator.replicator, versions: coordinator.versions, maxValueBytes: config.maxValueBytes });
  const { listener } = createApp({
    api,
    cluster,
    authToken: config.authToken,
    logger,
    registry,
    expressDataRoutes: config.testExpressDataRoutes,
  });

  await coordinator.start();
  const server = createHttpServer(listener);
  const port = await listen(server, config.port, config.host);
  logger.info('listening', { host: config.host, port, nodes: nodeIds, hintsPending: hints.count });

  // The Redis protocol beside HTTP (RESP_PORT), over the same replicator; stopped before the node clients close.
  const resp = await startRespServer(config.respPort, config.host, {
    backend: new ProxyRespBackend({ replicator: coordinator.replicator, versions: coordinator.versions, cluster, maxValueBytes: config.maxValueBytes, proxyId: config.proxyId, now: () => clock.now() }),
    authToken: config.authToken,
    maxValueBytes: config.maxValueBytes,
    idleTimeoutMs: config.respIdleTimeoutMs,
    logger,
    registry,
  });

  onStopSignal(async () => {
    await Promise.all([closeServer(server, SHUTDOWN_GRACE_MS_DEFAULT), resp.stop(SHUTDOWN_GRACE_MS_DEFAULT)]);
    await coordinator.stop();
    await hints.close();
    for (const nodeClient of clients.values()) nodeClient.close();
    logger.info('stopped');
    await flushLogger(logger);
  }, logger);
});
