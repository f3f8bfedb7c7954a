import { checkChange, checkNodeId, parseNodeSpec } from './cluster-args';
import { UsageError } from './usage-error';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('parseNodeSpec', () => {
  it.each([
    ['node4=http://10.0.0.4:8001', { id: 'node4', url: 'http://10.0.0.4:8001' }],
    ['n-5.b_c=https://kv-5.example.com', { id: 'n-5.b_c', url: 'https://kv-5.example.com' }],
    ['node4=http://[::1]:8001/', { id: 'node4', url: 'http://[::1]:8001/' }],
    ['node4=http://host:8001/prefix/path', { id: 'node4', url: 'http://host:8001/prefix/path' }],
  ])('parses %j', (text, spec) => {
    expect(parseNodeSpec(text)).toEqual(spec);
  });

  it.each([
    ['node4', '"node4" is not <id>=<url>, e.g. node4=http://10.0.0.4:8001'],
    ['http://10.0.0.4:8001', '"http://10.0.0.4:8001" is not <id>=<url>, e.g. node4=http://10.0.0.4:8001'],
    ['=http://h:1', 'bad node id "" in "=http://h:1": 1 to 64 letters, digits, "_", "." or "-"'],
    ['no de=http://h:1', 'bad node id "no de" in "no de=http://h:1": 1 to 64 letters, digits, "_", "." or "-"'],
    [`${'n'.repeat(65)}=http://h:1`, `bad node id "${'n'.repeat(65)}" in "${'n'.repeat(65)}=http://h:1": 1 to 64 letters, digits, "_", "." or "-"`],
    ['node4=', 'bad URL "" for node node4: expected an http(s) URL without spaces, e.g. node4=http://10.0.0.4:8001'],
    ['node4=10.0.0.4:8001', 'bad URL "10.0.0.4:8001" for node node4: expected http:// or https://, e.g. node4=http://10.0.0.4:8001'],
    ['node4=ftp://h', 'bad URL "ftp://h" for node node4: expected http:// or https://, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http://', 'bad URL "http://" for node node4: not a URL, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http:///h:1', 'bad URL "http:///h:1" for node node4: no host, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http://h:99999', 'bad URL "http://h:99999" for node node4: not a URL, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http://a b', 'bad URL "http://a b" for node node4: expected an http(s) URL without spaces, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http://h\t:1', 'bad URL "http://h\\t:1" for node node4: expected an http(s) URL without spaces, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http://h\u00a0:1', 'bad URL "http://h\u00a0:1" for node node4: expected an http(s) URL without spaces, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http://h:1?x=1', 'bad URL "http://h:1?x=1" for node node4: no query or fragment, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http://h:1#top', 'bad URL "http://h:1#top" for node node4: no query or fragment, e.g. node4=http://10.0.0.4:8001'],
    ['node4=http://u:p@h:1', 'bad URL "http://u:p@h:1" for node node4: credentials in a URL would be shown to every client, e.g. node4=http://10.0.0.4:8001'],
  ])('refuses %j', (text, message) => {
    expect(usageMessage(() => parseNodeSpec(text))).toBe(message);
  });
});

describe('checkNodeId', () => {
  it('accepts an id and refuses what a cluster map would', () => {
    expect(checkNodeId('node1')).toBe('node1');
    expect(usageMessage(() => checkNodeId('node 1'))).toBe('bad node id "node 1": 1 to 64 letters, digits, "_", "." or "-"');
    expect(usageMessage(() => checkNodeId('node1=http://h:1'))).toBe(
      'bad node id "node1=http://h:1": 1 to 64 letters, digits, "_", "." or "-"',
    );
  });
});

describe('checkChange', () => {
  const node = (id: string, url = `http://${id}:8001`): { id: string; url: string } => ({ id, url });

  it('accepts a change that adds and removes different nodes', () => {
    const change = { add: [node('node4'), node('node5')], remove: ['node1'] };
    expect(checkChange(change)).toBe(change);
  });

  it.each([
    [{ add: [], remove: [] }, 'nothing to change: name at least one node'],
    [{ add: [node('node4'), node('node4', 'http://other:1')], remove: [] }, 'node node4 is named twice'],
    [{ add: [], remove: ['node1', 'node1'] }, 'node node1 is named twice'],
    [{ add: [node('node1')], remove: ['node1'] }, 'node node1 is named twice'],
    [{ add: [node('node4', 'http://h:1'), node('node5', 'http://h:1')], remove: [] }, 'nodes node4 and node5 have the same URL http://h:1'],
    [{ add: [node('node4', 'http://H:1'), node('node5', 'http://h:1/')], remove: [] }, 'nodes node4 and node5 have the same URL http://h:1/'],
    [{ add: [node('node4', 'http://h:80'), node('node5', 'http://h')], remove: [] }, 'nodes node4 and node5 have the same URL http://h'],
  ])('refuses %j', (change, message) => {
    expect(usageMessage(() => checkChange(change))).toBe(message);
  });
});
