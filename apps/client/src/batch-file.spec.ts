import { parseBatchFile } from './batch-file';
import { UsageError } from './usage-error';

describe('parseBatchFile', () => {
  it('parses one operation per line, skipping blank lines and ignoring other fields', () => {
    const text = [
      '{"op":"set","key":"a","value":"1","note":"ignored"}',
      '',
      '   ',
      '{"op":"get","key":"a/b ✓"}\r',
      '{"op":"del","key":"c","value":"ignored"}',
    ].join('\n');
    expect(parseBatchFile(text, 'ops.jsonl')).toEqual([
      { op: 'set', key: 'a', value: '1' },
      { op: 'get', key: 'a/b ✓' },
      { op: 'del', key: 'c' },
    ]);
  });

  it('keeps the "ttl" of a set (a key that expires)', () => {
    expect(parseBatchFile('{"op":"set","key":"s","value":"1","ttl":30}\n{"op":"set","key":"p","value":"2"}', 'f')).toEqual([
      { op: 'set', key: 's', value: '1', ttl: 30 },
      { op: 'set', key: 'p', value: '2' },
    ]);
  });

  it('accepts an empty file and a last line without a newline', () => {
    expect(parseBatchFile('', 'f')).toEqual([]);
    expect(parseBatchFile('{"op":"get","key":"k"}', 'f')).toEqual([{ op: 'get', key: 'k' }]);
  });

  it.each([
    ['{"op":"set","key":"k"', 'ops.jsonl:1: not valid JSON'],
    ['[1,2]', 'ops.jsonl:1: not a JSON object'],
    ['{"op":"put","key":"k"}', 'ops.jsonl:1: "op" must be "set", "get" or "del", got "put"'],
    ['{"key":"k"}', 'ops.jsonl:1: "op" must be "set", "get" or "del", got nothing'],
    ['{"op":"get","key":""}', 'ops.jsonl:1: invalid key: key must be 1 to 1024 bytes of UTF-8, got 0'],
    ['{"op":"get","key":7}', 'ops.jsonl:1: invalid key: key must be a string'],
    ['{"op":"set","key":"k","value":1}', 'ops.jsonl:1: a set needs a string "value"'],
    ['{"op":"set","key":"k","value":"\\ud800"}', 'ops.jsonl:1: "value" must be well-formed Unicode'],
    ['{"op":"set","key":"k","value":"v","ttl":0}', 'ops.jsonl:1: "ttl" must be a whole number of seconds from 1 to 315360000'],
  ])('refuses %j with the line number', (line, message) => {
    expect(() => parseBatchFile(line, 'ops.jsonl')).toThrow(UsageError);
    expect(() => parseBatchFile(line, 'ops.jsonl')).toThrow(message);
  });

  it('names the line of the first mistake, and standard input as such', () => {
    const text = '{"op":"get","key":"a"}\n\n{"op":"nope","key":"b"}\n';
    expect(() => parseBatchFile(text, '-')).toThrow('standard input:3: ');
  });
});
