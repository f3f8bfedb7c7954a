import { PowerLossFileSystem } from './power-loss-file-system';
import { openStore, type Store } from './store';
import type { StoreOptions } from './store-options';
import { captureLogger } from './testing/capture-logger';
import { GatedFileSystem } from './testing/gated-file-system';
import { formatVersion } from './version-clock';

const DIR = '/store';

function v(ms: number): string {
  return formatVersion(ms, 0, 'test');
}

function options(fs: PowerLossFileSystem | GatedFileSystem, extra: StoreOptions = {}): StoreOptions {
  return { fs, logger: captureLogger(), onFatal: () => undefined, segmentBytesMax: 512, ...extra };
}

/** Expected contents after {@link fill}: key -> value (null for a tombstone); purged keys absent. */
function expectedAfterFill(rounds: number): Map<string, string | null> {
  const expected = new Map<string, string | null>();
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 20; i++) expected.set(`k${i}`, `round ${round}`);
  }
  expected.set('k3', null);
  expected.delete('k4');
  return expected;
}

/** Overwrites 20 keys `rounds` times, deletes k3, purges k4. */
async function fill(store: Store, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, `round ${round}`, v(round * 100 + 10))));
  }
  await store.delete('k3', v(rounds * 100));
  await store.purge('k4', v(rounds * 100));
}

function contents(store: Store): Map<string, string | null> {
  return new Map([...store.allEntries()].map((entry) => [entry.key, entry.value]));
}

describe('compaction', () => {
  it('starts by itself once the log outgrows the live data, keeping tombstones and dropping purged keys', async () => {
    const fs = new PowerLossFileSystem();
    const store = await openStore(DIR, options(fs, { compactionFactor: 2, compactionBytesMin: 2048 }));
    await fill(store, 10);
    while (store.stats().compacting) await new Promise((resolve) => setTimeout(resolve, 1));
    const stats = store.stats();
    expect(stats.compactions).toBeGreaterThan(0);
    expect(stats.logBytes).toBeLessThanOrEqual(2 * stats.liveBytes + 2048);
    expect(fs.list(DIR).filter((name) => name.startsWith('snapshot-'))).toHaveLength(1);
    expect(contents(store)).toEqual(expectedAfterFill(10));
    await store.close();
    const reopened = await openStore(DIR, options(fs));
    expect(reopened.recovery.snapshot).not.toBeNull();
    expect(contents(reopened)).toEqual(expectedAfterFill(10));
    await reopened.close();
  });

  it('replaces the segments it covers and older snapshots with one snapshot', async () => {
    const fs = new PowerLossFileSystem();
    let store = await openStore(DIR, options(fs));
    await fill(store, 3);
    await store.compact();
    await store.set('after', 'first compaction');
    await store.compact();
    const names = fs.list(DIR);
    expect(names.filter((name) => name.startsWith('snapshot-'))).toHaveLength(1);
    expect(names.filter((name) => name.endsWith('.wal'))).toHaveLength(1);
    await store.close();
    store = await openStore(DIR, options(fs));
    expect(store.recovery.segmentsReplayed).toBe(1);
    expect(store.recovery.records).toBe(0);
    expect(store.get('after')?.value).toBe('first compaction');
    await store.close();
  });

  it('lets writes continue while the snapshot is being written', async () => {
    const gated = new GatedFileSystem(new PowerLossFileSystem(), 'sync');
    const store = await openStore(DIR, options(gated));
    await fill(store, 2);
    gated.gating = true;
    const compacting = store.compact();
    await gated.untilWaiting(1);
    for (let i = 0; i < 20; i++) await store.set(`during-${i}`, 'written while the snapshot is pending');
    expect(store.stats().compacting).toBe(true);
    gated.release();
    await compacting;
    gated.gating = false;
    await store.close();
    const reopened = await openStore(DIR, options(gated));
    expect(reopened.size).toBe(expectedAfterFill(2).size - 1 + 20);
    await reopened.close();
  });

  it('recovers every acknowledged write after a power cut at any step of a compaction', async () => {
    let steps = 0;
    for (let cutAt = 1; cutAt < 100; cutAt++) {
      const fs = new PowerLossFileSystem({ seed: cutAt });
      const store = await openStore(DIR, options(fs));
      await fill(store, 3);
      const compacting = store.compact().then(
        () => 'done' as const,
        () => 'failed' as const,
      );
      const image = await Promise.race([fs.cutAfter(cutAt, 'random'), compacting]);
      if (image === 'done' || image === 'failed') {
        expect(image).toBe('done');
        fs.cancelCut();
        await store.close();
        break;
      }
      steps = cutAt;
      const reopened = await openStore(DIR, options(image));
      expect(contents(reopened)).toEqual(expectedAfterFill(3));
      await reopened.set('after', 'the crash');
      await reopened.close();
      const again = await openStore(DIR, options(image));
      expect(again.get('after')?.value).toBe('the crash');
      await again.close();
    }
    // Rotation, snapshot write, sync, rename, directory sync, removals: every step was cut at least once.
    expect(steps).toBeGreaterThanOrEqual(8);
  });

  it('reports a failed snapshot as WAL_COMPACTION_FAILED, leaving the log intact and the store usable', async () => {
    const fs = new PowerLossFileSystem();
    const logger = captureLogger();
    const store = await openStore(DIR, { ...options(fs), logger });
    await fill(store, 2);
    fs.failNext('sync');
    await expect(store.compact()).rejects.toMatchObject({ code: 'WAL_COMPACTION_FAILED', cause: expect.objectContaining({ code: 'EIO' }) });
    expect(fs.list(DIR).some((name) => name.includes('snapshot'))).toBe(false);
    await store.set('after', 'failure');
    await store.compact();
    await store.close();
    const reopened = await openStore(DIR, options(fs));
    expect(reopened.get('after')?.value).toBe('failure');
    expect(reopened.size).toBe(expectedAfterFill(2).size);
    await reopened.close();
  });

  it('stops a running compaction on close, leaving no temporary file', async () => {
    const gated = new GatedFileSystem(new PowerLossFileSystem(), 'sync');
    const store = await openStore(DIR, options(gated));
    await fill(store, 2);
    const compacting = store.compact();
    const closing = store.close();
    await expect(compacting).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    await closing;
    const reopened = await openStore(DIR, options(gated));
    expect(reopened.recovery.removedFiles).toEqual([]);
    expect(contents(reopened)).toEqual(expectedAfterFill(2));
    await reopened.close();
  });
});
