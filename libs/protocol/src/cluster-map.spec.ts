import { isNodeId, nodeUrlProblem, validateClusterMap } from './cluster-map';

describe('nodeUrlProblem', () => {
  it.each(['http://127.0.0.1:8001', 'https://node4.kv.svc:8004', 'http://node4', 'HTTP://Node4:80/', 'http://[::1]:8001', 'http://h/prefix'])('accepts %j', (url) => {
    expect(nodeUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ['', 'expected an http(s) URL without spaces'],
    ['http://node 4:8001', 'expected an http(s) URL without spaces'],
    ['http://node4:8001\n', 'expected an http(s) URL without spaces'],
    ['node4:8001', 'expected http:// or https://'],
    ['ftp://node4', 'expected http:// or https://'],
    ['http://node4:99999', 'not a URL'],
    ['http:///node4', 'no host'],
    ['http://admin:secret@node4:8001', 'credentials in a URL would be shown to every client'],
    ['http://node4:8001/?x=1', 'no query or fragment'],
    ['http://node4:8001#top', 'no query or fragment'],
  ])('refuses %j: %s', (url, problem) => {
    expect(nodeUrlProblem(url)).toBe(problem);
  });
});

describe('isNodeId', () => {
  it.each(['node1', 'a', 'N-2_x.y', 'x'.repeat(64)])('accepts %j', (id) => {
    expect(isNodeId(id)).toBe(true);
  });

  it.each<unknown>(['', 'x'.repeat(65), 'node 1', 'node/1', 'nöde', 'a=b', 42, null, undefined])('refuses %j', (id) => {
    expect(isNodeId(id)).toBe(false);
  });

  it('agrees with the ids a cluster map accepts', () => {
    const map = (id: string): unknown => ({
      epoch: 1,
      vnodes: 8,
      replicas: 1,
      writeQuorum: 1,
      readQuorum: 1,
      members: [{ id, url: 'http://127.0.0.1:8001', state: 'active' }],
      transition: null,
    });
    for (const id of ['node1', 'N-2_x.y', 'node 1', '', 'x'.repeat(65)]) {
      let valid = true;
      try {
        validateClusterMap(map(id));
      } catch {
        valid = false;
      }
      expect([id, valid]).toEqual([id, isNodeId(id)]);
    }
  });
});
