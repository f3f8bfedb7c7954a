import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { EMPTY_DIGEST, ReplicaService } from '@kv/quorum';
import { closeServer, createHttpServer, createLogger, createRegistry, listen } from '@kv/service';
import { openStore, type Store } from '@kv/wal';
import { createApp } from './app';
import { readDatanodeConfig, replicaDigestOptions } from './config';

const TOKEN = 'cluster-secret';
const V1 = '0192f1a2b3c4-0000-proxy';
const V2 = '0192f1a2b3c4-0001-proxy';

/** The parts of the answers of `/internal/digests` and `/internal/versions` read here. */
interface Answer {
  ranges: { digest: string; keys: number; buckets: unknown[] }[];
  keys: unknown[];
}

/** A data node's app on a store of its own, its replica service set up from `env` as the node's start does. */
async function startNode(env: NodeJS.ProcessEnv): Promise<{ call: (route: string, body: unknown) => Promise<Answer>; replica: ReplicaService; stop: () => Promise<void> }> {
  const config = readDatanodeConfig(env, []);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kv-digests-'));
  const store: Store = await openStore(dir, { sync: 'none' });
  const replica = new ReplicaService({
    nodeId: 'node1',
    store,
    incarnation: '0123456789abcdef',
    filled: true,
    recordFilled: async () => undefined,
    wall: { now: () => Date.now() },
    monotonic: { now: () => 0 },
    keys: [],
    persistMap: async () => undefined,
    persistStream: async () => undefined,
    ...replicaDigestOptions(config),
  });
  const { listener } = createApp({
    store,
    nodeId: 'node1',
    replica,
    clusterToken: [TOKEN],
    maxValueBytes: 1024,
    walSync: 'none',
    now: () => Date.now(),
    logger: createLogger({ service: 'datanode', stream: new PassThrough() }),
    registry: createRegistry('datanode'),
  });
  const server: http.Server = createHttpServer(listener);
  const base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  const call = async (route: string, body: unknown): Promise<Answer> => {
    const res = await fetch(base + route, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as Answer;
  };
  const stop = async (): Promise<void> => {
    await closeServer(server, 100);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { call, replica, stop };
}

/** Writes values, a newer version of one and a tombstone, then answers the node's digest of the whole ring. */
async function digestAfterWrites(env: NodeJS.ProcessEnv): Promise<{ digest: string; keys: number; buckets: unknown[]; indexed: number; listed: number }> {
  const node = await startNode(env);
  try {
    await node.call('/internal/batch', { ops: [['s', 'a', 'one', V1], ['s', 'b', 'two', V1], ['d', 'gone', V1]] });
    await node.call('/internal/batch', { ops: [['s', 'a', 'uno', V2]] });
    const answer = await node.call('/internal/digests', { ranges: '0-0', buckets: true });
    const listed = await node.call('/internal/versions', { ranges: '0-0' });
    const [{ digest, keys, buckets }] = answer.ranges;
    return { digest, keys, buckets, indexed: node.replica.index.size, listed: listed.keys.length };
  } finally {
    await node.stop();
  }
}

test('with TEST_RANGE_DIGESTS=off (and TEST_FAULTS=true) the digests stay empty as writes apply; the keys stay indexed', async () => {
  const off = await digestAfterWrites({ TEST_FAULTS: 'true', TEST_RANGE_DIGESTS: 'off' });
  expect(off).toEqual({ digest: EMPTY_DIGEST, keys: 0, buckets: [], indexed: 3, listed: 3 });
  // The same writes with the digests kept, as by default.
  const on = await digestAfterWrites({});
  expect(on.digest).not.toBe(EMPTY_DIGEST);
  expect(on).toMatchObject({ keys: 3, indexed: 3, listed: 3 });
  expect(on.buckets.length).toBeGreaterThan(0);
});
