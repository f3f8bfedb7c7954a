import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, readConfig, type Setting } from './config';
import { SAMPLE_CLUSTER_TOKEN, TOKENS_MAX, isLoopbackHost, parseTokens, sampleTokenWarning, tokensOf } from './tokens';

const setting = <T>(s: Setting<T>): Setting<T> => s;
const SETTINGS = {
  token: setting<readonly string[] | undefined>({ env: 'CLUSTER_TOKEN', parse: parseTokens, secret: true, refuseEmpty: true, describe: 'token' }),
};

describe('parseTokens', () => {
  test('one token, or a comma-separated list (blanks around the commas ignored), the first being the one sent', () => {
    expect(parseTokens('abc')).toEqual(['abc']);
    expect(parseTokens('new,old')).toEqual(['new', 'old']);
    expect(parseTokens(' new , old ')).toEqual(['new', 'old']);
    expect(parseTokens('!#$%&\'*+-./:;<=>?@[]^_`{|}~"()')).toHaveLength(1);
  });

  test.each([
    ['a b', 'the token has a space'],
    ['a\tb', 'the token has a space'],
    ['tök', 'the token has a space'],
    ['good,b d', 'token 2 of the list has a space'],
    ['a,,b', 'has an empty token: remove the extra comma'],
    ['a,', 'has an empty token: remove the extra comma'],
    ['   ', 'has an empty token: unset it or give a token'],
  ])('%j is refused: %s', (raw, message) => {
    expect(() => parseTokens(raw)).toThrow(ConfigError);
    expect(() => parseTokens(raw)).toThrow(message);
  });

  test(`at most ${TOKENS_MAX} tokens`, () => {
    expect(parseTokens(Array.from({ length: TOKENS_MAX }, (_, i) => `t${i}`).join(','))).toHaveLength(TOKENS_MAX);
    expect(() => parseTokens(Array.from({ length: TOKENS_MAX + 1 }, (_, i) => `t${i}`).join(','))).toThrow(`at most ${TOKENS_MAX}`);
  });

  test('through readConfig: an empty token is a configuration error, and a bad one is named without its value', () => {
    expect(() => readConfig(SETTINGS, { CLUSTER_TOKEN: '' }, [])).toThrow(
      new ConfigError('CLUSTER_TOKEN is set but empty: unset it to run without it, or give it a value'),
    );
    expect(() => readConfig(SETTINGS, {}, ['--cluster-token='])).toThrow('CLUSTER_TOKEN is set but empty');
    expect(() => readConfig(SETTINGS, { CLUSTER_TOKEN: 'my secret' }, [])).toThrow(/^CLUSTER_TOKEN=<hidden> is not usable in an Authorization header/);
    expect(() => readConfig(SETTINGS, { CLUSTER_TOKEN: 'my secret' }, [])).not.toThrow(/my secret/);
    expect(readConfig(SETTINGS, {}, [])).toEqual({ token: undefined });
    expect(readConfig(SETTINGS, { CLUSTER_TOKEN: 'b,a' }, [])).toEqual({ token: ['b', 'a'] });
  });

  test('tokensOf splits a string at its commas and keeps a list', () => {
    expect(tokensOf('a, b')).toEqual(['a', 'b']);
    expect(tokensOf(['x'])).toEqual(['x']);
  });
});

describe('isLoopbackHost', () => {
  test.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  test.each(['0.0.0.0', '::', '', '10.0.0.5', '192.168.1.1', 'kv.example.com', '128.0.0.1', '::ffff:10.0.0.1'])('%j is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('the sample token', () => {
  test('is the CLUSTER_TOKEN of docker/kv.env', () => {
    const envFile = readFileSync(path.join(__dirname, '..', '..', '..', 'docker', 'kv.env'), 'utf8');
    expect(envFile).toMatch(new RegExp(`^CLUSTER_TOKEN=${SAMPLE_CLUSTER_TOKEN}$`, 'm'));
  });

  test('is warned about in any setting and any place of a list', () => {
    expect(sampleTokenWarning({ CLUSTER_TOKEN: ['mine'], AUTH_TOKEN: undefined })).toBeUndefined();
    expect(sampleTokenWarning({ CLUSTER_TOKEN: ['mine', SAMPLE_CLUSTER_TOKEN] })).toMatch(/^CLUSTER_TOKEN holds the published sample token of docker\/kv.env/);
    expect(sampleTokenWarning({ CLUSTER_TOKEN: [SAMPLE_CLUSTER_TOKEN], AUTH_TOKEN: [SAMPLE_CLUSTER_TOKEN] })).toMatch(/^CLUSTER_TOKEN and AUTH_TOKEN hold the published/);
  });
});
