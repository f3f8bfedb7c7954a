import { ConfigError, SAMPLE_CLUSTER_TOKEN } from '@kv/service';
import { parseNodes, proxySecurityWarnings, readProxyConfig } from './config';

const NODES = 'node1=http://127.0.0.1:8001,node2=http://127.0.0.1:8002,node3=http://127.0.0.1:8003';

describe('proxy configuration', () => {
  test('defaults of docs/configuration.md', () => {
    expect(readProxyConfig({ NODES }, [])).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      replicas: 3,
      writeQuorum: 2,
      readQuorum: 2,
      vnodes: 128,
      nodeTimeoutMs: 1000,
      healthIntervalMs: 1000,
      dataDir: './data/proxy',
      maxValueBytes: 1048576,
      logLevel: 'info',
      clusterToken: undefined,
      authToken: undefined,
      respPort: undefined,
      respIdleTimeoutMs: 300000,
      hintsMax: 100000,
      hintsMaxBytes: 268435456,
      antiEntropyIntervalMs: 600000,
      antiEntropyBytesPerS: 4194304,
      antiEntropyKeysPerS: 1000,
      antiEntropyPauseMs: 50,
      tombstoneGraceMs: 86400000,
      nodes: [
        { id: 'node1', url: 'http://127.0.0.1:8001' },
        { id: 'node2', url: 'http://127.0.0.1:8002' },
        { id: 'node3', url: 'http://127.0.0.1:8003' },
      ],
    });
  });

  test('HINTS_MAX_BYTES bounds hint bytes; TEST_DISK_FAULT_FILE (test-only fault injection) is refused unless TEST_FAULTS=true', () => {
    expect(readProxyConfig({ NODES, HINTS_MAX_BYTES: '1048576' }, []).hintsMaxBytes).toBe(1048576);
    expect(() => readProxyConfig({ NODES, HINTS_MAX_BYTES: '10' }, [])).toThrow(ConfigError);
    expect(() => readProxyConfig({ NODES, TEST_DISK_FAULT_FILE: '/tmp/fault' }, [])).toThrow(/TEST_DISK_FAULT_FILE.*refused unless TEST_FAULTS=true/);
    expect(readProxyConfig({ NODES, TEST_DISK_FAULT_FILE: '/tmp/fault', TEST_FAULTS: 'true' }, []).testDiskFaultFile).toBe('/tmp/fault');
  });

  test('TOMBSTONE_GRACE_MS must be far above the clock skew and the request deadline, or 0', () => {
    expect(readProxyConfig({ NODES, TOMBSTONE_GRACE_MS: '220000' }, []).tombstoneGraceMs).toBe(220000);
    expect(readProxyConfig({ NODES, TOMBSTONE_GRACE_MS: '0' }, []).tombstoneGraceMs).toBe(0);
    expect(() => readProxyConfig({ NODES, TOMBSTONE_GRACE_MS: '219999' }, [])).toThrow(
      /TOMBSTONE_GRACE_MS=219999 is too short: it must be at least 2 x MAX_CLOCK_SKEW_MS \+ 10 x REQUEST_TIMEOUT_MS \(here 220000 ms\)/,
    );
    expect(() => readProxyConfig({ NODES, TOMBSTONE_GRACE_MS: '400000', REQUEST_TIMEOUT_MS: '60000' }, [])).toThrow(/too short/);
    expect(() => readProxyConfig({ NODES, TEST_WEAKEN: 'purge-without-confirmation' }, [])).toThrow(
      /TEST_WEAKEN=purge-without-confirmation makes deleted values come back .* refused unless TEST_FAULTS=true/,
    );
    expect(readProxyConfig({ NODES, TEST_WEAKEN: 'purge-without-confirmation', TEST_FAULTS: 'true' }, []).testWeaken).toBe('purge-without-confirmation');
    expect(() => readProxyConfig({ NODES, TEST_WEAKEN: 'hints-without-expiry' }, [])).toThrow(/TEST_WEAKEN=hints-without-expiry .* refused unless TEST_FAULTS=true/);
    expect(readProxyConfig({ NODES, TEST_WEAKEN: 'hints-without-expiry', TEST_FAULTS: 'true' }, []).testWeaken).toBe('hints-without-expiry');
  });

  test('flags win over the environment', () => {
    expect(readProxyConfig({ NODES, PORT: '9000' }, ['--port', '9001', '--write-quorum=3'])).toMatchObject({ port: 9001, writeQuorum: 3 });
    expect(readProxyConfig({ NODES, RESP_PORT: '6379' }, ['--resp-idle-timeout-ms', '0'])).toMatchObject({ respPort: 6379, respIdleTimeoutMs: 0 });
  });

  test.each([
    [{}, 'NODES is required'],
    [{ NODES, WRITE_QUORUM: '17' }, 'WRITE_QUORUM=17 must be an integer in 1..16'],
    [{ NODES, REPLICAS: '3', WRITE_QUORUM: '4' }, 'WRITE_QUORUM=4 must be <= REPLICAS=3'],
    [{ NODES, READ_QUORUM: '3', REPLICAS: '2' }, 'READ_QUORUM=3 must be <= REPLICAS=2'],
    [{ NODES: 'node1=http://a:1', REPLICAS: '3', WRITE_QUORUM: '1', READ_QUORUM: '1' }, 'REPLICAS=3 must be <= the number of NODES (1)'],
    [{ NODES, NODE_TIMEOUT_MS: '0' }, 'NODE_TIMEOUT_MS=0 must be an integer in 1..600000'],
    [{ NODES, HEALTH_INTERVAL_MS: '100001' }, 'HEALTH_INTERVAL_MS=100001 must be an integer in 10..100000'],
    [{ NODES, LOG_LEVEL: 'loud' }, 'LOG_LEVEL=loud must be one of'],
    [{ NODES, RESP_PORT: '6379x' }, 'RESP_PORT=6379x must be an integer in 0..65535'],
    [{ NODES, RESP_IDLE_TIMEOUT_MS: '-1' }, 'RESP_IDLE_TIMEOUT_MS=-1 must be an integer in 0..86400000'],
    [{ NODES, PROXY_ID: 'Has Caps' }, 'PROXY_ID=Has Caps must be 1..16 of a-z'],
    [{ NODES: 'node1' }, 'must be a comma-separated list of id=url'],
    [{ NODES: 'node1=ftp://x' }, 'has a bad URL for node1'],
    [{ NODES: 'a=http://x:1,a=http://y:2' }, 'names node a twice'],
    [{ NODES, CLUSTER_TOKEN: '' }, 'CLUSTER_TOKEN is set but empty'],
    [{ NODES, AUTH_TOKEN: '' }, 'AUTH_TOKEN is set but empty'],
    [{ NODES, AUTH_TOKEN: 'two words' }, 'AUTH_TOKEN=<hidden> is not usable in an Authorization header'],
    [{ NODES, CLUSTER_TOKEN: 'new,öld' }, 'CLUSTER_TOKEN=<hidden> is not usable in an Authorization header: token 2 of the list'],
  ])('%j is refused: %s', (env, message) => {
    expect(() => readProxyConfig(env, [])).toThrow(ConfigError);
    expect(() => readProxyConfig(env, [])).toThrow(message);
  });

  test('parseNodes trims and drops empty items', () => {
    expect(parseNodes(' a=http://x:1/ , ,b=https://y ')).toEqual([
      { id: 'a', url: 'http://x:1' },
      { id: 'b', url: 'https://y' },
    ]);
  });

  test('token lists: the first of CLUSTER_TOKEN is sent, any is accepted', () => {
    expect(readProxyConfig({ NODES, CLUSTER_TOKEN: 'new, old', AUTH_TOKEN: 'a1' }, [])).toMatchObject({ clusterToken: ['new', 'old'], authToken: ['a1'] });
  });
});

describe('proxySecurityWarnings', () => {
  const open = { host: '0.0.0.0', port: 8000, respPort: undefined, authToken: undefined, clusterToken: undefined };

  test('beyond loopback without tokens: one line for the public API and one for the data nodes, naming the address', () => {
    const warnings = proxySecurityWarnings(open);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^no AUTH_TOKEN: every key can be read, written and deleted through the public API .* by anyone who reaches 0\.0\.0\.0:8000;/);
    expect(warnings[1]).toMatch(/^no CLUSTER_TOKEN: the data nodes this proxy uses take internal requests without a token/);
    expect(proxySecurityWarnings({ ...open, respPort: 6379 })[0]).toContain('(and RESP on 0.0.0.0:6379)');
  });

  test('one warning per missing token; none on loopback or with both tokens', () => {
    expect(proxySecurityWarnings({ ...open, authToken: ['a'] })).toEqual([expect.stringMatching(/^no CLUSTER_TOKEN/)]);
    expect(proxySecurityWarnings({ ...open, clusterToken: ['c'] })).toEqual([expect.stringMatching(/^no AUTH_TOKEN/)]);
    expect(proxySecurityWarnings({ ...open, authToken: ['a'], clusterToken: ['c'] })).toEqual([]);
    expect(proxySecurityWarnings({ ...open, host: '127.0.0.1' })).toEqual([]);
  });

  test('the published sample token is warned about, even on loopback', () => {
    expect(proxySecurityWarnings({ ...open, host: '127.0.0.1', authToken: ['a'], clusterToken: [SAMPLE_CLUSTER_TOKEN] })).toEqual([
      expect.stringMatching(/^CLUSTER_TOKEN holds the published sample token of docker\/kv\.env/),
    ]);
  });
});
