import { FakeProxy, startFakeProxy } from '../testing/fake-proxy';
import { HttpSender } from './http-sender';
import { BENCH_KEY_PREFIX, benchValue, LoadGenerator, LoadSpec } from './load-generator';
import { preloadKeys } from './preload';

const SPEC: LoadSpec = {
  connections: 4,
  valueBytes: 16,
  keys: 50,
  mix: { set: 1, get: 1, del: 1 },
  batchOps: undefined,
  opsTotal: 300,
  durationMs: undefined,
  w: undefined,
  r: undefined,
  seed: 42,
};

describe('LoadGenerator', () => {
  let proxy: FakeProxy;
  let sender: HttpSender;

  beforeEach(async () => {
    proxy = await startFakeProxy();
    sender = new HttpSender({ baseUrl: proxy.url, token: undefined, connections: 4, timeoutMs: 2000 });
  });

  afterEach(async () => {
    sender.close();
    await proxy.close();
  });

  it('sends exactly the operations asked for, each counted once', async () => {
    const result = await new LoadGenerator(sender, SPEC).run();
    const ops = Object.values(result.ops);
    expect(ops.reduce((sum, s) => sum + s.count, 0)).toBe(300);
    for (const s of ops) expect(s.ok + s.notFound + s.errorCount).toBe(s.count);
    expect(result.requests.count).toBe(300);
    expect(proxy.requests).toHaveLength(300);
    expect(result.interrupted).toBe(false);
    const methods = new Set(proxy.requests.map((r) => r.method));
    expect(methods).toEqual(new Set(['PUT', 'GET', 'DELETE']));
    for (const r of proxy.requests) expect(r.url).toMatch(/^\/kv\/bench%3A\d+$/);
    const put = proxy.requests.find((r) => r.method === 'PUT');
    expect(JSON.parse(put?.body ?? '')).toEqual({ value: benchValue(16) });
  });

  it('is repeatable with the same seed', async () => {
    await new LoadGenerator(sender, { ...SPEC, connections: 1, opsTotal: 20 }).run();
    const first = proxy.requests.map((r) => `${r.method} ${r.url}`);
    proxy.requests.length = 0;
    await new LoadGenerator(sender, { ...SPEC, connections: 1, opsTotal: 20 }).run();
    expect(proxy.requests.map((r) => `${r.method} ${r.url}`)).toEqual(first);
  });

  it('sends /batch requests of batchOps operations, the last one partial, with ?w= and ?r=', async () => {
    const result = await new LoadGenerator(sender, { ...SPEC, batchOps: 40, opsTotal: 100, w: 1, r: 2 }).run();
    expect(proxy.requests.map((r) => r.url)).toEqual(['/batch?w=1&r=2', '/batch?w=1&r=2', '/batch?w=1&r=2']);
    const sizes = proxy.requests.map((r) => (JSON.parse(r.body) as { ops: unknown[] }).ops.length).sort();
    expect(sizes).toEqual([20, 40, 40]);
    expect(result.requests.count).toBe(3);
    expect(Object.values(result.ops).reduce((sum, s) => sum + s.count, 0)).toBe(100);
  });

  it('counts server errors by code and failures without an answer by socket code', async () => {
    for (let i = 0; i < 50; i++) proxy.quorumFailures.add(`${BENCH_KEY_PREFIX}${i}`);
    const result = await new LoadGenerator(sender, { ...SPEC, mix: { set: 1, get: 0, del: 0 }, opsTotal: 10 }).run();
    expect(result.ops.set.errors).toEqual(new Map([['KV_QUORUM_FAILED', 10]]));
    expect(result.ops.set.latency.count).toBe(10);

    await proxy.close();
    const unanswered = await new LoadGenerator(sender, { ...SPEC, opsTotal: 5 }).run();
    const codes = Object.values(unanswered.ops).flatMap((s) => [...s.errors.keys()]);
    expect(codes.every((code) => /^E[A-Z]+$/.test(code))).toBe(true);
    expect(Object.values(unanswered.ops).reduce((sum, s) => sum + s.errorCount, 0)).toBe(5);
  });

  it('runs for a duration, and stop() ends it early', async () => {
    const generator = new LoadGenerator(sender, { ...SPEC, opsTotal: undefined, durationMs: 60_000 });
    const running = generator.run();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(generator.progress().ops).toBeGreaterThan(0);
    generator.stop();
    const result = await running;
    expect(result.interrupted).toBe(true);
    expect(result.elapsedMs).toBeLessThan(5000);

    const timed = await new LoadGenerator(sender, { ...SPEC, opsTotal: undefined, durationMs: 150 }).run();
    expect(timed.interrupted).toBe(false);
    expect(timed.elapsedMs).toBeGreaterThanOrEqual(149);
  });

  it('preloads the whole key space', async () => {
    const done: number[] = [];
    const result = await preloadKeys(sender, { keys: 2500, valueBytes: 8, connections: 2, w: undefined }, (n) => done.push(n));
    expect(result).toEqual({ written: 2500, errors: new Map() });
    expect(proxy.store.size).toBe(2500);
    expect(proxy.store.get(`${BENCH_KEY_PREFIX}2499`)?.value).toBe(benchValue(8));
    expect(done.at(-1)).toBe(2500);
  });
});
