/**
 * Latencies as a compact log-linear histogram (the HdrHistogram layout): exact below 128 µs, then 64 buckets per power of
 * two, so a percentile is reported at most 1/64 (1.6 %) above the true value, in constant memory (1664 buckets, 13 KiB)
 * however long the run. Values are integer microseconds.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sumUs = 0;
  private maxSeenUs = 0;

  /** Records one latency; negative values count as 0, values above {@link LATENCY_US_MAX} as that maximum. */
  record(us: number): void {
    const value = Math.min(LATENCY_US_MAX, Math.max(0, Math.round(us)));
    this.counts[bucketOf(value)] += 1;
    this.total += 1;
    this.sumUs += value;
    if (value > this.maxSeenUs) this.maxSeenUs = value;
  }

  /** Adds every latency of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKET_COUNT; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.sumUs += other.sumUs;
    this.maxSeenUs = Math.max(this.maxSeenUs, other.maxSeenUs);
  }

  /** How many latencies were recorded. */
  get count(): number {
    return this.total;
  }

  /** The largest latency recorded, exactly; 0 when none. */
  get maxUs(): number {
    return this.maxSeenUs;
  }

  /** The mean latency, exactly; 0 when none. */
  get meanUs(): number {
    return this.total === 0 ? 0 : this.sumUs / this.total;
  }

  /**
   * The latency that `percent` % of the recorded ones do not exceed (nearest rank), as the highest value of its bucket
   * but never above the maximum: at most 1.6 % above the true percentile, never below it. 0 when nothing was recorded.
   * @throws RangeError when `percent` is not in [0, 100].
   */
  percentileUs(percent: number): number {
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`percent must be in [0, 100], got ${percent}`);
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(highestOf(i), this.maxSeenUs);
    }
    return this.maxSeenUs;
  }
}

/** Largest latency a histogram holds: 2^31 - 1 µs (about 36 minutes), far beyond any request deadline. */
export const LATENCY_US_MAX = 2 ** 31 - 1;

// Values below 2^SUB_BUCKET_BITS are their own bucket; above, each power of two is split into HALF linear buckets.
const SUB_BUCKET_BITS = 7;
const HALF = 1 << (SUB_BUCKET_BITS - 1);
const BUCKET_COUNT = bucketOf(LATENCY_US_MAX) + 1;

function bucketOf(value: number): number {
  if (value < 2 * HALF) return value;
  const shift = 31 - Math.clz32(value) - (SUB_BUCKET_BITS - 1);
  return shift * HALF + (value >>> shift);
}

function highestOf(bucket: number): number {
  if (bucket < 2 * HALF) return bucket;
  const shift = Math.floor(bucket / HALF) - 1;
  const mantissa = bucket - shift * HALF;
  return (mantissa + 1) * 2 ** shift - 1;
}
