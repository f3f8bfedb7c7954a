import http from 'node:http';
import { PassThrough } from 'node:stream';
import type { InternalOpResult } from '@kv/protocol';
import { BatchingTransport, CoordinatorVersions, Replicator, VirtualClock, type BatchSender } from '@kv/quorum';
import { HashRing } from '@kv/ring';
import { closeServer, createHttpServer, createLogger, createRegistry, listen } from '@kv/service';
import { createApp } from './app';
import { PublicApi } from './public-api';
import { RequestDeadlines } from './request-deadline';
import { ProxyRespBackend } from './resp-backend';

const NODES = ['node1', 'node2', 'node3'];
const TIMEOUT_MS = 500;

/** A sender that records batches and answers only when the test says so (never, unless it does). */
function heldSender() {
  const sent: { nodeId: string; ops: number; answer: (results: InternalOpResult[]) => void }[] = [];
  const sender: BatchSender = {
    send: (nodeId, batch) => new Promise((resolve) => sent.push({ nodeId, ops: batch.ops.length, answer: resolve })),
  };
  return { sender, sent };
}

/** Waits (a few event-loop turns at a time) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never held');
}

interface Setup {
  clock: VirtualClock;
  sent: ReturnType<typeof heldSender>['sent'];
  replicator: Replicator;
  versions: CoordinatorVersions;
  deadlines: RequestDeadlines;
}

function setup(): Setup {
  const clock = new VirtualClock();
  const { sender, sent } = heldSender();
  // The transport and the deadlines share one clock, as in the proxy (the system clock).
  const transport = new BatchingTransport({ sender, clock });
  const versions = new CoordinatorVersions({ clockId: 'test', clock, floor: undefined });
  // A replica timeout far beyond the request's: only the request's deadline can end the work.
  const replicator = new Replicator({ ring: new HashRing(NODES), transport, versions, timeoutMs: 600_000, timers: clock });
  return { clock, sent, replicator, versions, deadlines: new RequestDeadlines(TIMEOUT_MS, clock) };
}

describe('REQUEST_TIMEOUT_MS over HTTP', () => {
  let server: http.Server | undefined;
  let base = '';
  let env: Setup;

  beforeEach(async () => {
    env = setup();
    const api = new PublicApi({ replicator: env.replicator, versions: env.versions, maxValueBytes: 1000 });
    const { listener } = createApp({
      api,
      deadlines: env.deadlines,
      ready: () => ({ ready: true, status: 'ready', nodesUp: 3, nodes: 3, writeQuorum: 2, joined: true }),
      cluster: () => ({ nodes: [], replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128, epoch: 1, change: null }),
      logger: createLogger({ service: 'proxy', stream: new PassThrough() }),
      registry: createRegistry('proxy'),
    });
    server = createHttpServer(listener);
    base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  });
  afterEach(async () => {
    if (server !== undefined) await closeServer(server, 100);
    server = undefined;
  });

  test('a write no data node answers gets 503 KV_QUORUM_FAILED at its deadline, and its queued operations are not sent', async () => {
    const answer = fetch(`${base}/kv/a`, { method: 'PUT', body: JSON.stringify({ value: 'x' }) });
    await until(() => env.sent.length === 3);
    // A second write of the same key waits behind the first one's batches, one batch in flight per node.
    const second = fetch(`${base}/kv/b`, { method: 'PUT', body: JSON.stringify({ value: 'y' }) });
    await until(() => env.clock.pendingTimers === 2);
    await env.clock.advance(TIMEOUT_MS - 1);
    expect(env.sent).toHaveLength(3);
    await env.clock.advance(1);
    const res = await answer;
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('KV_QUORUM_FAILED');
    expect(body.error.message).toContain(`REQUEST_TIMEOUT_MS=${TIMEOUT_MS} ms`);
    expect((await second).status).toBe(503);
    // The first batches settle late: the second write, queued meanwhile, is dropped, not sent.
    for (const batch of env.sent) batch.answer([[1, 'v']]);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(env.sent).toHaveLength(3);
  });

  test('a batch whose client went away starts no more operations', async () => {
    const ops = Array.from({ length: 20 }, (_, i) => ({ op: 'get', key: `k${i}` }));
    const controller = new AbortController();
    const answer = fetch(`${base}/batch`, { method: 'POST', body: JSON.stringify({ ops }), signal: controller.signal }).catch((error: unknown) => error);
    // The first read goes alone (the batch does not know the size of values yet): R=2 replicas are asked.
    await until(() => env.sent.length === 2);
    controller.abort();
    await answer;
    // The server sees the connection close (the request ends: its deadline timer is cleared) before the first read's answer.
    await until(() => env.clock.pendingTimers === 0);
    for (const batch of env.sent) batch.answer([null]);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(env.sent).toHaveLength(2);
  });
});

function respBackend(env: Setup): ProxyRespBackend {
  return new ProxyRespBackend({
    replicator: env.replicator,
    versions: env.versions,
    cluster: () => ({ nodes: [], replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128, epoch: 1, change: null }),
    maxValueBytes: 1000,
    proxyId: 'test',
    now: () => env.clock.now(),
    deadlines: env.deadlines,
  });
}

describe('REQUEST_TIMEOUT_MS over RESP', () => {
  test('the reads of a command whose connection closed are not sent', async () => {
    const env = setup();
    const backend = respBackend(env);
    // A first command keeps a batch in flight to every node asked: the next command's reads queue behind it.
    void backend.get('first', {}).catch(() => undefined);
    await until(() => env.sent.length === 2);
    let gone = false;
    const many = backend.mget(['a', 'b', 'c'], { clientGone: () => gone });
    gone = true;
    for (const batch of env.sent) batch.answer([null]);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    const results = await many;
    expect(results.every((result) => result instanceof Error)).toBe(true);
    expect(env.sent).toHaveLength(2);
  });

  test('a command no data node answers fails with KV_QUORUM_FAILED at its deadline', async () => {
    const env = setup();
    const backend = new ProxyRespBackend({
      replicator: env.replicator,
      versions: env.versions,
      cluster: () => ({ nodes: [], replicas: 3, writeQuorum: 2, readQuorum: 2, vnodes: 128, epoch: 1, change: null }),
      maxValueBytes: 1000,
      proxyId: 'test',
      now: () => env.clock.now(),
      deadlines: env.deadlines,
    });
    const got = backend.get('a', {}).catch((error: unknown) => error);
    await until(() => env.sent.length === 2);
    await env.clock.advance(TIMEOUT_MS);
    await expect(got).resolves.toMatchObject({ code: 'KV_QUORUM_FAILED', status: 503 });
  });
});
