/** Width of one bucket of {@link RouteStats} by default: the resolution of the status page's charts. */
export const STATS_BUCKET_MS_DEFAULT = 2000;
/** Buckets kept by default: 150 of 2 s, the last 5 minutes. */
export const STATS_BUCKETS_DEFAULT = 150;
/** Routes tracked at most: route patterns are few; the bound keeps a bug from growing the buffer without end. */
export const STATS_ROUTES_MAX = 32;

/** Latency histogram: bucket i holds latencies up to LATENCY_FLOOR_S * LATENCY_STEP^i; the last one everything above. */
const LATENCY_FLOOR_S = 0.00005;
const LATENCY_STEP = 1.2;
const LATENCY_BUCKETS = 80;
const LOG_STEP = Math.log(LATENCY_STEP);

/** The last minutes of requests of one route, one value per bucket, oldest first (columns, as charts take them). */
export interface RouteSeries {
  /** `METHOD /route/pattern`, e.g. `GET /kv/:key`. */
  route: string;
  /** Requests answered per second. */
  ops: number[];
  /** Share of them answered with a 5xx status (0..1); null in a bucket without requests. */
  errorRate: (number | null)[];
  /** Median and 99th percentile latency in milliseconds (upper bound of a histogram bucket, within 20 %); null without requests. */
  p50Ms: (number | null)[];
  p99Ms: (number | null)[];
}

/** What {@link RouteStats.snapshot} returns: the completed buckets of the window. */
export interface RouteStatsSnapshot {
  /** Width of a bucket in seconds. */
  bucketSeconds: number;
  /** Start of each bucket, in ms since the epoch (wall clock), oldest first. */
  times: number[];
  /** One entry per route seen in the window, sorted by route. */
  routes: RouteSeries[];
}

interface RouteBucket {
  count: number;
  errors: number;
  latencies: Uint32Array;
}

interface Bucket {
  /** `floor(ms / bucketMs)` of the bucket this slot holds now. */
  index: number;
  routes: Map<string, RouteBucket>;
}

/**
 * A small ring buffer of the requests a proxy answered over the last few minutes, by route: rates, error rates and
 * latency quantiles for the status page (`GET /ui/state`). Memory is bounded by buckets x routes x 80 counters; the
 * time of each request is read from `now`, so nothing here arms a timer.
 */
export class RouteStats {
  private readonly slots: Bucket[];

  /**
   * @param now wall-clock ms (injected for tests)
   * @param bucketMs width of a bucket; `buckets` of them are kept
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly bucketMs = STATS_BUCKET_MS_DEFAULT,
    buckets = STATS_BUCKETS_DEFAULT,
  ) {
    if (!Number.isInteger(bucketMs) || bucketMs < 1) throw new TypeError('bucketMs must be a positive integer');
    if (!Number.isInteger(buckets) || buckets < 2) throw new TypeError('buckets must be an integer >= 2');
    this.slots = Array.from({ length: buckets }, () => ({ index: -1, routes: new Map() }));
  }

  /** Records one answered request of `method route` (the route pattern, never a raw path). */
  record(route: string, method: string, status: number, seconds: number): void {
    const index = Math.floor(this.now() / this.bucketMs);
    const slot = this.slots[index % this.slots.length];
    if (slot.index !== index) {
      slot.index = index;
      slot.routes.clear();
    }
    const name = `${method} ${route}`;
    let entry = slot.routes.get(name);
    if (entry === undefined) {
      if (slot.routes.size >= STATS_ROUTES_MAX) return;
      entry = { count: 0, errors: 0, latencies: new Uint32Array(LATENCY_BUCKETS + 1) };
      slot.routes.set(name, entry);
    }
    entry.count++;
    if (status >= 500) entry.errors++;
    entry.latencies[latencyBucket(seconds)]++;
  }

  /** The completed buckets of the window (the one filling now is left out: its rate would read low). */
  snapshot(): RouteStatsSnapshot {
    const current = Math.floor(this.now() / this.bucketMs);
    const first = current - this.slots.length + 1;
    const times: number[] = [];
    const buckets: (Bucket | undefined)[] = [];
    const names = new Set<string>();
    for (let index = first; index < current; index++) {
      const slot = this.slots[((index % this.slots.length) + this.slots.length) % this.slots.length];
      const bucket = slot.index === index ? slot : undefined;
      times.push(index * this.bucketMs);
      buckets.push(bucket);
      for (const name of bucket?.routes.keys() ?? []) names.add(name);
    }
    const seconds = this.bucketMs / 1000;
    const routes = [...names].sort().map((route): RouteSeries => {
      const entries = buckets.map((bucket) => bucket?.routes.get(route));
      return {
        route,
        ops: entries.map((entry) => round((entry?.count ?? 0) / seconds)),
        errorRate: entries.map((entry) => (entry === undefined ? null : round(entry.errors / entry.count))),
        p50Ms: entries.map((entry) => (entry === undefined ? null : quantileMs(entry, 0.5))),
        p99Ms: entries.map((entry) => (entry === undefined ? null : quantileMs(entry, 0.99))),
      };
    });
    return { bucketSeconds: seconds, times, routes };
  }
}

/** The histogram bucket of a latency in seconds. */
function latencyBucket(seconds: number): number {
  if (!(seconds > LATENCY_FLOOR_S)) return 0;
  return Math.min(LATENCY_BUCKETS, Math.ceil(Math.log(seconds / LATENCY_FLOOR_S) / LOG_STEP - 1e-9));
}

/** The upper bound (ms) of the histogram bucket that holds quantile `q` of `entry`'s latencies. */
function quantileMs(entry: RouteBucket, q: number): number {
  const rank = Math.ceil(q * entry.count);
  let seen = 0;
  for (let i = 0; i < entry.latencies.length; i++) {
    seen += entry.latencies[i];
    if (seen >= rank) return round(LATENCY_FLOOR_S * LATENCY_STEP ** Math.min(i, LATENCY_BUCKETS) * 1000);
  }
  return round(LATENCY_FLOOR_S * LATENCY_STEP ** LATENCY_BUCKETS * 1000);
}

/** Three significant decimals are plenty for a chart, and keep the JSON short. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
