import fc from 'fast-check';
import { LATENCY_US_MAX, LatencyHistogram } from './latency-histogram';

describe('LatencyHistogram', () => {
  it('is empty at first', () => {
    const h = new LatencyHistogram();
    expect([h.count, h.maxUs, h.meanUs, h.percentileUs(50)]).toEqual([0, 0, 0, 0]);
  });

  it('is exact below 128 µs', () => {
    const h = new LatencyHistogram();
    for (let us = 1; us <= 100; us++) h.record(us);
    expect([h.percentileUs(50), h.percentileUs(90), h.percentileUs(99), h.percentileUs(100)]).toEqual([50, 90, 99, 100]);
    expect(h.maxUs).toBe(100);
    expect(h.meanUs).toBe(50.5);
  });

  it('clamps values outside [0, LATENCY_US_MAX]', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(LATENCY_US_MAX * 4);
    expect(h.percentileUs(0)).toBe(0);
    expect(h.maxUs).toBe(LATENCY_US_MAX);
    expect(h.percentileUs(100)).toBe(LATENCY_US_MAX);
  });

  it('rejects a percentile outside [0, 100]', () => {
    expect(() => new LatencyHistogram().percentileUs(101)).toThrow(RangeError);
  });

  it('reports every percentile at most 1/64 above the exact nearest-rank value, never below (property)', () => {
    const seed = Date.now();
    // Printed so that a failure can be replayed with fc.assert(..., { seed }).
    console.log(`LatencyHistogram property seed: ${seed}`);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60_000_000 }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (values, percent) => {
          const h = new LatencyHistogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.max(1, Math.ceil((percent / 100) * sorted.length)) - 1];
          const reported = h.percentileUs(percent);
          expect(reported).toBeGreaterThanOrEqual(exact);
          expect(reported).toBeLessThanOrEqual(exact + exact / 64);
          expect(h.maxUs).toBe(sorted[sorted.length - 1]);
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('merges counts, maximum and mean', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(10);
    b.record(30);
    b.record(5000);
    a.merge(b);
    expect(a.count).toBe(3);
    expect(a.maxUs).toBe(5000);
    expect(a.meanUs).toBeCloseTo(5040 / 3);
  });
});
