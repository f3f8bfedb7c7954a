import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: from a cached read (0.25 ms) to a request at its deadline (a few s). */
export const LATENCY_BUCKETS_SECONDS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A Prometheus registry with the process's default metrics (CPU, memory, event-loop lag) and a `service` label. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Requests by route, method and status, with latency histograms. Label sets are cached, so recording a request is a
 * map lookup and two increments: no per-request objects.
 */
export class HttpMetrics {
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route' | 'method'>;
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly histograms = new Map<string, Histogram.Internal<'route' | 'method'>>();

  /**
   * @param observer also told of every answered request (e.g. the proxy's status page keeps the last minutes of them);
   *   it must be cheap and must not throw.
   */
  constructor(
    registry: Registry,
    private readonly observer?: (route: string, method: string, status: number, seconds: number) => void,
  ) {
    this.requests = new Counter({
      name: 'kv_http_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'kv_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its answer, by route and method',
      labelNames: ['route', 'method'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  /** Records one answered request; `route` is the route pattern (`/kv/:key`), never the raw path. */
  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method}`;
    let histogram = this.histograms.get(key);
    if (histogram === undefined) {
      histogram = this.duration.labels(route, method);
      this.histograms.set(key, histogram);
    }
    histogram.observe(seconds);
    const counterKey = `${key} ${status}`;
    let counter = this.counters.get(counterKey);
    if (counter === undefined) {
      counter = this.requests.labels(route, method, String(status));
      this.counters.set(counterKey, counter);
    }
    counter.inc();
    this.observer?.(route, method, status, seconds);
  }
}

/** Seconds elapsed since `start` (a `process.hrtime.bigint()` reading). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * The metrics of a process's in-flight bounds: `kv_requests_in_flight`, `kv_bytes_in_flight` (gauges read at scrape
 * time) and `kv_requests_refused_total{reason}` (`requests` or `bytes`). Returns the events to give the limiter.
 */
export function inFlightMetrics(registry: Registry, read: () => { requests: number; bytes: number }): { refused(reason: 'requests' | 'bytes'): void } {
  new Gauge({
    name: 'kv_requests_in_flight',
    help: 'Requests being served now (bounded by MAX_REQUESTS_IN_FLIGHT)',
    registers: [registry],
    collect() {
      this.set(read().requests);
    },
  });
  new Gauge({
    name: 'kv_bytes_in_flight',
    help: 'Bytes of request bodies and answers held now (bounded by MAX_BYTES_IN_FLIGHT)',
    registers: [registry],
    collect() {
      this.set(read().bytes);
    },
  });
  const refused = new Counter({
    name: 'kv_requests_refused_total',
    help: 'Requests (or parts of batches) refused with 503 KV_OVERLOADED by the in-flight bounds, by the bound reached',
    labelNames: ['reason'],
    registers: [registry],
  });
  return { refused: (reason) => refused.inc({ reason }) };
}
