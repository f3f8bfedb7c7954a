import { RouteStats } from './route-stats';

describe('RouteStats', () => {
  test('rates, error rates and latency quantiles per route and bucket; the bucket filling now is left out', () => {
    let now = 100_000;
    const stats = new RouteStats(() => now, 1000, 4);
    for (let i = 0; i < 98; i++) stats.record('/kv/:key', 'GET', 200, 0.001);
    stats.record('/kv/:key', 'GET', 503, 0.5);
    stats.record('/kv/:key', 'GET', 404, 0.5);
    stats.record('/batch', 'POST', 200, 0.01);
    expect(stats.snapshot().routes).toEqual([]);
    now = 101_000;
    const snapshot = stats.snapshot();
    expect(snapshot.bucketSeconds).toBe(1);
    expect(snapshot.times).toEqual([98_000, 99_000, 100_000]);
    const get = snapshot.routes.find((series) => series.route === 'GET /kv/:key');
    expect(get?.ops).toEqual([0, 0, 100]);
    // Only 5xx count as errors: a 404 is an answer.
    expect(get?.errorRate).toEqual([null, null, 0.01]);
    const p50 = get?.p50Ms[2] ?? 0;
    const p99 = get?.p99Ms[2] ?? 0;
    expect(p50).toBeGreaterThanOrEqual(1);
    expect(p50).toBeLessThan(1.2);
    expect(p99).toBeGreaterThanOrEqual(500);
    expect(p99).toBeLessThan(600);
    expect(snapshot.routes.map((series) => series.route)).toEqual(['GET /kv/:key', 'POST /batch']);
  });

  test('buckets older than the window are forgotten when their slot is reused', () => {
    let now = 0;
    const stats = new RouteStats(() => now, 1000, 3);
    stats.record('/kv/:key', 'PUT', 200, 0.002);
    now = 3000;
    stats.record('/kv/:key', 'PUT', 200, 0.002);
    stats.record('/kv/:key', 'PUT', 200, 0.002);
    now = 4000;
    expect(stats.snapshot().routes[0].ops).toEqual([0, 2]);
    now = 60_000;
    expect(stats.snapshot().routes).toEqual([]);
  });

  test('a bounded number of routes per bucket', () => {
    let now = 0;
    const stats = new RouteStats(() => now, 1000, 2);
    for (let i = 0; i < 100; i++) stats.record(`/r${i}`, 'GET', 200, 0.001);
    now = 1000;
    expect(stats.snapshot().routes).toHaveLength(32);
  });

  test('bad sizes are refused', () => {
    expect(() => new RouteStats(Date.now, 0)).toThrow(TypeError);
    expect(() => new RouteStats(Date.now, 1000, 1)).toThrow(TypeError);
  });
});
