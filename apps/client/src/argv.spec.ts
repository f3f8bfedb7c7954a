import { prepareArgv, restoreArgs } from './argv';

describe('prepareArgv', () => {
  it.each([
    [['-server', 'http://h:1', 'get', 'k'], ['--server', 'http://h:1', 'get', 'k']],
    [['-server=http://h:1', '-json', 'get', 'k'], ['--server=http://h:1', '--json', 'get', 'k']],
    [['-token', 't', '-timeout', '10', 'status'], ['--token', 't', '--timeout', '10', 'status']],
    [['-help'], ['--help']],
    [['-version'], ['--version']],
    // Only the exact names: anything else is left to yargs (short flags, unknown options).
    [['-servers', 'x'], ['-servers', 'x']],
    [['-jsonx'], ['-jsonx']],
    [['-w', '2', 'set', 'k', 'v'], ['-w', '2', 'set', 'k', 'v']],
    [['--server', 'http://h:1'], ['--server', 'http://h:1']],
    // The value of --timeout is left as typed (yargs reads numbers, negative ones too).
    [['--timeout', '-json'], ['--timeout', '-json']],
  ])('%j becomes %j', (argv, expected) => {
    expect(prepareArgv(argv).args).toEqual(expected);
  });

  it('turns a lone "-", text option values starting with a dash and words after "--" into placeholders', () => {
    const prepared = prepareArgv(['-token', '-secret', 'set', 'k', '-', '--', '-json', '--', '-']);
    expect(prepared.args.slice(0, 1)).toEqual(['--token']);
    expect(prepared.args).toHaveLength(8);
    for (const i of [1, 4, 5, 6, 7]) expect(prepared.args[i]).not.toMatch(/^-/);
    expect(prepared.args.slice(1).map((word) => prepared.restore(word))).toEqual(['-secret', 'set', 'k', '-', '-json', '--', '-']);
  });

  it('restores placeholders inside messages and parsed values', () => {
    const prepared = prepareArgv(['get', '--', '-x']);
    const placeholder = prepared.args[1];
    expect(prepared.restore(`Unknown argument: ${placeholder}`)).toBe('Unknown argument: -x');
    expect(restoreArgs({ key: placeholder, list: [placeholder, 1], n: 2 }, prepared)).toEqual({ key: '-x', list: ['-x', 1], n: 2 });
  });

  it('refuses NUL characters, which no process argument can hold', () => {
    expect(() => prepareArgv(['get', 'a\u0000b'])).toThrow('arguments cannot contain a NUL character');
  });
});
