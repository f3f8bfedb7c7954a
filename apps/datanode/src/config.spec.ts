import { KEY_BYTES_MAX, VALUE_BYTES_LIMIT, VERSION_LENGTH_MAX } from '@kv/protocol';
import { RECORD_KEY_BYTES_MAX, VALUE_BYTES_MAX as WAL_VALUE_BYTES_MAX, VERSION_BYTES_MAX } from '@kv/wal';
import { ConfigError, SAMPLE_CLUSTER_TOKEN } from '@kv/service';
import { datanodeSecurityWarnings, readDatanodeConfig } from './config';

describe('data node configuration', () => {
  test('defaults of docs/configuration.md: NODE_ID node-<PORT>, DATA_DIR ./data/<NODE_ID>', () => {
    expect(readDatanodeConfig({}, [])).toMatchObject({
      port: 8001,
      host: '0.0.0.0',
      nodeId: 'node-8001',
      dataDir: './data/node-8001',
      walSync: 'always',
      walSyncIntervalMs: 1000,
      maxValueBytes: 1048576,
      logLevel: 'info',
    });
    expect(readDatanodeConfig({ PORT: '8003' }, [])).toMatchObject({ nodeId: 'node-8003', dataDir: './data/node-8003' });
    expect(readDatanodeConfig({ NODE_ID: 'node2' }, ['--data-dir', '/srv/kv'])).toMatchObject({ nodeId: 'node2', dataDir: '/srv/kv' });
  });

  test.each([
    [{ WAL_SYNC: 'sometimes' }, 'WAL_SYNC=sometimes must be one of always, interval, none'],
    [{ PORT: '-1' }, 'PORT=-1 must be an integer in 0..65535'],
    [{ MAX_VALUE_BYTES: '0' }, 'MAX_VALUE_BYTES=0 must be an integer in 1..16777216'],
    [{ NODE_ID: 'node 1' }, 'NODE_ID=node 1 must be 1..64'],
    [{ CLUSTER_TOKEN: '' }, 'CLUSTER_TOKEN is set but empty'],
    [{ CLUSTER_TOKEN: 'has space' }, 'CLUSTER_TOKEN=<hidden> is not usable in an Authorization header'],
  ])('%j is refused: %s', (env, message) => {
    expect(() => readDatanodeConfig(env, [])).toThrow(ConfigError);
    expect(() => readDatanodeConfig(env, [])).toThrow(message);
  });

  test('CLUSTER_TOKEN takes a comma-separated list (a rotation)', () => {
    expect(readDatanodeConfig({ CLUSTER_TOKEN: 'old,new' }, [])).toMatchObject({ clusterToken: ['old', 'new'] });
  });
});

test('TEST_DISK_FAULT_FILE (test-only fault injection) is refused unless TEST_FAULTS=true', () => {
  expect(() => readDatanodeConfig({ TEST_DISK_FAULT_FILE: '/tmp/fault' }, [])).toThrow(/TEST_DISK_FAULT_FILE.*refused unless TEST_FAULTS=true/);
  expect(readDatanodeConfig({ TEST_DISK_FAULT_FILE: '/tmp/fault', TEST_FAULTS: 'true' }, [])).toMatchObject({ testDiskFaultFile: '/tmp/fault' });
  expect(readDatanodeConfig({}, []).testDiskFaultFile).toBeUndefined();
});

test('TEST_IGNORE_DISK_ERRORS (a weakened log, for tests) needs the disk fault file', () => {
  expect(() => readDatanodeConfig({ TEST_IGNORE_DISK_ERRORS: 'true' }, [])).toThrow(/TEST_IGNORE_DISK_ERRORS.*needs TEST_DISK_FAULT_FILE/);
  const env = { TEST_DISK_FAULT_FILE: '/tmp/fault', TEST_FAULTS: 'true', TEST_IGNORE_DISK_ERRORS: 'true' };
  expect(readDatanodeConfig(env, [])).toMatchObject({ testIgnoreDiskErrors: true });
  expect(readDatanodeConfig({}, []).testIgnoreDiskErrors).toBe(false);
});

test('TEST_RANGE_DIGESTS=off (no digest upkeep, for benchmarks) is refused unless TEST_FAULTS=true', () => {
  expect(() => readDatanodeConfig({ TEST_RANGE_DIGESTS: 'off' }, [])).toThrow(/TEST_RANGE_DIGESTS=off.*refused unless TEST_FAULTS=true/);
  expect(readDatanodeConfig({ TEST_RANGE_DIGESTS: 'off', TEST_FAULTS: 'true' }, [])).toMatchObject({ testRangeDigests: 'off' });
  expect(readDatanodeConfig({ TEST_RANGE_DIGESTS: 'on' }, [])).toMatchObject({ testRangeDigests: 'on' });
  expect(readDatanodeConfig({}, []).testRangeDigests).toBe('on');
  expect(() => readDatanodeConfig({ TEST_RANGE_DIGESTS: 'maybe', TEST_FAULTS: 'true' }, [])).toThrow(ConfigError);
});

test('the largest MAX_VALUE_BYTES fits in one record of the log, with the largest key and version', () => {
  expect(VALUE_BYTES_LIMIT).toBeLessThanOrEqual(WAL_VALUE_BYTES_MAX);
  expect(KEY_BYTES_MAX).toBeLessThanOrEqual(RECORD_KEY_BYTES_MAX);
  expect(VERSION_LENGTH_MAX).toBeLessThanOrEqual(VERSION_BYTES_MAX);
  expect(() => readDatanodeConfig({ MAX_VALUE_BYTES: String(VALUE_BYTES_LIMIT + 1) }, [])).toThrow(ConfigError);
});

describe('datanodeSecurityWarnings', () => {
  test('beyond loopback without CLUSTER_TOKEN: one line saying every key is open through /internal at the address', () => {
    expect(datanodeSecurityWarnings({ host: '0.0.0.0', port: 8001, clusterToken: undefined })).toEqual([
      expect.stringMatching(/^no CLUSTER_TOKEN: every key can be read and written through \/internal\/\.\.\. .* by anyone who reaches 0\.0\.0\.0:8001;/),
    ]);
  });

  test('none on loopback or with a token; the published sample token is warned about anywhere', () => {
    expect(datanodeSecurityWarnings({ host: '127.0.0.1', port: 8001, clusterToken: undefined })).toEqual([]);
    expect(datanodeSecurityWarnings({ host: '0.0.0.0', port: 8001, clusterToken: ['c'] })).toEqual([]);
    expect(datanodeSecurityWarnings({ host: '127.0.0.1', port: 8001, clusterToken: [SAMPLE_CLUSTER_TOKEN] })).toEqual([
      expect.stringMatching(/^CLUSTER_TOKEN holds the published sample token/),
    ]);
  });
});
