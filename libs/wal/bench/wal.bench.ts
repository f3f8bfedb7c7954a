/**
 * Benchmarks of `@kv/wal` on the real disk (a fresh directory under the temporary directory, removed afterwards):
 *
 * 1. durable appends per second, 100-byte values, at concurrency 1, 16 and 256, sync `none` and `always` in the same
 *    run, with the ratio always/none and the group-commit batch size;
 * 2. the time to open a store whose log holds 1,000,000 records with 100-byte values (segment replay), and the time
 *    to open it again from a snapshot;
 * 3. heap bytes per live key at 1,000,000 keys (only when `global.gc` is exposed).
 *
 * Run from the workspace root:
 *   npx tsx libs/wal/bench/wal.bench.ts                       # 1 and 2
 *   node --expose-gc --import tsx libs/wal/bench/wal.bench.ts  # 1, 2 and 3
 * Environment: BENCH_DURATION_MS (per append case, default 3000), BENCH_RECORDS (default 1000000),
 * BENCH_DIR (parent directory, default the OS temporary directory).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openStore, type Store, type StoreOptions, type SyncInfo } from '../src/index';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const WARMUP_MS = 300;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const VALUE = 'v'.repeat(100);
const CONCURRENCIES = [1, 16, 256] as const;
const BATCH_OPS = 1000;
// No compaction during the append runs: they measure the log alone.
const NO_COMPACTION: StoreOptions = { compactionBytesMin: Number.MAX_SAFE_INTEGER };

interface AppendResult {
  readonly opsPerSecond: number;
  readonly recordsPerSync: number;
  readonly meanLatencyMs: number;
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function withDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.promises.mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'kv-wal-bench-'));
  try {
    return await run(dir);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

async function appends(sync: 'none' | 'always', concurrency: number): Promise<AppendResult> {
  return withDir(async (dir) => {
    let syncedRecords = 0;
    let syncs = 0;
    const store = await openStore(dir, {
      ...NO_COMPACTION,
      sync,
      onSync: (info: SyncInfo) => {
        syncedRecords += info.records;
        syncs++;
      },
    });
    let measuring = false;
    let stop = false;
    let ops = 0;
    let latencyMs = 0;
    let next = 0;
    const workers = Array.from({ length: concurrency }, async () => {
      while (!stop) {
        const started = process.hrtime.bigint();
        await store.set(`key-${next++}`, VALUE);
        if (measuring) {
          ops++;
          latencyMs += elapsedMs(started);
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    syncedRecords = 0;
    syncs = 0;
    measuring = true;
    const start = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, DURATION_MS));
    const seconds = elapsedMs(start) / 1000;
    measuring = false;
    stop = true;
    await Promise.all(workers);
    await store.close();
    return {
      opsPerSecond: ops / seconds,
      recordsPerSync: syncs === 0 ? 0 : syncedRecords / syncs,
      meanLatencyMs: ops === 0 ? 0 : latencyMs / ops,
    };
  });
}

/** Median and 90th percentile of a 130-byte write + fdatasync on this disk: the context of the `always` figures. */
async function fsyncLatency(): Promise<{ medianMs: number; p90Ms: number }> {
  return withDir(async (dir) => {
    const handle = await fs.promises.open(path.join(dir, 'probe'), 'w');
    const samples: number[] = [];
    const record = Buffer.alloc(130, 1);
    for (let i = 0; i < 200; i++) {
      const started = process.hrtime.bigint();
      await handle.write(record, 0, record.length, i * record.length);
      await handle.datasync();
      samples.push(elapsedMs(started));
    }
    await handle.close();
    samples.sort((a, b) => a - b);
    return { medianMs: samples[100], p90Ms: samples[180] };
  });
}

function heapUsed(): number | undefined {
  if (typeof global.gc !== 'function') return undefined;
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

/** Writes RECORDS sets in batches and closes the store (so that nothing of it stays reachable); returns the log size. */
async function writeLog(dir: string): Promise<number> {
  const store = await openStore(dir, { ...NO_COMPACTION, sync: 'none' });
  for (let i = 0; i < RECORDS; i += BATCH_OPS) {
    const ops = [];
    for (let j = i; j < Math.min(i + BATCH_OPS, RECORDS); j++) {
      ops.push({ op: 'set' as const, key: `key-${String(j).padStart(7, '0')}`, value: `${j}`.padStart(100, 'v') });
    }
    await store.apply(ops);
  }
  const logBytes = store.stats().logBytes;
  await store.close();
  return logBytes;
}

async function replay(): Promise<{ writeMs: number; logBytes: number; replayMs: number; replayCpuMs: number; snapshotMs: number; heapPerKey?: number }> {
  return withDir(async (dir) => {
    const writeStart = process.hrtime.bigint();
    const logBytes = await writeLog(dir);
    const writeMs = elapsedMs(writeStart);

    const heapBefore = heapUsed();
    const cpu = process.cpuUsage();
    const replayStart = process.hrtime.bigint();
    let store: Store = await openStore(dir, NO_COMPACTION);
    const replayMs = elapsedMs(replayStart);
    const used = process.cpuUsage(cpu);
    const heapAfter = heapUsed();
    if (store.size !== RECORDS || store.recovery.records !== RECORDS) throw new Error(`replayed ${store.recovery.records} records`);
    const heapPerKey = heapBefore === undefined || heapAfter === undefined ? undefined : (heapAfter - heapBefore) / store.size;

    await store.compact();
    await store.close();
    const snapshotStart = process.hrtime.bigint();
    store = await openStore(dir, NO_COMPACTION);
    const snapshotMs = elapsedMs(snapshotStart);
    if (store.size !== RECORDS || store.recovery.snapshot === null) throw new Error('snapshot not used');
    await store.close();
    return { writeMs, logBytes, replayMs, replayCpuMs: (used.user + used.system) / 1000, snapshotMs, heapPerKey };
  });
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ');
}

async function main(): Promise<void> {
  console.log(`@kv/wal benchmark: node ${process.version}, ${os.cpus().length} CPUs, ${os.platform()}, dir ${process.env.BENCH_DIR ?? os.tmpdir()}`);
  const probe = await fsyncLatency();
  console.log(`Disk: write + fdatasync median ${probe.medianMs.toFixed(3)} ms, p90 ${probe.p90Ms.toFixed(3)} ms`);
  console.log(`\nDurable appends, 100-byte values, ${DURATION_MS} ms per case (store.set, one record each)`);
  const widths = [11, 12, 14, 11, 15, 17];
  console.log(row(['concurrency', 'none ops/s', 'always ops/s', 'always/none', 'records/fsync', 'always mean ms'], widths));
  for (const concurrency of CONCURRENCIES) {
    const none = await appends('none', concurrency);
    const always = await appends('always', concurrency);
    console.log(
      row(
        [
          concurrency,
          Math.round(none.opsPerSecond),
          Math.round(always.opsPerSecond),
          `${((100 * always.opsPerSecond) / none.opsPerSecond).toFixed(0)}%`,
          always.recordsPerSync.toFixed(1),
          always.meanLatencyMs.toFixed(3),
        ],
        widths,
      ),
    );
  }

  console.log(`\nReplay: ${RECORDS.toLocaleString('en')} records, 100-byte values`);
  const r = await replay();
  console.log(`  log written (sync none, batches of ${BATCH_OPS}) ${Math.round(r.writeMs)} ms, ${(r.logBytes / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  open = segment replay          ${Math.round(r.replayMs)} ms (CPU ${Math.round(r.replayCpuMs)} ms), ${((r.logBytes / 2 ** 20) / (r.replayMs / 1000)).toFixed(0)} MiB/s`);
  console.log(`  open from a snapshot           ${Math.round(r.snapshotMs)} ms`);
  console.log(
    r.heapPerKey === undefined
      ? '  heap bytes per key             (run with node --expose-gc --import tsx to measure)'
      : `  heap bytes per key             ${Math.round(r.heapPerKey)} (11-byte keys, 100-byte values, 21-byte versions)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
