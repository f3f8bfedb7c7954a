import type { RouteStatsSnapshot } from '../../src/ui/route-stats';

/** One chart's data in the column form uPlot takes: x values (seconds), then one array per series. */
export interface ChartData {
  /** Series labels, one per y column. */
  labels: string[];
  columns: [number[], ...(number | null)[][]];
}

/** The charts the page draws from the route stats. */
export interface Charts {
  ops: ChartData;
  latency: ChartData;
  errors: ChartData;
}

/** Routes drawn: the data routes first, then whatever else was asked (health probes, metrics scrapes) by name. */
export function chartRoutes(stats: RouteStatsSnapshot): string[] {
  const isData = (route: string): boolean => / \/kv\/|\/batch$/.test(route);
  const names = stats.routes.map((series) => series.route);
  return [...names.filter(isData), ...names.filter((name) => !isData(name))];
}

/** The three charts' data: operations per second, p50 and p99 latency (ms), and error rate (%), per route. */
export function chartData(stats: RouteStatsSnapshot): Charts {
  const x = stats.times.map((ms) => ms / 1000);
  const byName = new Map(stats.routes.map((series) => [series.route, series]));
  const routes = chartRoutes(stats).flatMap((name) => byName.get(name) ?? []);
  return {
    ops: { labels: routes.map((r) => r.route), columns: [x, ...routes.map((r) => r.ops)] },
    latency: {
      labels: routes.flatMap((r) => [`${r.route} p50`, `${r.route} p99`]),
      columns: [x, ...routes.flatMap((r) => [r.p50Ms, r.p99Ms])],
    },
    errors: {
      labels: routes.map((r) => r.route),
      columns: [x, ...routes.map((r) => r.errorRate.map((rate) => (rate === null ? null : Math.round(rate * 10000) / 100)))],
    },
  };
}

/** Whether two charts have the same series (same labels in the same order): then only their data is replaced. */
export function sameSeries(a: ChartData | undefined, b: ChartData): boolean {
  return a !== undefined && a.labels.length === b.labels.length && a.labels.every((label, i) => label === b.labels[i]);
}
