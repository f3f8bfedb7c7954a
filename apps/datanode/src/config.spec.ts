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
