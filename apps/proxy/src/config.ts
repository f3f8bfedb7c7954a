import { NODE_TIMEOUT_MS_DEFAULT, VALUE_BYTES_LIMIT, VALUE_BYTES_MAX_DEFAULT, isClockId } from '@kv/protocol';
import { ANTI_ENTROPY_KEYS_PER_S_DEFAULT, HEALTH_INTERVAL_MS_DEFAULT, HINTS_MAX_BYTES_DEFAULT, HINTS_MAX_DEFAULT, MAX_CLOCK_SKEW_MS_DEFAULT } from '@kv/quorum';
import { RESP_IDLE_TIMEOUT_MS_DEFAULT } from '@kv/resp';
import { REQUEST_TIMEOUT_MS_DEFAULT } from './request-deadline';

/** Default bound on the values one `POST /batch` answer carries: 16 MiB, 16 values of the default largest size. */
export const BATCH_RESPONSE_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

/** Default interval of anti-entropy rounds: 10 minutes. */
export const ANTI_ENTROPY_INTERVAL_MS_DEFAULT = 600_000;
/** Default rate of anti-entropy repairs: 4 MiB/s (docs/benchmarks.md, Anti-entropy). */
export const ANTI_ENTROPY_BYTES_PER_S_DEFAULT = 4 * 1024 * 1024;
/** Default pause between two ranges of a round. */
export const ANTI_ENTROPY_PAUSE_MS_DEFAULT = 50;
/** Default grace before a confirmed tombstone is purged: one day. */
export const TOMBSTONE_GRACE_MS_DEFAULT = 86_400_000;

/** Default streaming rate of membership changes: 8 MiB/s, which keeps foreground p99 within 2x of idle (docs/benchmarks.md, Membership change). */
export const STREAM_BYTES_PER_S_DEFAULT = 8 * 1024 * 1024;
import { ConfigError, IN_FLIGHT_SETTINGS, LOG_LEVELS, isLoopbackHost, parse, parseTokens, readConfig, sampleTokenWarning, type ConfigOf, type Setting } from '@kv/service';

/** One data node of `NODES`. */
export interface NodeAddress {
  readonly id: string;
  readonly url: string;
}

/** Parses `node1=http://127.0.0.1:8001,node2=...`: unique ids, http(s) URLs. */
export function parseNodes(raw: string): NodeAddress[] {
  const nodes: NodeAddress[] = [];
  for (const item of raw.split(',')) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new ConfigError(`must be a comma-separated list of id=url, got ${JSON.stringify(trimmed)}`);
    const id = trimmed.slice(0, eq).trim();
    try {
      parse.id(id);
    } catch {
      throw new ConfigError(`has a bad node id ${JSON.stringify(id)}: use letters, digits, "_", "." or "-"`);
    }
    let url: string;
    try {
      url = parse.url(trimmed.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`has a bad URL for ${id}: ${JSON.stringify(trimmed.slice(eq + 1))}`);
    }
    if (nodes.some((node) => node.id === id)) throw new ConfigError(`names node ${id} twice`);
    nodes.push({ id, url });
  }
  if (nodes.length === 0) throw new ConfigError('must name at least one data node');
  return nodes;
}


const setting = <T>(s: Setting<T>): Setting<T> => s;

/** Most worker processes of one proxy: beyond the cores of any machine it runs on, each costs memory and sockets. */
export const PROXY_WORKERS_MAX = 64;

/** The proxy's settings (docs/configuration.md#proxy), each an environment variable and a `--flag`. */
export const PROXY_SETTINGS = {
  port: setting({ env: 'PORT', parse: parse.port, default: 8000, describe: 'port of the public API' }),
  host: setting({ env: 'HOST', parse: parse.text, default: '0.0.0.0', describe: 'address to listen on' }),
  nodes: setting<NodeAddress[] | undefined>({
    env: 'NODES',
    parse: parseNodes,
    describe: 'the data nodes: node1=http://127.0.0.1:8001,node2=...',
  }),
  replicas: setting({ env: 'REPLICAS', parse: parse.integer(1, 16), default: 3, describe: 'N: copies of each key' }),
  writeQuorum: setting({ env: 'WRITE_QUORUM', parse: parse.integer(1, 16), default: 2, describe: 'W: acknowledgements a write needs' }),
  readQuorum: setting({ env: 'READ_QUORUM', parse: parse.integer(1, 16), default: 2, describe: 'R: replies a read needs' }),
  vnodes: setting({ env: 'VNODES', parse: parse.integer(1, 4096), default: 128, describe: 'virtual nodes per data node on the ring' }),
  nodeTimeoutMs: setting({
    env: 'NODE_TIMEOUT_MS',
    parse: parse.integer(1, 600_000),
    default: NODE_TIMEOUT_MS_DEFAULT,
    describe: 'deadline of one request to a data node, in ms',
  }),
  requestTimeoutMs: setting({
    env: 'REQUEST_TIMEOUT_MS',
    parse: parse.integer(1, 600_000),
    default: REQUEST_TIMEOUT_MS_DEFAULT,
    describe: 'deadline of one public request (HTTP or RESP command) once read, in ms: then 503 KV_QUORUM_FAILED, and its operations not yet sent are dropped',
  }),
  healthIntervalMs: setting({
    env: 'HEALTH_INTERVAL_MS',
    // The lease is the larger of 2 s and three intervals, and data nodes accept leases up to 300 s.
    parse: parse.integer(10, 100_000),
    default: HEALTH_INTERVAL_MS_DEFAULT,
    describe: "how often data nodes are probed, in ms (a proxy's lease is three of them, at least 2 s)",
  }),
  streamBytesPerS: setting({
    env: 'STREAM_BYTES_PER_S',
    parse: parse.integer(1024, 10 * 1024 * 1024 * 1024),
    default: STREAM_BYTES_PER_S_DEFAULT,
    describe: 'how fast a membership change copies data to the nodes gaining ranges, in bytes per second',
  }),
  antiEntropyIntervalMs: setting({
    env: 'ANTI_ENTROPY_INTERVAL_MS',
    parse: parse.integer(0, 7 * 86_400_000),
    default: ANTI_ENTROPY_INTERVAL_MS_DEFAULT,
    describe: "how often the driving proxy compares every range's replicas and repairs them, in ms; 0: only on demand (kv repair)",
  }),
  antiEntropyBytesPerS: setting({
    env: 'ANTI_ENTROPY_BYTES_PER_S',
    parse: parse.integer(1024, 10 * 1024 * 1024 * 1024),
    default: ANTI_ENTROPY_BYTES_PER_S_DEFAULT,
    describe: 'how fast anti-entropy writes repairs to stale replicas, in bytes per second',
  }),
  antiEntropyKeysPerS: setting({
    env: 'ANTI_ENTROPY_KEYS_PER_S',
    parse: parse.integer(1, 1_000_000),
    default: ANTI_ENTROPY_KEYS_PER_S_DEFAULT,
    describe: 'how many differing keys anti-entropy repairs per second at most (each read from a replica that holds its newest version, then written to the stale ones)',
  }),
  antiEntropyPauseMs: setting({
    env: 'ANTI_ENTROPY_PAUSE_MS',
    parse: parse.integer(0, 60_000),
    default: ANTI_ENTROPY_PAUSE_MS_DEFAULT,
    describe: 'pause of anti-entropy between two ranges of the ring, in ms (spreads the digests over time)',
  }),
  tombstoneGraceMs: setting({
    env: 'TOMBSTONE_GRACE_MS',
    parse: parse.integer(0, 10 * 365 * 86_400_000),
    default: TOMBSTONE_GRACE_MS_DEFAULT,
    describe:
      'tombstones older than this, confirmed on every replica by anti-entropy, are purged; hints older than this minus MAX_CLOCK_SKEW_MS are dropped; 0: tombstones are kept',
  }),
  dataDir: setting({ env: 'DATA_DIR', parse: parse.text, default: './data/proxy', describe: "the proxy's durable state (clock floor, hints)" }),
  clusterToken: setting<readonly string[] | undefined>({
    env: 'CLUSTER_TOKEN',
    parse: parseTokens,
    secret: true,
    refuseEmpty: true,
    describe: 'sent to data nodes as Authorization: Bearer <token>; of a comma-separated list the first is sent, any shows node URLs in /cluster',
  }),
  authToken: setting<readonly string[] | undefined>({
    env: 'AUTH_TOKEN',
    parse: parseTokens,
    secret: true,
    refuseEmpty: true,
    describe: 'when set, every /kv, /batch and /cluster/changes request (and RESP connection) must carry one of these comma-separated tokens',
  }),
  maxValueBytes: setting({
    env: 'MAX_VALUE_BYTES',
    parse: parse.integer(1, VALUE_BYTES_LIMIT),
    default: VALUE_BYTES_MAX_DEFAULT,
    describe: 'largest value accepted, in bytes',
  }),
  hintsMax: setting({
    env: 'HINTS_MAX',
    parse: parse.integer(1, 10_000_000),
    default: HINTS_MAX_DEFAULT,
    describe: 'pending hints kept for nodes that missed writes (oldest dropped first)',
  }),
  hintsMaxBytes: setting({
    env: 'HINTS_MAX_BYTES',
    parse: parse.integer(1024, 2 ** 40),
    default: HINTS_MAX_BYTES_DEFAULT,
    describe: 'bytes of pending hints (keys and values) kept in memory and on disk (oldest dropped first)',
  }),
  proxyId: setting<string | undefined>({
    env: 'PROXY_ID',
    parse: (raw: string) => {
      if (!isClockId(raw)) throw new ConfigError('must be 1..16 of a-z, 0-9, "_" or "-"');
      return raw;
    },
    describe: "this proxy's clock id, unique among proxies (default: generated at first start and kept in DATA_DIR)",
  }),
  proxyWorkers: setting({
    env: 'PROXY_WORKERS',
    parse: parse.integer(0, PROXY_WORKERS_MAX),
    default: 1,
    describe: 'worker processes sharing the port, each a coordinator with its own clock id; 0: one per core',
  }),
  maxClockSkewMs: setting({
    env: 'MAX_CLOCK_SKEW_MS',
    parse: parse.integer(1000, 86_400_000),
    default: MAX_CLOCK_SKEW_MS_DEFAULT,
    describe: "the data nodes' bound on versions ahead of their clock, in ms: this proxy follows versions up to twice as far ahead",
  }),
  respPort: setting<number | undefined>({
    env: 'RESP_PORT',
    parse: parse.port,
    describe: 'serve the Redis protocol (RESP2/RESP3) on this port; unset: off',
  }),
  respIdleTimeoutMs: setting({
    env: 'RESP_IDLE_TIMEOUT_MS',
    parse: parse.integer(0, 86_400_000),
    default: RESP_IDLE_TIMEOUT_MS_DEFAULT,
    describe: 'close a RESP connection idle this long, in ms; 0: never',
  }),
  ...IN_FLIGHT_SETTINGS,
  maxBatchResponseBytes: setting({
    env: 'MAX_BATCH_RESPONSE_BYTES',
    parse: parse.integer(1024 * 1024, 4 * 1024 * 1024 * 1024),
    default: BATCH_RESPONSE_BYTES_MAX_DEFAULT,
    describe: "bytes of values one POST /batch answer or RESP MGET reply carries at most; reads beyond fail alone (413 KV_TOO_LARGE)",
  }),
  tlsCertFile: setting<string | undefined>({
    env: 'TLS_CERT_FILE',
    parse: parse.text,
    describe: 'PEM certificate of the public API: with TLS_KEY_FILE, the proxy serves HTTPS on PORT (read at start)',
  }),
  tlsKeyFile: setting<string | undefined>({ env: 'TLS_KEY_FILE', parse: parse.text, describe: 'PEM private key of TLS_CERT_FILE' }),
  tlsCaFile: setting<string | undefined>({
    env: 'TLS_CA_FILE',
    parse: parse.text,
    describe: "PEM CA certificates that https:// data nodes' certificates are verified with (unset: Node's default CAs)",
  }),
  tlsClientCertFile: setting<string | undefined>({
    env: 'TLS_CLIENT_CERT_FILE',
    parse: parse.text,
    describe: "PEM certificate presented to data nodes that require one (their TLS_CLIENT_CA_FILE); with TLS_CLIENT_KEY_FILE",
  }),
  tlsClientKeyFile: setting<string | undefined>({ env: 'TLS_CLIENT_KEY_FILE', parse: parse.text, describe: 'PEM private key of TLS_CLIENT_CERT_FILE' }),
  logLevel: setting({ env: 'LOG_LEVEL', parse: parse.oneOf(LOG_LEVELS), default: 'info' as const, describe: 'winston log level' }),
  // Test-only settings: they weaken guarantees on purpose, so that tests can prove the checks would notice.
  testClockOffsetMs: setting({
    env: 'TEST_CLOCK_OFFSET_MS',
    parse: parse.integer(-1e12, 1e12),
    default: 0,
    hidden: true,
    describe: 'test only: added to the wall clock (a clock stepped back or forward)',
  }),
  testClockOffsetFile: setting<string | undefined>({
    env: 'TEST_CLOCK_OFFSET_FILE',
    parse: parse.text,
    hidden: true,
    describe: 'test only: a file holding ms added to the wall clock, read again every 100 ms (a clock stepped while running)',
  }),
  testFrozenClockMs: setting<number | undefined>({
    env: 'TEST_FROZEN_CLOCK_MS',
    parse: parse.integer(0, 2 ** 47),
    hidden: true,
    describe: 'test only: the wall clock always reads this (two proxies then issue the same versions)',
  }),
  testLoneCoordinator: setting({
    env: 'TEST_LONE_COORDINATOR',
    parse: parse.boolean,
    default: false,
    hidden: true,
    describe: 'test only: no registration with the data nodes, always one-phase writes, as if no other proxy existed',
  }),
  testUnsafeClock: setting({
    env: 'TEST_UNSAFE_CLOCK',
    parse: parse.boolean,
    default: false,
    hidden: true,
    describe:
      'test only: every clock safeguard off: no clock floor, versions seen on replicas do not advance the clock, ' +
      'and a write behind a newer version is acknowledged',
  }),
  testReadRepair: setting({
    env: 'TEST_READ_REPAIR',
    parse: parse.oneOf(['blocking', 'background'] as const),
    default: 'blocking' as const,
    hidden: true,
    describe: 'test only: background read repair (reads may go back in time)',
  }),
  testExpressDataRoutes: setting({
    env: 'TEST_EXPRESS_DATA_ROUTES',
    parse: parse.boolean,
    default: false,
    hidden: true,
    describe: 'benchmarks only: serve /kv and /batch through the Express router instead of the lean handler',
  }),
  testFaults: setting({
    env: 'TEST_FAULTS',
    parse: parse.boolean,
    default: false,
    hidden: true,
    describe: 'test only: allow the fault injection settings (TEST_DISK_FAULT_FILE)',
  }),
  testDiskFaultFile: setting<string | undefined>({
    env: 'TEST_DISK_FAULT_FILE',
    parse: parse.text,
    hidden: true,
    describe: 'test only (needs TEST_FAULTS=true): while this file exists, writes of the hint log fail with the code it holds (ENOSPC or EIO)',
  }),
  testWeaken: setting<'purge-without-confirmation' | 'hints-without-expiry' | undefined>({
    env: 'TEST_WEAKEN',
    parse: parse.oneOf(['purge-without-confirmation', 'hints-without-expiry'] as const),
    hidden: true,
    describe:
      'test only (needs TEST_FAULTS=true): purge-without-confirmation purges old tombstones one replica lists, without the others confirming (zombies); ' +
      'hints-without-expiry records hints without their expiry (expired values come back)',
  }),
  testReadRepairDelayMs: setting({
    env: 'TEST_READ_REPAIR_DELAY_MS',
    parse: parse.integer(0, 600_000),
    default: 1000,
    hidden: true,
    describe: 'test only: delay of the repairs of TEST_READ_REPAIR=background, in ms',
  }),
};

/** Longest `PROXY_ID` with several workers: `-<n>` (up to 3 characters) is added for each, and an id has 16 at most. */
export const WORKER_ID_PREFIX_LENGTH_MAX = 13;

/** The proxy's configuration once read and checked. */
export type ProxyConfig = Omit<ConfigOf<typeof PROXY_SETTINGS>, 'nodes'> & { nodes: NodeAddress[] };

/**
 * Reads and checks the proxy's configuration.
 * @throws ConfigError naming the variable and the problem, e.g. `WRITE_QUORUM=4 must be <= REPLICAS=3`.
 */
export function readProxyConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv.slice(2)): ProxyConfig {
  const config = readConfig(PROXY_SETTINGS, env, argv);
  const nodes = config.nodes;
  if (nodes === undefined) throw new ConfigError('NODES is required, e.g. NODES=node1=http://127.0.0.1:8001,node2=http://127.0.0.1:8002');
  if (config.replicas > nodes.length) {
    throw new ConfigError(`REPLICAS=${config.replicas} must be <= the number of NODES (${nodes.length})`);
  }
  if (config.writeQuorum > config.replicas) {
    throw new ConfigError(`WRITE_QUORUM=${config.writeQuorum} must be <= REPLICAS=${config.replicas}`);
  }
  if (config.readQuorum > config.replicas) {
    throw new ConfigError(`READ_QUORUM=${config.readQuorum} must be <= REPLICAS=${config.replicas}`);
  }
  if (config.proxyId !== undefined && config.proxyWorkers !== 1 && config.proxyId.length > WORKER_ID_PREFIX_LENGTH_MAX) {
    throw new ConfigError(
      `PROXY_ID=${config.proxyId} must be at most ${WORKER_ID_PREFIX_LENGTH_MAX} characters with PROXY_WORKERS: each worker's id is PROXY_ID-<n>`,
    );
  }
  if (config.tombstoneGraceMs > 0) {
    // A purged tombstone must outlive every write that could still arrive with an older version: client writes
    // (REQUEST_TIMEOUT_MS, node deadlines) and versions up to MAX_CLOCK_SKEW_MS apart; hints are dropped at the grace
    // minus the skew, which must leave them room.
    const floorMs = 2 * config.maxClockSkewMs + 10 * Math.max(config.requestTimeoutMs, config.nodeTimeoutMs);
    if (config.tombstoneGraceMs < floorMs) {
      throw new ConfigError(
        `TOMBSTONE_GRACE_MS=${config.tombstoneGraceMs} is too short: it must be at least 2 x MAX_CLOCK_SKEW_MS + 10 x REQUEST_TIMEOUT_MS (here ${floorMs} ms), ` +
          'or a write or hint older than a purged tombstone could bring the deleted value back; or 0 to keep tombstones',
      );
    }
  }
  if (config.testDiskFaultFile !== undefined && !config.testFaults) {
    throw new ConfigError('TEST_DISK_FAULT_FILE injects disk faults and is for tests only: it is refused unless TEST_FAULTS=true');
  }
  if (config.testWeaken !== undefined && !config.testFaults) {
    const harm = config.testWeaken === 'hints-without-expiry' ? 'makes expired values come back' : 'makes deleted values come back';
    throw new ConfigError(`TEST_WEAKEN=${config.testWeaken} ${harm} and is for tests only: it is refused unless TEST_FAULTS=true`);
  }
  return { ...config, nodes };
}

/**
 * The warnings a proxy logs at start about what its configuration exposes, when it listens beyond loopback: without
 * `AUTH_TOKEN`, its public API (every key, and membership changes) is open to anyone who reaches it; without
 * `CLUSTER_TOKEN`, the data nodes it uses take internal requests from anyone who reaches them. And a token that is the
 * published sample protects nothing, wherever it listens. Empty when the configuration exposes nothing.
 */
export function proxySecurityWarnings(config: Pick<ProxyConfig, 'host' | 'port' | 'respPort' | 'authToken' | 'clusterToken'>): string[] {
  const warnings: string[] = [];
  if (!isLoopbackHost(config.host)) {
    const where = `${config.host}:${config.port}${config.respPort === undefined ? '' : ` (and RESP on ${config.host}:${config.respPort})`}`;
    if (config.authToken === undefined) {
      warnings.push(
        `no AUTH_TOKEN: every key can be read, written and deleted through the public API (/kv, /batch), and members ` +
          `added or removed (/cluster/changes), by anyone who reaches ${where}; set AUTH_TOKEN, or HOST=127.0.0.1`,
      );
    }
    if (config.clusterToken === undefined) {
      warnings.push(
        'no CLUSTER_TOKEN: the data nodes this proxy uses take internal requests without a token, so every key can be read ' +
          'and written through their /internal/... routes by anyone who reaches them; set CLUSTER_TOKEN here and on every data node',
      );
    }
  }
  const sample = sampleTokenWarning({ CLUSTER_TOKEN: config.clusterToken, AUTH_TOKEN: config.authToken });
  if (sample !== undefined) warnings.push(sample);
  return warnings;
}
