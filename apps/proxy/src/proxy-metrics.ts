import type { CoordinatorEvents, HintStore, NodeHealth } from '@kv/quorum';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The proxy's own metrics (besides requests by route, see `HttpMetrics`): quorum failures, read repairs, hints,
 * node health and the size of the batches sent to data nodes. Gauges that mirror state are read when scraped.
 */
export class ProxyMetrics {
  /** Events of the coordinator, wired to counters and gauges. */
  readonly coordinatorEvents: CoordinatorEvents;
  /** Records a version seen on a replica that was too far ahead of this proxy's clock to follow. */
  readonly versionIgnored: () => void;
  /** Records one batch sent to a data node. */
  readonly batchSent: (nodeId: string, ops: number) => void;
  /** Records the epoch of the cluster map in use. */
  readonly clusterEpoch: (epoch: number) => void;
  /** Records a range of a membership change copied to a node gaining it. */
  readonly rangesStreamed: (ranges: number, keys: number, bytes: number) => void;
  private health: NodeHealth | undefined;

  /** @param hints the hint store; `failing` tells when its log failed (a durable store). */
  constructor(registry: Registry, hints: HintStore & { readonly failing?: boolean }) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const metrics = this;
    const quorumFailures = new Counter({
      name: 'kv_quorum_failures_total',
      help: 'Requests that missed their quorum, by kind (read or write)',
      labelNames: ['kind'],
      registers: [registry],
    });
    const readRepairs = new Counter({
      name: 'kv_read_repairs_total',
      help: 'Stale replicas written back by reads',
      registers: [registry],
    });
    const hintsRecorded = new Counter({
      name: 'kv_hints_recorded_total',
      help: 'Writes missed by a replica and kept as hints',
      registers: [registry],
    });
    const hintsDelivered = new Counter({
      name: 'kv_hints_delivered_total',
      help: 'Hints delivered to replicas that came back',
      registers: [registry],
    });
    const hintsDiscarded = new Counter({
      name: 'kv_hints_discarded_total',
      help: 'Hints discarded because their node left the cluster map',
      registers: [registry],
    });
    const versionRetries = new Counter({
      name: 'kv_version_retries_total',
      help: 'One-phase writes found behind a newer version on every replica and redone in two phases',
      registers: [registry],
    });
    new Gauge({
      name: 'kv_hints_pending',
      help: 'Hints waiting for their replica',
      registers: [registry],
      collect() {
        this.set(hints.count);
      },
    });
    new Gauge({
      name: 'kv_hints_bytes',
      help: 'Bytes of the hints waiting for their replica (keys and values; bounded by HINTS_MAX_BYTES)',
      registers: [registry],
      collect() {
        this.set(hints.bytes);
      },
    });
    new Gauge({
      name: 'kv_hints_dropped',
      help:
        'Hints dropped since start, by reason: full (HINTS_MAX or HINTS_MAX_BYTES reached) or disk (the hint log failed); ' +
        'those keys wait for read repair',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.set({ reason: 'full' }, hints.dropped);
        this.set({ reason: 'disk' }, hints.diskDropped);
      },
    });
    new Gauge({
      name: 'kv_hints_log_failing',
      help: 'Whether the hint log failed (disk full or failing) and hints are not recorded (1) or not (0)',
      aggregator: 'max',
      registers: [registry],
      collect() {
        this.set(hints.failing === true ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kv_node_up',
      help: 'Whether a data node answers its health probes (1) or not (0)',
      labelNames: ['node'],
      registers: [registry],
      aggregator: 'min',
      collect() {
        for (const status of metrics.health?.statusAll() ?? []) this.set({ node: status.id }, status.up ? 1 : 0);
      },
    });
    const batchOps = new Histogram({
      name: 'kv_replica_batch_ops',
      help: 'Operations per batch sent to a data node',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    });
    const writeFailures = quorumFailures.labels('write');
    const readFailures = quorumFailures.labels('read');
    this.batchSent = (_nodeId, ops) => batchOps.observe(ops);
    const versionsIgnored = new Counter({
      name: 'kv_versions_ignored_total',
      help: "Versions seen on replicas too far ahead of this proxy's clock to follow (clocks disagree by more than MAX_CLOCK_SKEW_MS)",
      registers: [registry],
    });
    this.versionIgnored = () => versionsIgnored.inc();
    const epoch = new Gauge({
      name: 'kv_cluster_epoch',
      help: 'Epoch of the cluster map this proxy uses (grows with every committed membership change)',
      aggregator: 'max',
      registers: [registry],
    });
    this.clusterEpoch = (value) => epoch.set(value);
    const streamedRanges = new Counter({ name: 'kv_stream_ranges_total', help: 'Ranges of membership changes copied to a node gaining them, by this proxy', registers: [registry] });
    const streamedKeys = new Counter({ name: 'kv_stream_keys_total', help: 'Entries streamed to nodes gaining ranges, by this proxy', registers: [registry] });
    const streamedBytes = new Counter({ name: 'kv_stream_bytes_total', help: 'Bytes of entries streamed to nodes gaining ranges, by this proxy', registers: [registry] });
    this.rangesStreamed = (ranges, keys, bytes) => {
      streamedRanges.inc(ranges);
      streamedKeys.inc(keys);
      streamedBytes.inc(bytes);
    };
    const refilling = new Gauge({
      name: 'kv_node_refilling',
      aggregator: 'max',
      help: 'Whether a data node is being refilled after losing its data (1): it does not count toward quorums meanwhile',
      labelNames: ['node'],
      registers: [registry],
    });
    const refills = new Counter({
      name: 'kv_refills_total',
      help: 'Refills of data nodes that lost their data (or are new) completed by this proxy',
      registers: [registry],
    });
    const aeRanges = new Counter({ name: 'kv_anti_entropy_ranges_total', help: 'Ranges of the ring whose replicas anti-entropy compared, by this proxy', registers: [registry] });
    const aeDifferences = new Counter({
      name: 'kv_anti_entropy_differences_total',
      help: 'Keys anti-entropy found with different versions on the replicas of their range',
      registers: [registry],
    });
    const aeRepaired = new Counter({ name: 'kv_anti_entropy_repaired_total', help: 'Keys anti-entropy wrote to every replica that lacked their newest version', registers: [registry] });
    const aeRounds = new Counter({ name: 'kv_anti_entropy_rounds_total', help: 'Anti-entropy rounds completed by this proxy, by outcome', labelNames: ['state'], registers: [registry] });
    const aeLastRound = new Gauge({ name: 'kv_anti_entropy_last_round_seconds', help: 'Duration of the last anti-entropy round of this proxy', registers: [registry] });
    const aeLastEnd = new Gauge({
      name: 'kv_anti_entropy_last_round_timestamp_seconds',
      help: 'When the last anti-entropy round of this proxy ended (Unix time)',
      aggregator: 'max',
      registers: [registry],
    });
    const purged = new Counter({ name: 'kv_tombstones_purged_total', help: 'Tombstones purged once confirmed on every replica of their range', registers: [registry] });
    const hintsExpired = new Counter({
      name: 'kv_hints_expired_total',
      help: 'Hints dropped at replay as older than TOMBSTONE_GRACE_MS minus MAX_CLOCK_SKEW_MS (anti-entropy repairs their replica)',
      registers: [registry],
    });
    this.coordinatorEvents = {
      rangeCompared: (_progress, found) => {
        aeRanges.inc();
        aeDifferences.inc(found.differences);
        aeRepaired.inc(found.repaired);
        purged.inc(found.purged);
      },
      roundFinished: (progress) => {
        aeRounds.inc({ state: progress.state });
        if (progress.startedAt !== undefined && progress.finishedAt !== undefined) aeLastRound.set((progress.finishedAt - progress.startedAt) / 1000);
        if (progress.finishedAt !== undefined) aeLastEnd.set(progress.finishedAt / 1000);
      },
      hintExpired: () => hintsExpired.inc(),
      quorumFailed: (kind) => (kind === 'write' ? writeFailures : readFailures).inc(),
      readRepaired: (replicas) => readRepairs.inc(replicas),
      hinted: () => hintsRecorded.inc(),
      versionRetried: () => versionRetries.inc(),
      hintDelivered: () => hintsDelivered.inc(),
      hintsDiscarded: (_nodeId, hints) => hintsDiscarded.inc(hints),
      stateChanged: (nodeId, state) => refilling.set({ node: nodeId }, state === 'refilling' ? 1 : 0),
      refilled: () => refills.inc(),
    };
  }

  /** Reports the nodes' up/down status from `health` (read when scraped). */
  watch(health: NodeHealth): void {
    this.health = health;
  }
}
