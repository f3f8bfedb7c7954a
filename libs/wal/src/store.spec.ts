import { PowerLossFileSystem } from './power-loss-file-system';
import { openStore, type Store } from './store';
import type { StoreOptions } from './store-options';
import { captureLogger } from './testing/capture-logger';
import { GatedFileSystem } from './testing/gated-file-system';
import { tempDirs } from './testing/temp-dirs';
import { WalError } from './wal-error';
import { formatVersion } from './version-clock';

const DIR = '/store';
const temp = tempDirs();
afterEach(() => temp.removeAll());

/** Versions in the store's own layout, at fixed milliseconds, so that they interleave with store-assigned ones. */
function v(ms: number): string {
  return formatVersion(ms, 0, 'test');
}

function memory(options: Omit<StoreOptions, 'fs'> = {}): StoreOptions & { fs: PowerLossFileSystem } {
  return { fs: new PowerLossFileSystem(), logger: captureLogger(), onFatal: () => undefined, ...options };
}

async function reopen(store: Store, options: StoreOptions): Promise<Store> {
  await store.close();
  return openStore(store.dir, options);
}

describe('Store', () => {
  it('keeps every write and delete across reopen, on the real disk', async () => {
    const dir = await temp.make();
    const options = { logger: captureLogger() };
    let store = await openStore(dir, options);
    await store.set('a', 'alpha');
    await store.set('b', 'beta');
    await store.set('a', 'alpha 2');
    await store.delete('b');
    await store.set('ünï', 'cödé 🎉');
    store = await reopen(store, options);
    expect(store.get('a')?.value).toBe('alpha 2');
    expect(store.get('b')).toBeUndefined();
    expect(store.getEntry('b')).toMatchObject({ key: 'b', value: null, tombstone: true });
    expect(store.get('ünï')?.value).toBe('cödé 🎉');
    expect(store.size).toBe(2);
    expect(store.recovery).toMatchObject({ snapshot: null, segmentsReplayed: 1, records: 5, tornTail: null });
    await store.close();
  });

  it('orders writes by version: older ones are ignored, not logged, and stay ignored after reopen', async () => {
    const options = memory();
    let store = await openStore(DIR, options);
    expect(await store.set('k', 'new', v(200))).toEqual({ applied: true, version: v(200) });
    const records = store.stats().records;
    expect(await store.set('k', 'old', v(100))).toEqual({ applied: false, version: v(200) });
    expect(await store.set('k', 'same', v(200))).toEqual({ applied: false, version: v(200) });
    expect(await store.delete('k', v(150))).toEqual({ applied: false, version: v(200) });
    expect(store.stats().records).toBe(records);
    expect(store.get('k')).toEqual({ value: 'new', version: v(200) });
    store = await reopen(store, options);
    expect(await store.set('k', 'old', v(100))).toEqual({ applied: false, version: v(200) });
    expect(await store.delete('k', v(300))).toEqual({ applied: true, version: v(300) });
    expect(await store.set('k', 'resurrected?', v(250))).toEqual({ applied: false, version: v(300) });
    store = await reopen(store, options);
    expect(store.getEntry('k')).toEqual({ key: 'k', value: null, version: v(300), tombstone: true });
    await store.close();
  });

  it('writes a tombstone for an unknown key, so that an older write arriving later stays ignored', async () => {
    const store = await openStore(DIR, memory());
    expect(await store.delete('never-seen', v(10))).toEqual({ applied: true, version: v(10) });
    expect(await store.set('never-seen', 'late', v(5))).toEqual({ applied: false, version: v(10) });
    expect(store.size).toBe(0);
    await store.close();
  });

  it('assigns increasing versions that sort after everything held, across reopen and a wall clock going back', async () => {
    let now = 1_000_000;
    const options = memory({ now: () => now });
    let store = await openStore(DIR, options);
    const issued: string[] = [];
    for (let i = 0; i < 5; i++) issued.push((await store.set(`k${i}`, 'x')).version);
    await store.set('future', 'from a coordinator ahead of us', v(5_000_000));
    issued.push((await store.delete('k0')).version);
    expect(issued[issued.length - 1] > v(5_000_000)).toBe(true);
    now = 10;
    store = await reopen(store, options);
    issued.push((await store.set('k1', 'after reopen')).version);
    expect([...issued].sort()).toEqual(issued);
    expect(new Set(issued).size).toBe(issued.length);
    expect(issued[0]).toMatch(/^[0-9a-f]{12}-[0-9a-f]{6}-s$/);
    await store.close();
  });

  it('keeps the version floor of purged keys through compaction and reopen', async () => {
    let now = 1000;
    const options = memory({ now: () => now });
    let store = await openStore(DIR, options);
    const high = (await store.set('gone', 'x', v(9_000_000))).version;
    expect(await store.purge('gone', high)).toBe(true);
    await store.compact();
    now = 5;
    store = await reopen(store, options);
    expect(store.getEntry('gone')).toBeUndefined();
    expect((await store.set('other', 'y')).version > high).toBe(true);
    await store.close();
  });

  it('rejects unversioned writes with WAL_VERSION_SPACE when it holds a version that cannot be followed', async () => {
    const store = await openStore(DIR, memory());
    await store.set('k', 'x', 'zzz');
    await expect(store.set('j', 'y')).rejects.toMatchObject({ code: 'WAL_VERSION_SPACE' });
    await store.close();
  });

  describe('purge', () => {
    it('forgets an entry whose version is <= the given one, durably, leaving no tombstone', async () => {
      const options = memory();
      let store = await openStore(DIR, options);
      await store.set('a', '1', v(10));
      await store.delete('b', v(10));
      expect(await store.purge('a', v(5))).toBe(false);
      expect(await store.purge('a', v(10))).toBe(true);
      expect(await store.purge('b', v(20))).toBe(true);
      expect(await store.purge('b', v(20))).toBe(false);
      expect(await store.purge('unknown', v(20))).toBe(false);
      expect(store.getEntry('a')).toBeUndefined();
      expect(store.getEntry('b')).toBeUndefined();
      store = await reopen(store, options);
      expect([...store.allEntries()]).toEqual([]);
      expect(await store.set('a', 'older than the purge is accepted again', v(3))).toEqual({ applied: true, version: v(3) });
      await store.close();
    });

    it('checks its arguments', async () => {
      const store = await openStore(DIR, memory());
      await expect(store.purge('a', undefined as never)).rejects.toThrow(TypeError);
      await expect(store.purge('a', '')).rejects.toThrow(TypeError);
      await store.close();
    });
  });

  describe('apply', () => {
    it('logs many writes in one write and one fsync, with results in order', async () => {
      const options = memory();
      const store = await openStore(DIR, options);
      await store.set('x', 'old', v(50));
      const before = { ...options.fs.counts };
      const results = await store.apply([
        { op: 'set', key: 'a', value: '1', version: v(10) },
        { op: 'set', key: 'x', value: 'older', version: v(40) },
        { op: 'delete', key: 'b', version: v(10) },
        { op: 'set', key: 'a', value: '2', version: v(20) },
        { op: 'set', key: 'a', value: 'stale', version: v(15) },
        { op: 'set', key: 'c', value: 'assigned' },
      ]);
      expect(options.fs.counts.write - before.write).toBe(1);
      expect(options.fs.counts.datasync - before.datasync).toBe(1);
      expect(results.slice(0, 5)).toEqual([
        { applied: true, version: v(10) },
        { applied: false, version: v(50) },
        { applied: true, version: v(10) },
        { applied: true, version: v(20) },
        { applied: false, version: v(20) },
      ]);
      expect(results[5].applied).toBe(true);
      expect(store.get('a')?.value).toBe('2');
      expect(await store.apply([])).toEqual([]);
      await store.close();
    });

    it('checks every operation first and applies none if one is invalid', async () => {
      const store = await openStore(DIR, memory());
      await expect(store.apply([{ op: 'set', key: 'a', value: '1' }, { op: 'put', key: 'b' } as never])).rejects.toThrow(TypeError);
      await expect(store.apply([{ op: 'set', key: 'a', value: '1' }, { op: 'set', key: 'b', value: 3 } as never])).rejects.toThrow(TypeError);
      await expect(store.apply([{ op: 'set', key: 'a', value: '1' }, { op: 'delete', key: 'b', version: '' }])).rejects.toThrow(TypeError);
      await expect(store.apply('nope' as never)).rejects.toThrow(TypeError);
      expect(store.stats().records).toBe(0);
      await store.close();
    });
  });

  describe('concurrency and visibility', () => {
    async function gatedStore(): Promise<{ store: Store; gated: GatedFileSystem }> {
      const gated = new GatedFileSystem(new PowerLossFileSystem());
      const store = await openStore(DIR, { fs: gated, logger: captureLogger(), onFatal: () => undefined });
      gated.gating = true;
      return { store, gated };
    }

    it('shows a write to readers only once it is durable, just before it resolves', async () => {
      const { store, gated } = await gatedStore();
      const writing = store.set('k', 'v', v(1));
      await gated.untilWaiting(1);
      expect(store.get('k')).toBeUndefined();
      expect(store.size).toBe(0);
      gated.release();
      await writing;
      expect(store.get('k')?.value).toBe('v');
      const closing = store.close();
      await gated.untilWaiting(1);
      gated.release();
      await closing;
    });

    it('orders two writes of one key in one group commit by version, and answers the loser only once the winner is durable', async () => {
      const { store, gated } = await gatedStore();
      const blocker = store.set('other', 'holds the sync', v(1));
      await gated.untilWaiting(1);
      const settled: string[] = [];
      const newer = store.set('k', 'newer', v(20)).then((r) => (settled.push('newer'), r));
      const older = store.set('k', 'older', v(10)).then((r) => (settled.push('older'), r));
      const oldest = store.delete('k', v(5)).then((r) => (settled.push('oldest'), r));
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(settled).toEqual([]);
      gated.release();
      await blocker;
      await gated.untilWaiting(1);
      expect(settled).toEqual([]);
      gated.release();
      expect(await newer).toEqual({ applied: true, version: v(20) });
      expect(await older).toEqual({ applied: false, version: v(20) });
      expect(await oldest).toEqual({ applied: false, version: v(20) });
      expect(store.get('k')?.value).toBe('newer');
      expect(store.stats()).toMatchObject({ writes: 2, syncs: 2, records: 2, pendingKeys: 0 });
      const closing = store.close();
      await gated.untilWaiting(1);
      gated.release();
      await closing;
    });

    it('orders a newer write issued after an older pending one', async () => {
      const store = await openStore(DIR, memory());
      const [first, second] = await Promise.all([store.set('k', 'a', v(10)), store.set('k', 'b', v(20))]);
      expect(first).toEqual({ applied: true, version: v(10) });
      expect(second).toEqual({ applied: true, version: v(20) });
      expect(store.get('k')?.value).toBe('b');
      const [purged, after] = await Promise.all([store.purge('k', v(20)), store.set('k', 'c', v(1))]);
      expect(purged).toBe(true);
      expect(after).toEqual({ applied: true, version: v(1) });
      expect(store.get('k')?.value).toBe('c');
      await store.close();
    });

    it('uses far fewer fsyncs than writes when many writers run concurrently (sync always)', async () => {
      const options = memory();
      const store = await openStore(DIR, options);
      const before = options.fs.counts.datasync;
      await Promise.all(
        Array.from({ length: 64 }, async (_, writer) => {
          for (let i = 0; i < 10; i++) await store.set(`w${writer}-${i}`, 'x'.repeat(100));
        }),
      );
      const syncs = options.fs.counts.datasync - before;
      expect(store.size).toBe(640);
      expect(syncs).toBeLessThanOrEqual(640 / 16);
      await store.close();
    });
  });

  it('iterates live entries and all entries in first-write order, kept across compaction and reopen', async () => {
    const options = memory();
    let store = await openStore(DIR, options);
    for (const key of ['c', 'a', 'b', 'd']) await store.set(key, `value ${key}`);
    await store.set('a', 'updated');
    await store.delete('b');
    await store.purge('d', store.getEntry('d')!.version);
    await store.set('d', 'new again');
    const expected = ['c', 'a', 'd'];
    expect([...store.entries()].map(([key]) => key)).toEqual(expected);
    expect([...store.allEntries()].map((e) => e.key)).toEqual(['c', 'a', 'b', 'd']);
    const [, first] = [...store.entries()][1];
    expect(first).toEqual({ value: 'updated', version: store.getEntry('a')!.version });
    await store.compact();
    store = await reopen(store, options);
    expect([...store.entries()].map(([key]) => key)).toEqual(expected);
    expect([...store.allEntries()].map((e) => [e.key, e.tombstone])).toEqual([
      ['c', false],
      ['a', false],
      ['b', true],
      ['d', false],
    ]);
    await store.close();
  });

  it('fails fatally on a failed fsync: onFatal is called, the write never succeeds and stays invisible', async () => {
    const fs = new PowerLossFileSystem();
    const fatal: WalError[] = [];
    const store = await openStore(DIR, { fs, logger: captureLogger(), onFatal: (error) => fatal.push(error) });
    await store.set('before', 'ok');
    fs.failNext('datasync');
    await expect(store.set('k', 'never acknowledged')).rejects.toMatchObject({ code: 'WAL_FSYNC_FAILED' });
    expect(fatal.map((e) => e.code)).toEqual(['WAL_FSYNC_FAILED']);
    expect(store.get('k')).toBeUndefined();
    expect(store.get('before')?.value).toBe('ok');
    await expect(store.set('later', 'x')).rejects.toMatchObject({ code: 'WAL_FAILED' });
    await expect(store.close()).rejects.toMatchObject({ code: 'WAL_FAILED' });
  });

  it('rejects everything with WAL_CLOSED once closed; close is idempotent and makes accepted writes durable', async () => {
    const options = memory();
    const store = await openStore(DIR, options);
    const accepted = store.set('k', 'accepted before close');
    const closing = store.close();
    expect(store.close()).toBe(closing);
    await expect(store.set('x', 'y')).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    await expect(store.delete('x')).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    await expect(store.apply([])).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    await expect(store.purge('x', 'v')).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    await expect(store.compact()).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    expect(() => store.get('k')).toThrow(expect.objectContaining({ code: 'WAL_CLOSED' }));
    expect(() => store.entries().next()).toThrow(WalError);
    await accepted;
    await closing;
    const reopened = await openStore(DIR, { ...options, fs: options.fs.powerCut('drop') });
    expect(reopened.get('k')?.value).toBe('accepted before close');
    await reopened.close();
  });

  it('checks its arguments (TypeError)', async () => {
    const store = await openStore(DIR, memory());
    await expect(store.set(1 as never, 'x')).rejects.toThrow(TypeError);
    await expect(store.set('k', undefined as never)).rejects.toThrow(TypeError);
    await expect(store.set('k', 'x', 5 as never)).rejects.toThrow(TypeError);
    await expect(store.set('k', 'x', '')).rejects.toThrow(TypeError);
    await expect(store.set('\ud800', 'x')).rejects.toThrow(/lone surrogate/);
    await expect(store.set('k', 'bad \udc00')).rejects.toThrow(TypeError);
    await expect(store.set('k'.repeat(4097), 'x')).rejects.toThrow(TypeError);
    await expect(store.set('k', 'x', 'v'.repeat(129))).rejects.toThrow(TypeError);
    expect(() => store.get(undefined as never)).toThrow(TypeError);
    await expect(openStore('', {})).rejects.toThrow(TypeError);
    await expect(openStore(DIR, { ...memory(), compactionFactor: 0.5 })).rejects.toThrow(TypeError);
    await expect(openStore(DIR, { ...memory(), versionSuffix: 'has space' })).rejects.toThrow(TypeError);
    await store.close();
  });

  it('reports stats', async () => {
    const store = await openStore(DIR, memory());
    await store.set('a', '1');
    await store.delete('b');
    expect(store.stats()).toMatchObject({
      keys: 1,
      tombstones: 1,
      segments: 1,
      snapshotSequence: 0,
      pendingKeys: 0,
      records: 2,
      compactions: 0,
      compacting: false,
    });
    expect(store.stats().liveBytes).toBeGreaterThan(0);
    expect(store.stats().logBytes).toBeGreaterThan(store.stats().liveBytes);
    await store.close();
  });
});
