import { CoordinatorVersions, InMemoryCluster, Replicator, systemClock } from '@kv/quorum';
import { HashRing } from '@kv/ring';
import { InFlight } from '@kv/service';
import { ProxyRespBackend } from './resp-backend';

const NODES = ['node1', 'node2', 'node3'];
const MIB = 1024 * 1024;

function backend(options: { inFlight?: InFlight; batchResponseBytesMax?: number } = {}): ProxyRespBackend {
  const cluster = new InMemoryCluster(NODES);
  const versions = new CoordinatorVersions({ clockId: 'test', clock: systemClock, floor: undefined });
  const replicator = new Replicator({ ring: new HashRing(NODES), transport: cluster.transport(), versions, timeoutMs: 1000 });
  return new ProxyRespBackend({
    replicator,
    versions,
    cluster: () => ({ nodes: [], replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128, epoch: 1, change: null }),
    maxValueBytes: 2 * MIB,
    proxyId: 'test',
    now: () => Date.now(),
    ...options,
  });
}

describe('ProxyRespBackend: the bounds of the HTTP API hold for RESP commands', () => {
  test('an MGET answer carries at most MAX_BATCH_RESPONSE_BYTES of values: the keys beyond fail alone', async () => {
    const resp = backend({ batchResponseBytesMax: 250 });
    for (const key of ['a', 'b', 'c', 'd']) await resp.set(key, key.repeat(100), {});
    const results = await resp.mget(['a', 'b', 'c', 'd'], {});
    expect(results.slice(0, 2)).toEqual([expect.objectContaining({ value: 'a'.repeat(100) }), expect.objectContaining({ value: 'b'.repeat(100) })]);
    expect(results[2]).toMatchObject({ code: 'KV_TOO_LARGE', message: expect.stringMatching(/would carry more than MAX_BATCH_RESPONSE_BYTES=250/) });
    // Read together with c (small values: many reads in flight), or refused without reading once the answer is full.
    expect(results[3]).toMatchObject({ code: 'KV_TOO_LARGE' });
  });

  test('MGET values count in MAX_BYTES_IN_FLIGHT: past it a value fails with KV_OVERLOADED, and all is given back after', async () => {
    const inFlight = new InFlight({ requestsMax: 100, bytesMax: 2 * MIB });
    const resp = backend({ inFlight });
    for (const key of ['a', 'b', 'c']) await resp.set(key, key.repeat(MIB), {});
    expect(inFlight.bytes).toBe(0);
    const results = await resp.mget(['a', 'b', 'c'], {});
    const overloaded = results.filter((result) => result instanceof Error);
    expect(overloaded).toHaveLength(1);
    expect(overloaded[0]).toMatchObject({ code: 'KV_OVERLOADED', message: expect.stringMatching(/MAX_BYTES_IN_FLIGHT=2097152/) });
    expect(inFlight.bytes).toBe(0);
    expect(inFlight.requests).toBe(0);
  });

  test('commands count as requests in flight: beyond MAX_REQUESTS_IN_FLIGHT a command is refused with KV_OVERLOADED', async () => {
    const inFlight = new InFlight({ requestsMax: 1, bytesMax: 2 * MIB });
    const held = inFlight.admit(0);
    const resp = backend({ inFlight });
    await expect(resp.get('a', {})).rejects.toMatchObject({ code: 'KV_OVERLOADED', status: 503 });
    await expect(resp.set('a', 'x', {})).rejects.toMatchObject({ code: 'KV_OVERLOADED' });
    const mset = await resp.mset([{ key: 'a', value: 'x' }], {});
    expect(mset[0]).toMatchObject({ code: 'KV_OVERLOADED' });
    held.release();
    await expect(resp.set('a', 'x', {})).resolves.toMatchObject({ version: expect.any(String) });
    expect(inFlight.requests).toBe(0);
  });

  test('a SET holds its value in MAX_BYTES_IN_FLIGHT while it runs; a GET holds the value it read', async () => {
    const inFlight = new InFlight({ requestsMax: 100, bytesMax: MIB });
    const held = inFlight.admit(MIB - 10);
    const resp = backend({ inFlight });
    await expect(resp.set('big', 'x'.repeat(100), {})).rejects.toMatchObject({ code: 'KV_OVERLOADED' });
    held.release();
    await resp.set('big', 'x'.repeat(100), {});
    const again = inFlight.admit(MIB - 10);
    await expect(resp.get('big', {})).rejects.toMatchObject({ code: 'KV_OVERLOADED' });
    again.release();
    await expect(resp.get('big', {})).resolves.toMatchObject({ value: 'x'.repeat(100) });
    expect(inFlight.bytes).toBe(0);
  });
});
