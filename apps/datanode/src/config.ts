import { VALUE_BYTES_LIMIT, VALUE_BYTES_MAX_DEFAULT } from '@kv/protocol';
import { MAX_CLOCK_SKEW_MS_DEFAULT } from '@kv/quorum';
import { ConfigError, IN_FLIGHT_SETTINGS, LOG_LEVELS, isLoopbackHost, parse, parseTokens, readConfig, sampleTokenWarning, type ConfigOf, type Setting } from '@kv/service';

const setting = <T>(s: Setting<T>): Setting<T> => s;


/** The data node's settings (docs/configuration.md#data-node), each an environment variable and a `--flag`. */
export const DATANODE_SETTINGS = {
  port: setting({ env: 'PORT', parse: parse.port, default: 8001, describe: 'port of the internal API' }),
  host: setting({ env: 'HOST', parse: parse.text, default: '0.0.0.0', describe: 'address to listen on' }),
  nodeId: setting({
    env: 'NODE_ID',
    parse: parse.id,
    default: (partial: Record<string, unknown>) => `node-${String(partial.port)}`,
    describe: "its name on the ring; must match the proxy's NODES (default node-<PORT>)",
  }),
  dataDir: setting({
    env: 'DATA_DIR',
    parse: parse.text,
    default: (partial: Record<string, unknown>) => `./data/${String(partial.nodeId)}`,
    describe: 'its log and snapshots; nothing else writes there (default ./data/<NODE_ID>)',
  }),
  walSync: setting({
    env: 'WAL_SYNC',
    parse: parse.oneOf(['always', 'interval', 'none'] as const),
    default: 'always' as const,
    describe: 'always: fsync before acknowledging (group commit); interval: every WAL_SYNC_INTERVAL_MS; none',
  }),
  walSyncIntervalMs: setting({
    env: 'WAL_SYNC_INTERVAL_MS',
    parse: parse.integer(1, 3_600_000),
    default: 1000,
    describe: 'fsync period with WAL_SYNC=interval, in ms',
  }),
  clusterToken: setting<readonly string[] | undefined>({
    env: 'CLUSTER_TOKEN',
    parse: parseTokens,
    secret: true,
    refuseEmpty: true,
    describe: 'when set, every /internal request must carry Authorization: Bearer <token>; a comma-separated list accepts any of them (rotation)',
  }),
  maxValueBytes: setting({
    env: 'MAX_VALUE_BYTES',
    parse: parse.integer(1, VALUE_BYTES_LIMIT),
    default: VALUE_BYTES_MAX_DEFAULT,
    describe: 'largest value accepted, in bytes',
  }),
  maxClockSkewMs: setting({
    env: 'MAX_CLOCK_SKEW_MS',
    parse: parse.integer(1000, 86_400_000),
    default: MAX_CLOCK_SKEW_MS_DEFAULT,
    describe: "a write whose version is further ahead of this node's clock is refused, in ms",
  }),
  ...IN_FLIGHT_SETTINGS,
  maxHeapPercent: setting({
    env: 'MAX_HEAP_PERCENT',
    parse: parse.integer(10, 99),
    default: 90,
    describe: "writes of values are refused (503 KV_OVERLOADED) while the heap is fuller than this percent of its limit; a warning comes at 10 points below",
  }),
  tlsCertFile: setting<string | undefined>({
    env: 'TLS_CERT_FILE',
    parse: parse.text,
    describe: 'PEM certificate of the internal API: with TLS_KEY_FILE, the node serves HTTPS on PORT (read at start)',
  }),
  tlsKeyFile: setting<string | undefined>({ env: 'TLS_KEY_FILE', parse: parse.text, describe: 'PEM private key of TLS_CERT_FILE' }),
  tlsClientCaFile: setting<string | undefined>({
    env: 'TLS_CLIENT_CA_FILE',
    parse: parse.text,
    describe: 'mutual TLS: every client (proxy) must present a certificate signed by this PEM CA',
  }),
  logLevel: setting({ env: 'LOG_LEVEL', parse: parse.oneOf(LOG_LEVELS), default: 'info' as const, describe: 'winston log level' }),
  // Test-only settings: fault injection, refused unless TEST_FAULTS=true.
  testFaults: setting({
    env: 'TEST_FAULTS',
    parse: parse.boolean,
    default: false,
    hidden: true,
    describe: 'test only: allow the fault injection and benchmark settings (TEST_DISK_FAULT_FILE, TEST_RANGE_DIGESTS)',
  }),
  testDiskFaultFile: setting<string | undefined>({
    env: 'TEST_DISK_FAULT_FILE',
    parse: parse.text,
    hidden: true,
    describe: 'test only (needs TEST_FAULTS=true): while this file exists, writes of the log fail with the code it holds (ENOSPC or EIO)',
  }),
  testIgnoreDiskErrors: setting({
    env: 'TEST_IGNORE_DISK_ERRORS',
    parse: parse.boolean,
    default: false,
    hidden: true,
    describe:
      'test only (needs TEST_DISK_FAULT_FILE): while the fault lasts, writes and syncs of the log are dropped but ' +
      'reported as done, as by a node that carries on after a failed fsync (acknowledged writes are not on disk)',
  }),
  testRangeDigests: setting({
    env: 'TEST_RANGE_DIGESTS',
    parse: parse.oneOf(['on', 'off'] as const),
    default: 'on' as const,
    hidden: true,
    describe:
      'test only (needs TEST_FAULTS=true): off skips the upkeep of the range digests as writes apply, so that a ' +
      'benchmark measures what it costs; every digest is then that of nothing and anti-entropy sees differences everywhere',
  }),
};

/** The data node's configuration once read and checked. */
export type DatanodeConfig = ConfigOf<typeof DATANODE_SETTINGS>;

/**
 * Reads and checks the data node's configuration.
 * @throws ConfigError naming the variable and the problem, e.g. `WAL_SYNC=sometimes must be one of always, interval, none`.
 */
export function readDatanodeConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv.slice(2)): DatanodeConfig {
  const config = readConfig(DATANODE_SETTINGS, env, argv);
  if (config.testDiskFaultFile !== undefined && !config.testFaults) {
    throw new ConfigError('TEST_DISK_FAULT_FILE injects disk faults and is for tests only: it is refused unless TEST_FAULTS=true');
  }
  if (config.testIgnoreDiskErrors && config.testDiskFaultFile === undefined) {
    throw new ConfigError('TEST_IGNORE_DISK_ERRORS weakens the log for tests only: it needs TEST_DISK_FAULT_FILE (and TEST_FAULTS=true)');
  }
  if (config.testRangeDigests === 'off' && !config.testFaults) {
    throw new ConfigError('TEST_RANGE_DIGESTS=off disables the digests anti-entropy compares and is for benchmarks only: it is refused unless TEST_FAULTS=true');
  }
  return config;
}

/** What the data node's configuration sets of its replica service's options: whether it keeps range digests. */
export function replicaDigestOptions(config: Pick<DatanodeConfig, 'testRangeDigests'>): { rangeDigests: boolean } {
  return { rangeDigests: config.testRangeDigests === 'on' };
}

/**
 * The warnings a data node logs at start about what its configuration exposes: without `CLUSTER_TOKEN` on an address
 * beyond loopback, every key can be read and written by anyone who reaches it; a token that is the published sample
 * protects nothing. Empty when the configuration exposes nothing.
 */
export function datanodeSecurityWarnings(config: Pick<DatanodeConfig, 'host' | 'port' | 'clusterToken'>): string[] {
  const warnings: string[] = [];
  if (config.clusterToken === undefined && !isLoopbackHost(config.host)) {
    warnings.push(
      `no CLUSTER_TOKEN: every key can be read and written through /internal/... (e.g. GET /internal/entries dumps them all) ` +
        `by anyone who reaches ${config.host}:${config.port}; set CLUSTER_TOKEN here and on the proxies, or HOST=127.0.0.1`,
    );
  }
  const sample = sampleTokenWarning({ CLUSTER_TOKEN: config.clusterToken });
  if (sample !== undefined) warnings.push(sample);
  return warnings;
}
