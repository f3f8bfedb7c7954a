import { FaultFileSystem, NodeFileSystem, type DiskFault } from '@kv/wal';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DurableHintStore, type DurableHintStoreOptions } from './durable-hint-store';
import type { Hint } from './hint-store';
import type { Timers } from './time';

const hint = (key: string, version: string, value: string | null = 'v'): Hint => ({ nodeId: 'n1', key, value, version });

/** Timers that fire only when the test says so. */
class ManualTimers implements Timers {
  private readonly waiting = new Map<number, () => void>();
  private next = 0;
  setTimeout(callback: () => void): unknown {
    this.next += 1;
    this.waiting.set(this.next, callback);
    return this.next;
  }
  clearTimeout(handle: unknown): void {
    this.waiting.delete(handle as number);
  }
  get pending(): number {
    return this.waiting.size;
  }
  fireAll(): void {
    const callbacks = [...this.waiting.values()];
    this.waiting.clear();
    for (const callback of callbacks) callback();
  }
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never held');
}

describe('DurableHintStore on a failing disk', () => {
  let dir: string;
  let fault: DiskFault | undefined;
  let timers: ManualTimers;
  let failures: unknown[];
  let recoveries: number;
  const stores: DurableHintStore[] = [];
  const open = async (extra: DurableHintStoreOptions = {}): Promise<DurableHintStore> => {
    const store = await DurableHintStore.open(dir, {
      store: { fs: new FaultFileSystem(new NodeFileSystem(), () => fault), sync: 'always' },
      timers,
      events: { diskFailed: (error) => failures.push(error), diskRecovered: () => (recoveries += 1) },
      ...extra,
    });
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kv-hints-fault-'));
    fault = undefined;
    timers = new ManualTimers();
    failures = [];
    recoveries = 0;
  });
  afterEach(async () => {
    fault = undefined;
    await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a full disk stops recording hints, reported once and counted, without rejecting; the hints kept are still delivered', async () => {
    const store = await open();
    await store.add(hint('k1', '001'));
    fault = 'ENOSPC';
    await expect(store.add(hint('k2', '002'))).resolves.toBeUndefined();
    await expect(store.add(hint('k3', '003'))).resolves.toBeUndefined();
    expect(store.failing).toBe(true);
    expect(failures).toHaveLength(1);
    expect((failures[0] as { cause?: { code?: string } }).cause?.code).toBe('ENOSPC');
    expect(store.diskDropped).toBe(2);
    // The hint whose write failed is not pending: only hints that reached the disk are.
    expect(store.pending('n1', 10)).toEqual([hint('k1', '001')]);
    await expect(store.remove(hint('k1', '001'))).resolves.toBeUndefined();
    expect(store.count).toBe(0);
    expect(timers.pending).toBe(1);
  });

  test('opens the log again once the disk recovers, purges what was delivered meanwhile, and records hints again', async () => {
    const store = await open();
    await store.add(hint('k1', '001'));
    await store.add(hint('k2', '002'));
    fault = 'EIO';
    await store.add(hint('k3', '003'));
    await store.remove(hint('k1', '001'));
    // Still failing at the first retry: no second report, another retry.
    timers.fireAll();
    await until(() => timers.pending === 1);
    expect(failures).toHaveLength(1);
    expect(store.failing).toBe(true);
    fault = undefined;
    timers.fireAll();
    await until(() => !store.failing);
    expect(recoveries).toBe(1);
    await store.add(hint('k4', '004'));
    await store.close();
    const reopened = await open();
    expect(reopened.pending('n1', 10)).toEqual([hint('k2', '002'), hint('k4', '004')]);
  });

  test('a log that cannot be opened at start leaves the store degraded, not failed; its hints are loaded once it opens', async () => {
    const first = await open();
    await first.add(hint('k1', '001'));
    await first.close();
    fault = 'EIO';
    const store = await open();
    expect(store.failing).toBe(true);
    expect(failures).toHaveLength(1);
    await store.add(hint('k2', '002'));
    expect(store.diskDropped).toBe(1);
    fault = undefined;
    timers.fireAll();
    await until(() => !store.failing);
    expect(recoveries).toBe(1);
    expect(store.pending('n1', 10)).toEqual([hint('k1', '001')]);
  });

  test('the hint of a value that expires keeps its expiry across a reopen', async () => {
    const store = await open();
    await store.add({ ...hint('k1', '001'), expiresAt: 1_700_000_002_000 });
    await store.add(hint('k2', '002'));
    await store.close();
    const again = await open();
    expect(again.pending('n1', 10)).toEqual([{ ...hint('k1', '001'), expiresAt: 1_700_000_002_000 }, hint('k2', '002')]);
  });

  test('close waits for the writes of hints in flight, and stops the retries', async () => {
    const store = await open();
    const adding = store.add(hint('k1', '001'));
    await store.close();
    await adding;
    fault = 'EIO';
    expect(timers.pending).toBe(0);
    fault = undefined;
    const reopened = await open();
    expect(reopened.pending('n1', 10)).toEqual([hint('k1', '001')]);
  });

  test('hints are bounded in bytes, on disk as in memory', async () => {
    const store = await open({ hintsMaxBytes: 40 });
    // 'n1' (2) + key (2) + value (10) + version (3) = 17 bytes each: two fit.
    for (let i = 1; i <= 3; i++) await store.add(hint(`k${i}`, `00${i}`, 'x'.repeat(10)));
    expect(store.count).toBe(2);
    expect(store.bytes).toBe(34);
    expect(store.dropped).toBe(1);
    await store.close();
    const reopened = await open({ hintsMaxBytes: 40 });
    expect(reopened.pending('n1', 10).map((h) => h.key)).toEqual(['k2', 'k3']);
  });
});
