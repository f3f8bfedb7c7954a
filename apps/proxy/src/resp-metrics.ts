import { LATENCY_BUCKETS_SECONDS } from '@kv/service';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Metrics of the RESP server, beside the HTTP ones: commands by name and status (`ok` or the error prefix, e.g.
 * `tryagain`) with latency histograms, open connections, and connections refused at the limit. Label sets are cached,
 * so recording a command is a map lookup and two increments.
 */
export class RespMetrics {
  private readonly commands: Counter<'command' | 'status'>;
  private readonly duration: Histogram<'command'>;
  private readonly rejected: Counter;
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly histograms = new Map<string, Histogram.Internal<'command'>>();

  /** @param connections read when scraped: open RESP connections. */
  constructor(registry: Registry, connections: () => number) {
    this.commands = new Counter({
      name: 'kv_resp_commands_total',
      help: 'RESP commands answered, by command and status (ok, or the error prefix in lower case: err, tryagain, noauth...)',
      labelNames: ['command', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'kv_resp_command_duration_seconds',
      help: 'Time from reading a RESP command to its reply being ready, by command',
      labelNames: ['command'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'kv_resp_connections_rejected_total',
      help: 'RESP connections refused because the server had its maximum of connections open',
      registers: [registry],
    });
    new Gauge({
      name: 'kv_resp_connections',
      help: 'Open RESP connections',
      registers: [registry],
      collect() {
        this.set(connections());
      },
    });
  }

  /** Records one answered command; `command` is a known command's name or `unknown` (bounded label values). */
  observe(command: string, status: string, seconds: number): void {
    let histogram = this.histograms.get(command);
    if (histogram === undefined) {
      histogram = this.duration.labels(command);
      this.histograms.set(command, histogram);
    }
    histogram.observe(seconds);
    const key = `${command} ${status}`;
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = this.commands.labels(command, status);
      this.counters.set(key, counter);
    }
    counter.inc();
  }

  /** Records a connection refused at the limit. */
  connectionRejected(): void {
    this.rejected.inc();
  }
}
