import { HashRing } from '@kv/ring';
import { InMemoryCluster } from './in-memory/in-memory-cluster';
import { NodeHealth } from './node-health';
import { type ListedEntry, Refiller } from './refiller';
import { Replicator } from './replicator';
import { CounterVersions, format } from './spec-support/harness';

function listing(cluster: InMemoryCluster) {
  return async function* (nodeId: string): AsyncIterable<ListedEntry> {
    for (const [key, entry] of cluster.node(nodeId).dump()) yield [key, entry.version, entry.value];
  };
}

describe('Refiller', () => {
  test('copies to a wiped replica every entry of its keys, tombstones included, from its peers', async () => {
    const nodes = ['a', 'b', 'c', 'd'];
    const cluster = new InMemoryCluster(nodes);
    const ring = new HashRing(nodes, { vnodes: 16 });
    const replicator = new Replicator({ ring, transport: cluster.transport(), versions: new CounterVersions() });
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    for (const key of keys) await replicator.set(key, `v-${key}`);
    await replicator.delete('key-3');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const before = cluster.node('a').dump();
    cluster.node('a').wipe();

    const refiller = new Refiller({ ring, replicas: 3, transport: cluster.transport(), source: listing(cluster) });
    const report = await refiller.refill('a', ['b', 'c', 'd']);
    expect(cluster.node('a').dump()).toEqual(before);
    expect(report.copied).toBeGreaterThanOrEqual(before.size);
    expect(report.scanned).toBeGreaterThan(report.copied);
  });

  test('copies the expiry of a value that expires with it, as the entries list it', async () => {
    const cluster = new InMemoryCluster(['a', 'b']);
    cluster.node('b').apply({ key: 'k', value: 'v', version: format(1), expiresAt: 1_700_000_002_000 });
    cluster.node('b').apply({ key: 'p', value: 'plain', version: format(1) });
    const ring = { preferenceList: () => ['a', 'b'] };
    await new Refiller({ ring, replicas: 2, transport: cluster.transport(), source: (nodeId) => cluster.entries(nodeId) }).refill('a', ['b']);
    expect(cluster.node('a').get('k')).toEqual({ value: 'v', version: format(1), expiresAt: 1_700_000_002_000 });
    expect(cluster.node('a').get('p')).toEqual({ value: 'plain', version: format(1) });
  });

  test('never overwrites a newer version the target received meanwhile', async () => {
    const cluster = new InMemoryCluster(['a', 'b']);
    cluster.node('b').apply({ key: 'k', value: 'old', version: format(1) });
    cluster.node('a').apply({ key: 'k', value: 'new', version: format(2) });
    const refiller = new Refiller({ ring: { preferenceList: () => ['a', 'b'] }, replicas: 2, transport: cluster.transport(), source: listing(cluster) });
    await refiller.refill('a', ['b']);
    expect(cluster.node('a').get('k')).toEqual({ value: 'new', version: format(2) });
  });

  test('fails when a peer cannot be listed or the target keeps failing, so the refill is run again', async () => {
    const cluster = new InMemoryCluster(['a', 'b']);
    cluster.node('b').apply({ key: 'k', value: 'v', version: format(1) });
    const broken = async function* (): AsyncIterable<ListedEntry> {
      yield ['k', '0001', 'v'];
      throw new Error('connection reset');
    };
    const ring = { preferenceList: () => ['a', 'b'] };
    await expect(new Refiller({ ring, replicas: 2, transport: cluster.transport(), source: broken }).refill('a', ['b'])).rejects.toThrow(
      'connection reset',
    );
    cluster.setFault('a', { error: true });
    await expect(new Refiller({ ring, replicas: 2, transport: cluster.transport(), source: listing(cluster) }).refill('a', ['b'])).rejects.toThrow();
  });

  test('a replica that does not count toward quorums gets writes but its answers are not counted', async () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const health = new NodeHealth(['a', 'b', 'c']);
    const replicator = new Replicator({
      ring: { preferenceList: () => ['a', 'b', 'c'] },
      transport: cluster.transport(),
      versions: new CounterVersions(),
      health,
      timeoutMs: 50,
    });
    health.setCounted('a', false);
    expect(health.allCounted).toBe(false);
    await expect(replicator.set('k', 'v')).resolves.toMatchObject({ acks: 2 });
    expect(cluster.node('a').get('k')?.value).toBe('v');
    // With one counted replica down, a's acknowledgement cannot make up the quorum, nor can its reads.
    cluster.setFault('b', { down: true });
    await expect(replicator.set('k', 'w')).rejects.toMatchObject({ code: 'KV_QUORUM_FAILED', acks: 1, required: 2 });
    await expect(replicator.get('k')).rejects.toMatchObject({ code: 'KV_QUORUM_FAILED' });
    cluster.node('c').wipe();
    cluster.setFault('b', undefined);
    cluster.calls.read = 0;
    await replicator.get('k');
    expect(cluster.calls.read).toBe(2);
    health.setCounted('a', true);
    expect(health.allCounted).toBe(true);
  });
});
