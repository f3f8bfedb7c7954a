import { KEY_BYTES_MAX, VALUE_BYTES_LIMIT, VERSION_LENGTH_MAX } from '@kv/protocol';
import { RECORD_KEY_BYTES_MAX, VALUE_BYTES_MAX as WAL_VALUE_BYTES_MAX, VERSION_BYTES_MAX } from '@kv/wal';
import { ConfigError } from '@kv/service';
import { readDatanodeConfig } from './config';

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
  ])('%j is refused: %s', (env, message) => {
    expect(() => readDatanodeConfig(env, [])).toThrow(ConfigError);
    expect(() => readDatanodeConfig(env, [])).toThrow(message);
  });
});

test('TEST_DISK_FAULT_FILE (test-only fault injection) is refused unless TEST_FAULTS=true', () => {
  expect(() => readDatanodeConfig({ TEST_DISK_FAULT_FILE: '/tmp/fault' }, [])).toThrow(/TEST_DISK_FAULT_FILE.*refused unless TEST_FAULTS=true/);
  expect(readDatanodeConfig({ TEST_DISK_FAULT_FILE: '/tmp/fault', TEST_FAULTS: 'true' }, [])).toMatchObject({ testDiskFaultFile: '/tmp/fault' });
  expect(readDatanodeConfig({}, []).testDiskFaultFile).toBeUndefined();
});

test('the largest MAX_VALUE_BYTES fits in one record of the log, with the largest key and version', () => {
  expect(VALUE_BYTES_LIMIT).toBeLessThanOrEqual(WAL_VALUE_BYTES_MAX);
  expect(KEY_BYTES_MAX).toBeLessThanOrEqual(RECORD_KEY_BYTES_MAX);
  expect(VERSION_LENGTH_MAX).toBeLessThanOrEqual(VERSION_BYTES_MAX);
  expect(() => readDatanodeConfig({ MAX_VALUE_BYTES: String(VALUE_BYTES_LIMIT + 1) }, [])).toThrow(ConfigError);
});
