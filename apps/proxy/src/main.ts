import path from 'node:path';
import { NodeClient, type ClusterResponse } from '@kv/protocol';
import { BatchingTransport, DurableHintStore, HintReplayer, NodeHealth, Refiller, Replicator } from '@kv/quorum';
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
import { ClockFloor } from './clock-floor';
import { PROXY_SETTINGS, readProxyConfig } from './config';
import { HealthChecker } from './health-checker';
import { HttpBatchSender } from './http-batch-sender';
import { NodeMembership } from './node-membership';
import { ProxyMetrics } from './proxy-metrics';
import { ProxyVersions } from './proxy-versions';
import { PublicApi } from './public-api';
import { ProxyRespBackend } from './resp-backend';
import { startRespServer } from './resp-server';

/** How often the clock floor is pushed ahead, off the request path. */
const FLOOR_ADVANCE_INTERVAL_MS = 1000;
/** Sockets per data node: batching keeps one batch in flight per node, a few more serve probes and hints. */
const NODE_SOCKETS_MAX = 4;

startProcess('proxy', PROXY_SETTINGS, async () => {
  const config = readProxyConfig();
  const logger = createLogger({ level: config.logLevel, service: 'proxy', fields: { proxyId: config.proxyId } });
  const registry = createRegistry('proxy');
  logger.info('starting', { config: describeConfig(PROXY_SETTINGS, config) });

  const unsafeClock = config.testUnsafeClock;
  if (unsafeClock || config.testClockOffsetMs !== 0 || config.testReadRepair !== 'blocking') {
    logger.warn('test-only settings in effect: guarantees are weakened', {
      testUnsafeClock: unsafeClock,
      testClockOffsetMs: config.testClockOffsetMs,
      testReadRepair: config.testReadRepair,
    });
  }
  const floor = unsafeClock ? undefined : await ClockFloor.open(config.dataDir);
  const versions = new ProxyVersions({
    proxyId: config.proxyId,
    floor,
    clockOffsetMs: config.testClockOffsetMs,
    observeVersions: !unsafeClock,
  });
  await versions.advanceFloor();

  const nodeIds = config.nodes.map((node) => node.id);
  const ring = new HashRing(nodeIds, { vnodes: config.vnodes });
  const clients = new Map(
    config.nodes.map((node) => [
      node.id,
      new NodeClient({ baseUrl: node.url, token: config.clusterToken, timeoutMs: config.nodeTimeoutMs, maxSockets: NODE_SOCKETS_MAX }),
    ]),
  );
  const health = new NodeHealth(nodeIds);
  const hints = await DurableHintStore.open(path.join(config.dataDir, 'hints'), { hintsMax: config.hintsMax });
  const metrics = new ProxyMetrics(registry, health, hints);
  health.onChange((status) => logger.warn(status.up ? 'node up' : 'node down', { node: status.id }));

  // Set once the health checker exists: a node refusing a batch as another incarnation is probed at once.
  let probeNow: (nodeId: string) => void = () => undefined;
  const transport = new BatchingTransport({
    sender: new HttpBatchSender(clients, metrics.batchSent, (nodeId) => probeNow(nodeId)),
  });
  const replicator = new Replicator({
    ring,
    transport,
    versions,
    health,
    hints,
    replicas: config.replicas,
    writeQuorum: config.writeQuorum,
    readQuorum: config.readQuorum,
    timeoutMs: config.nodeTimeoutMs,
    readRepair: config.testReadRepair,
    backgroundRepairDelayMs: config.testReadRepairDelayMs,
    supersededWrites: unsafeClock ? 'acknowledge' : 'retry',
    events: {
      ...metrics.replicatorEvents,
      hintFailed: (nodeId, error) => logger.warn('hint not recorded', { node: nodeId, err: error }),
    },
  });
  const replayer = new HintReplayer({ hints, transport, health, timeoutMs: config.nodeTimeoutMs, onDelivered: metrics.hintDelivered });
  const refiller = new Refiller({
    ring,
    replicas: config.replicas,
    transport,
    timeoutMs: config.nodeTimeoutMs,
    source: (nodeId) => (clients.get(nodeId) as NodeClient).entries({ idleMs: Math.max(config.nodeTimeoutMs, 10_000) }),
  });
  const membership = new NodeMembership({
    dataDir: config.dataDir,
    nodeIds,
    clients,
    health,
    refiller,
    logger,
    onStateChange: metrics.nodeStateChanged,
  });
  await membership.open();
  const checker = new HealthChecker(
    nodeIds,
    health,
    (nodeId) => (clients.get(nodeId) as NodeClient).health({ timeoutMs: Math.min(config.healthIntervalMs, config.nodeTimeoutMs) }),
    config.healthIntervalMs,
    (nodeId, answer) => membership.observe(nodeId, answer.incarnation),
    (nodeId, error) => logger.error('could not record the state of a data node', { node: nodeId, err: error }),
  );
  probeNow = (nodeId) => void checker.check(nodeId);

  const cluster = (): ClusterResponse => ({
    nodes: config.nodes.map((node) => ({
      id: node.id,
      url: node.url,
      status: health.isUp(node.id) ? 'up' : 'down',
      state: membership.stateOf(node.id),
    })),
    replicas: config.replicas,
    writeQuorum: config.writeQuorum,
    readQuorum: config.readQuorum,
    vnodes: config.vnodes,
  });
  const api = new PublicApi({ replicator, versions, maxValueBytes: config.maxValueBytes });
  const { listener } = createApp({
    api,
    cluster,
    authToken: config.authToken,
    logger,
    registry,
    expressDataRoutes: config.testExpressDataRoutes,
  });

  await checker.start();
  replayer.start();
  const floorTimer = setInterval(() => {
    versions.advanceFloor().catch((error: unknown) => {
      // Versions beyond the floor on disk wait for it (ProxyVersions.ready), so a failing disk stops writes, not safety.
      logger.error('clock floor not written', { err: error });
    });
  }, FLOOR_ADVANCE_INTERVAL_MS);
  floorTimer.unref();

  const server = createHttpServer(listener);
  const port = await listen(server, config.port, config.host);
  logger.info('listening', { host: config.host, port, nodes: nodeIds, hintsPending: hints.count });

  // The Redis protocol beside HTTP (RESP_PORT), over the same replicator; stopped before the node clients close.
  const resp = await startRespServer(config.respPort, config.host, {
    backend: new ProxyRespBackend({ replicator, versions, cluster, maxValueBytes: config.maxValueBytes, proxyId: config.proxyId }),
    authToken: config.authToken,
    maxValueBytes: config.maxValueBytes,
    idleTimeoutMs: config.respIdleTimeoutMs,
    logger,
    registry,
  });

  onStopSignal(async () => {
    await Promise.all([closeServer(server, SHUTDOWN_GRACE_MS_DEFAULT), resp.stop(SHUTDOWN_GRACE_MS_DEFAULT)]);
    checker.stop();
    clearInterval(floorTimer);
    await membership.stop();
    await replayer.stop();
    await hints.close();
    for (const client of clients.values()) client.close();
    logger.info('stopped');
    await flushLogger(logger);
  }, logger);
});
