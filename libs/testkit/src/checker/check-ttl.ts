import { versionMs } from '@kv/protocol';

/**
 * One operation of a TTL workload: a set (with or without a time to live), a delete, or a read, on a key that other
 * operations share. Times are wall-clock ms since the epoch (`Date.now()` of the machine that runs the workload, the
 * clock the proxies' clocks are compared with), because `expiresAt` is one.
 */
export interface TtlOperation {
  id: number;
  process: number;
  key: string;
  kind: 'set' | 'delete' | 'read';
  /** A set: the value written (unique in the history). A read: the value read, `null` for not found. */
  value: string | null;
  /** A set with a time to live: the ttl asked for, in ms. */
  ttlMs?: number;
  /** `ok`: acknowledged (a read: answered 200 or 404); `unknown`: a write that may or may not have happened. */
  outcome: 'ok' | 'fail' | 'unknown';
  /** A write: the acknowledged version. A read that found a value: the version it reported. */
  version?: string;
  /** An acknowledged set with a ttl: its `expiresAt`. A read that found a value: the `expiresAt` it reported, if any. */
  expiresAt?: number;
  invokedAt: number;
  /** `Infinity` when no answer came. */
  completedAt: number;
}

/** Options of {@link checkTtl}. */
export interface TtlCheckOptions {
  /**
   * How far behind the workload's clock the clock of a proxy that reads may be, in ms: 0 when the proxies' clocks are
   * the machine's, the nemesis's largest offset when a clock-skew nemesis sets them back.
   */
  clockBoundMs: number;
  /** Tombstones the data nodes still held at the end (summed), when every one had to be collected. */
  tombstonesLeft?: number;
}

/**
 * What went wrong with one read.
 * - `expired`: it began after the value's expiry (plus the clock bound) and still returned the value.
 * - `superseded`: it returned a value that an acknowledged set or delete, begun after the value's set completed,
 *   had replaced before the read began.
 * - `expiry-changed`: it returned a value with another `expiresAt` than the value was written with (or none).
 * - `unwritten`: it returned a value that no set wrote.
 */
export type TtlViolationKind = 'expired' | 'superseded' | 'expiry-changed' | 'unwritten';

/** One read that broke a rule, with the write whose value it returned and, for `superseded`, the write that replaced it. */
export interface TtlViolation {
  kind: TtlViolationKind;
  read: TtlOperation;
  write?: TtlOperation;
  supersededBy?: TtlOperation;
  /** `expired`: the expiry the read was held to (the acknowledged `expiresAt`, or the version's ms plus the ttl). */
  expiresAt?: number;
}

/** The verdict on a TTL workload. */
export interface TtlCheckResult {
  checker: 'ttl';
  valid: boolean;
  /** Operations of each kind, and acknowledged sets with a ttl. */
  sets: number;
  ttlSets: number;
  deletes: number;
  reads: number;
  /**
   * Reads that tested expiry: begun past the expiry (plus the bound) of an acknowledged ttl set of their key with no
   * other acknowledged write of the key begun since that set: "not found" is the answer expected, unless a write
   * concurrent with that set or of unknown outcome took effect after it; and how many of them found nothing. A
   * measure of how much the run tested expiry, not a rule.
   */
  expiryProbes: number;
  expiryProbesNotFound: number;
  violations: TtlViolation[];
  tombstonesLeft?: number;
}

/**
 * Checks a TTL workload (sets with and without a ttl, deletes and reads over shared keys, values unique) by rules
 * that hold under the design's guarantees, whatever the faults:
 *
 * 1. **No expired value comes back.** A read that returned the value of a set with a ttl must have begun no later
 *    than that value's expiry plus `clockBoundMs`. The expiry is the `expiresAt` acknowledged to the writer, or, for a
 *    set of unknown outcome, the ms of the version the read reported plus the ttl (what the coordinator computes).
 *    Why that bound: the proxy that reads answers "not found" once `expiresAt` is at or before its own wall clock,
 *    which it reads after the request arrived, so after the read began; its clock is the workload's clock shifted by
 *    at most `clockBoundMs` backwards. So a read begun at t > expiresAt + `clockBoundMs` is decided at a proxy time
 *    above expiresAt. (Data nodes' clocks only decide when an expired value becomes a tombstone, at the same version,
 *    `MAX_CLOCK_SKEW_MS` later: it then reads as not found anyway.)
 * 2. **A value overwritten or deleted does not come back** (the delete checker's rule, for shared keys). If a set of
 *    value v was acknowledged, and an acknowledged set or delete of the same key began after it completed (so it has
 *    a newer version), a read begun after that write completed must not return v. Sets of unknown outcome are
 *    exempt as the replaced value: they may take effect at any time after they began.
 * 3. **The expiry travels with the value.** A read that returned a value reports the `expiresAt` it was written with:
 *    none for a set without ttl, the acknowledged one (or version ms + ttl) for a set with one. A copy that lost its
 *    expiry (through a hint, a repair, a refill) would otherwise live forever.
 * 4. A read returns only values some set wrote.
 *
 * With `tombstonesLeft`, every tombstone (deletes, and expired values turned into tombstones) must have been collected
 * by the end (0 left). Reads without an answer, and writes that failed, are ignored.
 */
export function checkTtl(history: readonly TtlOperation[], options: TtlCheckOptions): TtlCheckResult {
  const setsByValue = new Map<string, TtlOperation>();
  const writesByKey = new Map<string, TtlOperation[]>();
  for (const op of history) {
    if (op.kind === 'read') continue;
    if (op.kind === 'set' && op.value !== null) setsByValue.set(op.value, op);
    if (op.outcome !== 'ok') continue;
    const writes = writesByKey.get(op.key) ?? [];
    writes.push(op);
    writesByKey.set(op.key, writes);
  }
  // Per key, acknowledged writes by invocation, with the earliest completion among those invoked at or after each.
  const index = new Map<string, { writes: TtlOperation[]; earliestCompletion: number[] }>();
  for (const [key, writes] of writesByKey) {
    writes.sort((a, b) => a.invokedAt - b.invokedAt);
    const earliestCompletion = new Array<number>(writes.length);
    for (let i = writes.length - 1; i >= 0; i--) earliestCompletion[i] = Math.min(writes[i].completedAt, i + 1 < writes.length ? earliestCompletion[i + 1] : Infinity);
    index.set(key, { writes, earliestCompletion });
  }
  /** The first acknowledged write of `key` begun after `after`, among those that completed before `before`. */
  const replacedBy = (key: string, after: number, before: number): TtlOperation | undefined => {
    const entry = index.get(key);
    if (entry === undefined) return undefined;
    let low = 0;
    let high = entry.writes.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (entry.writes[mid].invokedAt > after) high = mid;
      else low = mid + 1;
    }
    if (low >= entry.writes.length || entry.earliestCompletion[low] >= before) return undefined;
    for (let i = low; i < entry.writes.length; i++) if (entry.writes[i].completedAt < before) return entry.writes[i];
    return undefined;
  };
  /** The expiry a read of `write`'s value is held to, when it can be known. */
  const expiryOf = (write: TtlOperation, read: TtlOperation): number | undefined => {
    if (write.ttlMs === undefined) return undefined;
    if (write.outcome === 'ok' && write.expiresAt !== undefined) return write.expiresAt;
    return read.version === undefined ? undefined : versionMs(read.version) + write.ttlMs;
  };

  const violations: TtlViolation[] = [];
  let expiryProbes = 0;
  let expiryProbesNotFound = 0;
  const reads = history.filter((op) => op.kind === 'read' && op.outcome === 'ok');
  for (const read of reads) {
    if (isExpiryProbe(read, index.get(read.key)?.writes ?? [], options.clockBoundMs)) {
      expiryProbes += 1;
      if (read.value === null) expiryProbesNotFound += 1;
    }
    if (read.value === null) continue;
    const write = setsByValue.get(read.value);
    if (write === undefined || write.key !== read.key) {
      violations.push({ kind: 'unwritten', read });
      continue;
    }
    const expiresAt = expiryOf(write, read);
    if (expiresAt !== undefined && read.invokedAt > expiresAt + options.clockBoundMs) {
      violations.push({ kind: 'expired', read, write, expiresAt });
    }
    if (write.ttlMs === undefined ? read.expiresAt !== undefined : expiresAt !== undefined && read.expiresAt !== expiresAt) {
      violations.push({ kind: 'expiry-changed', read, write, ...(expiresAt === undefined ? {} : { expiresAt }) });
    }
    if (write.outcome === 'ok') {
      const later = replacedBy(read.key, write.completedAt, read.invokedAt);
      if (later !== undefined) violations.push({ kind: 'superseded', read, write, supersededBy: later });
    }
  }
  const sets = history.filter((op) => op.kind === 'set');
  return {
    checker: 'ttl',
    valid: violations.length === 0 && (options.tombstonesLeft === undefined || options.tombstonesLeft === 0),
    sets: sets.length,
    ttlSets: sets.filter((op) => op.ttlMs !== undefined && op.outcome === 'ok').length,
    deletes: history.filter((op) => op.kind === 'delete').length,
    reads: reads.length,
    expiryProbes,
    expiryProbesNotFound,
    violations,
    ...(options.tombstonesLeft === undefined ? {} : { tombstonesLeft: options.tombstonesLeft }),
  };
}

/**
 * Whether `read` began past the expiry (plus the bound) of an acknowledged ttl set of its key, with no write of the
 * key (acknowledged) begun after that set and before the read. `writes`: the key's acknowledged writes by invocation.
 */
function isExpiryProbe(read: TtlOperation, writes: readonly TtlOperation[], clockBoundMs: number): boolean {
  let last: TtlOperation | undefined;
  for (const write of writes) {
    if (write.invokedAt >= read.invokedAt) break;
    last = write;
  }
  return last !== undefined && last.kind === 'set' && last.expiresAt !== undefined && read.invokedAt > last.expiresAt + clockBoundMs;
}

/** The report of {@link checkTtl}: a summary line, then the violations (at most `detailsMax`). */
export function formatTtl(result: TtlCheckResult, detailsMax = 10): string {
  const tombstones = result.tombstonesLeft === undefined ? '' : `, ${result.tombstonesLeft} tombstones left`;
  const lines = [
    `ttl: ${result.valid ? 'VALID' : 'INVALID'} — ${result.sets} sets (${result.ttlSets} acknowledged with a ttl), ${result.deletes} deletes, ` +
      `${result.reads} reads (${result.expiryProbes} past an expiry, ${result.expiryProbesNotFound} of them not found), ` +
      `${result.violations.length} violations${tombstones}`,
  ];
  for (const v of result.violations.slice(0, detailsMax)) lines.push(`  ${describeViolation(v)}`);
  if (result.violations.length > detailsMax) lines.push(`  ... and ${result.violations.length - detailsMax} more`);
  return lines.join('\n');
}

function describeViolation(v: TtlViolation): string {
  const read = `read of ${JSON.stringify(v.read.key)} by process ${v.read.process} at ${v.read.invokedAt} returned ${JSON.stringify(v.read.value)}`;
  switch (v.kind) {
    case 'expired':
      return `${read}, expired at ${v.expiresAt} (${(v.read.invokedAt - (v.expiresAt ?? 0)).toFixed(0)} ms before the read began)`;
    case 'superseded':
      return `${read}, replaced by the ${v.supersededBy?.kind} of process ${v.supersededBy?.process} acknowledged at ${v.supersededBy?.completedAt}`;
    case 'expiry-changed':
      return `${read} with expiresAt ${v.read.expiresAt ?? 'none'}, written with ${v.expiresAt ?? 'none'}`;
    case 'unwritten':
      return `${read}, a value no set of that key wrote`;
  }
}
