import { isNodeId, validateClusterMap } from './cluster-map';

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
