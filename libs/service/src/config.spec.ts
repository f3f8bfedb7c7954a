import { ConfigError, describeConfig, flagName, parse, readConfig, settingsHelp, type Setting } from './config';

const setting = <T>(s: Setting<T>): Setting<T> => s;
const SETTINGS = {
  port: setting({ env: 'PORT', parse: parse.port, default: 8000, describe: 'port' }),
  nodeId: setting({ env: 'NODE_ID', parse: parse.id, default: (p: Record<string, unknown>) => `node-${String(p.port)}`, describe: 'id' }),
  sync: setting({ env: 'WAL_SYNC', parse: parse.oneOf(['always', 'none'] as const), default: 'always' as const, describe: 'sync' }),
  token: setting<string | undefined>({ env: 'CLUSTER_TOKEN', parse: parse.text, secret: true, describe: 'token' }),
  debug: setting({ env: 'TEST_DEBUG', parse: parse.boolean, default: false, hidden: true, describe: 'test only' }),
};

describe('readConfig', () => {
  test('defaults, derived defaults, environment and flags (a flag wins)', () => {
    expect(readConfig(SETTINGS, {}, [])).toEqual({ port: 8000, nodeId: 'node-8000', sync: 'always', token: undefined, debug: false });
    expect(readConfig(SETTINGS, { PORT: '9000', CLUSTER_TOKEN: 's3cret' }, [])).toMatchObject({ port: 9000, nodeId: 'node-9000', token: 's3cret' });
    expect(readConfig(SETTINGS, { PORT: '9000' }, ['--port', '9100', '--wal-sync=none', '-node-id', 'n1'])).toMatchObject({
      port: 9100,
      sync: 'none',
      nodeId: 'n1',
    });
  });

  test.each([
    [{ PORT: 'abc' }, [], 'PORT=abc must be an integer in 0..65535'],
    [{ PORT: '70000' }, [], 'PORT=70000 must be an integer in 0..65535'],
    [{ WAL_SYNC: 'sometimes' }, [], 'WAL_SYNC=sometimes must be one of always, none'],
    [{ NODE_ID: 'a b' }, [], 'NODE_ID=a b must be 1..64 letters, digits, "_", "." or "-"'],
    [{ CLUSTER_TOKEN: 'x' }, ['--port'], 'flag --port needs a value'],
    [{}, ['--bogus', '1'], 'unknown flag --bogus'],
    [{}, ['stray'], 'unexpected argument "stray"'],
    [{ TEST_DEBUG: 'maybe' }, [], 'TEST_DEBUG=maybe must be true or false'],
  ] as const)('%j %j -> %s', (env, argv, message) => {
    expect(() => readConfig(SETTINGS, env, argv)).toThrow(new ConfigError(message));
  });

  test('a bad secret is reported without its value', () => {
    const secretPort = { p: setting({ env: 'SECRET_PORT', parse: parse.port, secret: true, describe: 'x' }) };
    expect(() => readConfig(secretPort, { SECRET_PORT: 'hunter2' }, [])).toThrow('SECRET_PORT=<hidden> must be an integer');
  });

  test('describeConfig masks secrets and hides unchanged test-only settings; help lists visible settings', () => {
    const config = readConfig(SETTINGS, { CLUSTER_TOKEN: 's3cret' }, []);
    expect(describeConfig(SETTINGS, config)).toEqual({ PORT: 8000, NODE_ID: 'node-8000', WAL_SYNC: 'always', CLUSTER_TOKEN: '<set>' });
    expect(describeConfig(SETTINGS, { ...config, debug: true })).toMatchObject({ TEST_DEBUG: true });
    const help = settingsHelp(SETTINGS);
    expect(help).toContain('--wal-sync');
    expect(help).toContain('(default: 8000)');
    expect(help).not.toContain('TEST_DEBUG');
    expect(flagName('WRITE_QUORUM')).toBe('write-quorum');
  });

  test('parsers', () => {
    expect(parse.url('http://a:1/')).toBe('http://a:1');
    expect(() => parse.url('ftp://a')).toThrow(ConfigError);
    expect(() => parse.url('not a url')).toThrow(ConfigError);
    expect(parse.boolean('YES')).toBe(true);
    expect(parse.boolean('off')).toBe(false);
    expect(parse.integer(1, 3)(' 2 ')).toBe(2);
    expect(() => parse.integer(1, 3)('1.5')).toThrow(ConfigError);
  });
});
