import type { InternalOpResult } from '@kv/protocol';
import { ErrorCode, KvError } from '@kv/protocol';
import { BatchingTransport, type BatchSender, type OutgoingBatch } from './batching-transport';
import { MemoryHintStore } from './hint-store';
import { InMemoryCluster } from './in-memory/in-memory-cluster';
import { VirtualClock } from './in-memory/virtual-clock';
import { Replicator } from './replicator';
import { RequestEndedError, RequestScope } from './request-scope';
import { CounterVersions } from './spec-support/harness';
import type { WriteRequest } from './transport';

interface Sent {
  nodeId: string;
  batch: OutgoingBatch;
  timeoutMs: number;
}

/** A sender that records batches and lets the test answer them. */
function recordingSender() {
  const sent: Sent[] = [];
  const answers: { resolve: (results: InternalOpResult[]) => void; reject: (error: Error) => void }[] = [];
  const sender: BatchSender = {
    send: (nodeId, batch, timeoutMs) =>
      new Promise((resolve, reject) => {
        sent.push({ nodeId, batch, timeoutMs });
        answers.push({ resolve, reject });
      }),
  };
  return { sender, sent, answers };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function write(key: string, value: string | null, version: string): WriteRequest {
  return { key, value, version };
}

describe('BatchingTransport', () => {
  test('operations of one event-loop turn go out as one batch per node, in order, with their own results', async () => {
    const { sender, sent, answers } = recordingSender();
    const transport = new BatchingTransport({ sender });
    const w1 = write('a', 'x', 'v1');
    const w2 = write('b', null, 'v2');
    const replies = Promise.all([
      transport.write('n1', w1, 1000),
      transport.write('n1', w2, 1000),
      transport.read('n1', 'c', 1000),
      transport.read('n1', 'd', 1000),
    ]);
    await tick();
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0].batch.bytes().toString('utf8'))).toEqual({
      ops: [['s', 'a', 'x', 'v1'], ['d', 'b', 'v2'], ['g', 'c'], ['g', 'd']],
    });
    answers[0].resolve([[1, 'v1'], [0, 'v9'], ['v3', 'y'], null]);
    await expect(replies).resolves.toEqual([
      { applied: true, version: 'v1' },
      { applied: false, version: 'v9' },
      { version: 'v3', value: 'y' },
      undefined,
    ]);
  });

  test('nodes that get the same operations share one batch, serialized once', async () => {
    const { sender, sent, answers } = recordingSender();
    const transport = new BatchingTransport({ sender });
    const request = write('k', 'v', 'v1');
    const other = write('k2', 'v', 'v2');
    for (const node of ['n1', 'n2', 'n3']) void transport.write(node, request, 1000);
    void transport.write('n3', other, 1000);
    await tick();
    expect(sent.map((s) => s.nodeId)).toEqual(['n1', 'n2', 'n3']);
    expect(sent[0].batch).toBe(sent[1].batch);
    expect(sent[2].batch).not.toBe(sent[0].batch);
    for (const answer of answers.slice(0, 2)) answer.resolve([[1, 'v1']]);
    answers[2].resolve([
      [1, 'v1'],
      [1, 'v2'],
    ]);
  });

  test('one batch in flight per node: operations arriving meanwhile form the next batch', async () => {
    const { sender, sent, answers } = recordingSender();
    const transport = new BatchingTransport({ sender });
    const first = transport.read('n1', 'a', 1000);
    await tick();
    const second = [transport.read('n1', 'b', 1000), transport.read('n1', 'c', 1000)];
    await tick();
    expect(sent).toHaveLength(1);
    answers[0].resolve([null]);
    await first;
    await tick();
    expect(sent).toHaveLength(2);
    expect(sent[1].batch.ops).toEqual([
      ['g', 'b'],
      ['g', 'c'],
    ]);
    answers[1].resolve([null, ['v', 'x']]);
    await expect(Promise.all(second)).resolves.toEqual([undefined, { version: 'v', value: 'x' }]);
  });

  test('batches are capped in operations and bytes', async () => {
    const { sender, sent } = recordingSender();
    const transport = new BatchingTransport({ sender, batchOpsMax: 3, batchBytesMax: 100, inFlightMax: 10 });
    for (let i = 0; i < 7; i++) void transport.read('n1', `k${i}`, 1000);
    void transport.write('n1', write('big', 'x'.repeat(200), 'v'), 1000);
    void transport.read('n1', 'after', 1000);
    await tick();
    expect(sent.map((s) => s.batch.ops.length)).toEqual([3, 3, 1, 1, 1]);
  });

  test('a failed batch fails each of its operations; a per-operation error fails only that one', async () => {
    const { sender, answers } = recordingSender();
    const transport = new BatchingTransport({ sender, inFlightMax: 2 });
    const a = transport.read('n1', 'a', 1000);
    const b = transport.read('n1', 'b', 1000);
    const c = transport.read('n2', 'c', 1000);
    await tick();
    answers[0].resolve([null, { error: { code: ErrorCode.InvalidKey, message: 'bad key' } }]);
    answers[1].reject(new KvError(ErrorCode.Unavailable, 'connection refused'));
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toMatchObject({ code: ErrorCode.InvalidKey });
    await expect(c).rejects.toMatchObject({ code: ErrorCode.Unavailable });
  });

  test('a node answering the wrong number of results fails the batch', async () => {
    const { sender, answers } = recordingSender();
    const transport = new BatchingTransport({ sender });
    const a = transport.read('n1', 'a', 1000);
    await tick();
    answers[0].resolve([null, null]);
    await expect(a).rejects.toMatchObject({ code: ErrorCode.Internal });
  });

  test('malformed results are rejected, not passed on', async () => {
    const { sender, answers } = recordingSender();
    const transport = new BatchingTransport({ sender });
    const a = transport.read('n1', 'a', 1000);
    const w = transport.write('n1', write('k', 'v', 'v1'), 1000);
    await tick();
    answers[0].resolve([[42, 'x'] as unknown as InternalOpResult, ['yes', 1] as unknown as InternalOpResult]);
    await expect(a).rejects.toMatchObject({ code: ErrorCode.Internal });
    await expect(w).rejects.toMatchObject({ code: ErrorCode.Internal });
  });

  test('operations whose deadline passed while queued are failed without being sent', async () => {
    const clock = new VirtualClock();
    const { sender, sent, answers } = recordingSender();
    const transport = new BatchingTransport({ sender, clock, schedule: (fn) => clock.setTimeout(fn, 0) });
    const first = transport.read('n1', 'a', 100).catch((error: unknown) => error);
    await clock.advance(0);
    const late = transport.read('n1', 'b', 100).catch((error: unknown) => error);
    await clock.advance(150);
    answers[0].reject(new Error('timeout'));
    await clock.advance(0);
    await expect(first).resolves.toMatchObject({ message: 'timeout' });
    await expect(late).resolves.toMatchObject({ code: ErrorCode.Unavailable });
    expect(sent).toHaveLength(1);
  });

  test('the batch timeout is what is left of the earliest deadline', async () => {
    const clock = new VirtualClock();
    const { sender, sent, answers } = recordingSender();
    const transport = new BatchingTransport({ sender, clock, schedule: (fn) => clock.setTimeout(fn, 0) });
    void transport.read('n1', 'a', 100);
    await clock.advance(0);
    void transport.read('n1', 'b', 100);
    await clock.advance(30);
    answers[0].resolve([null]);
    await clock.advance(0);
    expect(sent[1].timeoutMs).toBe(70);
  });

  test("operations whose request's deadline passed while queued are not sent, and no hint is recorded for them", async () => {
    const clock = new VirtualClock();
    const { sender, sent, answers } = recordingSender();
    const transport = new BatchingTransport({ sender, clock, schedule: (fn) => clock.setTimeout(fn, 0) });
    const blocker = transport.read('n1', 'a', 1000).catch((error: unknown) => error);
    await clock.advance(0);
    const scope = new RequestScope(clock.now() + 50, 50);
    const late = transport.write('n1', write('b', 'x', 'v1'), 1000, 'req-1', scope).catch((error: unknown) => error);
    await clock.advance(60);
    answers[0].resolve([null]);
    await clock.advance(0);
    await blocker;
    const error = await late;
    expect(error).toBeInstanceOf(RequestEndedError);
    expect(error).toMatchObject({ code: ErrorCode.QuorumFailed, status: 503 });
    expect((error as Error).message).toContain('REQUEST_TIMEOUT_MS=50 ms');
    expect(sent).toHaveLength(1);
    expect(transport.queued).toBe(0);
  });

  test("the batch timeout is at most what is left of its requests' deadlines", async () => {
    const clock = new VirtualClock();
    const { sender, sent } = recordingSender();
    const transport = new BatchingTransport({ sender, clock, schedule: (fn) => clock.setTimeout(fn, 0) });
    void transport.read('n1', 'a', 1000, 'req-1', new RequestScope(clock.now() + 40));
    await clock.advance(0);
    expect(sent[0].timeoutMs).toBe(40);
  });

  test('operations of a request given up while they are queued are not sent', async () => {
    const clock = new VirtualClock();
    const { sender, sent, answers } = recordingSender();
    const transport = new BatchingTransport({ sender, clock, schedule: (fn) => clock.setTimeout(fn, 0) });
    const blocker = transport.read('n1', 'a', 1000).catch((error: unknown) => error);
    await clock.advance(0);
    const scope = new RequestScope(Infinity);
    const gone = transport.writeMany('n1', [write('b', 'x', 'v1'), write('c', 'y', 'v2')], 1000, 'req-1', scope).catch((error: unknown) => error);
    const kept = transport.read('n1', 'd', 1000);
    scope.cancel();
    answers[0].resolve([null]);
    await clock.advance(0);
    await blocker;
    await expect(gone).resolves.toBeInstanceOf(RequestEndedError);
    expect(sent).toHaveLength(2);
    expect(sent[1].batch.ops).toEqual([['g', 'd']]);
    answers[1].resolve([null]);
    await expect(kept).resolves.toBeUndefined();
  });

  test('a replicator write whose request ended before sending fails and leaves no hint', async () => {
    const clock = new VirtualClock();
    const { sender, sent } = recordingSender();
    const transport = new BatchingTransport({ sender, clock, schedule: (fn) => clock.setTimeout(fn, 0) });
    const hints = new MemoryHintStore();
    const replicator = new Replicator({
      ring: { preferenceList: () => ['a', 'b', 'c'] },
      transport,
      versions: new CounterVersions(),
      hints,
      timeoutMs: 1000,
    });
    const scope = new RequestScope(Infinity);
    const written = replicator.set('k', 'v', { scope }).catch((error: unknown) => error);
    scope.cancel();
    await clock.advance(0);
    await expect(written).resolves.toMatchObject({ code: ErrorCode.QuorumFailed });
    expect(sent).toHaveLength(0);
    expect(hints.count).toBe(0);
  });

  test('a full queue refuses new operations at once', async () => {
    const { sender } = recordingSender();
    const transport = new BatchingTransport({ sender, queueOpsMax: 2 });
    void transport.read('n1', 'a', 1000);
    void transport.read('n1', 'b', 1000);
    await expect(transport.read('n1', 'c', 1000)).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    expect(transport.queued).toBe(2);
  });

  test.each([{ batchOpsMax: 0 }, { inFlightMax: 1.5 }, { queueOpsMax: -1 }, { batchBytesMax: Number.NaN }])(
    'rejects bad options %p',
    (options) => {
      expect(() => new BatchingTransport({ sender: recordingSender().sender, ...options })).toThrow(TypeError);
    },
  );

  test('the replicator keeps its semantics over the batching transport', async () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const transport = new BatchingTransport({ sender: cluster.batchSender() });
    const replicator = new Replicator({
      ring: { preferenceList: () => ['a', 'b', 'c'] },
      transport,
      versions: new CounterVersions(),
      timeoutMs: 1000,
    });
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
    await Promise.all(keys.map((key) => replicator.set(key, `value-${key}`)));
    // 300 writes to 3 nodes went out in a handful of batches, not 900 requests.
    expect(cluster.calls.batch).toBeLessThanOrEqual(6);
    cluster.setFault('a', { down: true });
    const values = await Promise.all(keys.map((key) => replicator.get(key)));
    expect(values.map((v) => v?.value)).toEqual(keys.map((key) => `value-${key}`));
  });
});
