import { ErrorCode } from '@kv/protocol';
import { CoordinatorVersions, InMemoryCluster, Replicator } from '@kv/quorum';
import { HashRing } from '@kv/ring';
import { ProxyRespBackend } from './resp-backend';

const NODES = ['node1', 'node2', 'node3'];

/** A backend over in-memory data nodes, with a proxy clock the test moves. */
function setup() {
  const clock = { ms: Date.now(), now(): number { return this.ms; } };
  const cluster = new InMemoryCluster(NODES);
  const versions = new CoordinatorVersions({ clockId: 'test', clock, floor: undefined });
  const replicator = new Replicator({ ring: new HashRing(NODES), transport: cluster.transport(), versions, timeoutMs: 200, clock });
  const backend = new ProxyRespBackend({
    replicator,
    versions,
    cluster: () => ({ nodes: [], replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128, epoch: 1, change: null }),
    maxValueBytes: 1000,
    proxyId: 'test',
    now: () => clock.now(),
  });
  return { clock, backend };
}

describe('ProxyRespBackend: expiring keys', () => {
  test('advertises TTL support and no compare-and-set', () => {
    expect(setup().backend.capabilities).toEqual({ ttl: true, compareAndSet: false });
  });

  test('a value written with an absolute expiry reads with it, and is missing from that instant on', async () => {
    const { clock, backend } = setup();
    const at = clock.ms + 1500;
    await expect(backend.set('k', 'v', { expiresAtMs: at })).resolves.toMatchObject({ expiresAtMs: at });
    await expect(backend.get('k', {})).resolves.toMatchObject({ value: 'v', expiresAtMs: at });
    await expect(backend.mget(['k'], {})).resolves.toEqual([expect.objectContaining({ expiresAtMs: at })]);
    clock.ms = at;
    await expect(backend.get('k', {})).resolves.toBeUndefined();
    await expect(backend.mget(['k'], {})).resolves.toEqual([undefined]);
  });

  test('a write without expiry clears it', async () => {
    const { clock, backend } = setup();
    await backend.set('k', 'v', { expiresAtMs: clock.ms + 1000 });
    const plain = await backend.set('k', 'w', {});
    expect(plain).toEqual({ version: plain.version });
    clock.ms += 5000;
    await expect(backend.get('k', {})).resolves.toEqual({ value: 'w', version: plain.version });
  });

  test('KEEPTTL is refused, naming why, and writes nothing', async () => {
    const { backend } = setup();
    await expect(backend.set('k', 'v', { keepTtl: true })).rejects.toMatchObject({
      code: ErrorCode.BadRequest,
      message: expect.stringContaining('needs compare-and-set') as unknown as string,
    });
    await expect(backend.get('k', {})).resolves.toBeUndefined();
  });
});
