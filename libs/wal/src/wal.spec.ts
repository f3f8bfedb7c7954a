import * as path from 'node:path';
import { segmentFileName } from './file-names';
import { PowerLossFileSystem } from './power-loss-file-system';
import type { WalRecord } from './record-codec';
import { captureLogger } from './testing/capture-logger';
import { GatedFileSystem } from './testing/gated-file-system';
import { tempDirs } from './testing/temp-dirs';
import { Wal, type WalOpenOptions } from './wal';
import { WalError } from './wal-error';
import type { SyncInfo } from './wal-options';

const DIR = '/wal';
const temp = tempDirs();
afterEach(() => temp.removeAll());

function set(key: string, value = `value of ${key}`, version = 'v1'): WalRecord {
  return { op: 'set', key, version, value };
}

async function readAll(dir: string, options: WalOpenOptions): Promise<{ wal: Wal; records: WalRecord[] }> {
  const records: WalRecord[] = [];
  const wal = await Wal.open(dir, {
    ...options,
    onRecord: (op, key, version, value) => records.push(op === 'set' ? { op, key, version, value: value! } : { op, key, version }),
  });
  return { wal, records };
}

function memory(): { fs: PowerLossFileSystem; options: WalOpenOptions } {
  const fs = new PowerLossFileSystem();
  return { fs, options: { fs, logger: captureLogger(), onFatal: () => undefined } };
}

describe('Wal', () => {
  it('appends and replays records in order, on the real disk', async () => {
    const dir = await temp.make();
    const wal = await Wal.open(dir, { logger: captureLogger() });
    const written: WalRecord[] = [set('a'), { op: 'delete', key: 'b', version: 'v2' }, { op: 'purge', key: 'c', version: 'v3' }, set('d', 'é🎉')];
    await wal.append(written.slice(0, 2));
    await wal.append(written.slice(2));
    await wal.close();
    const reopened = await readAll(dir, { logger: captureLogger() });
    expect(reopened.records).toEqual(written);
    expect(reopened.wal.recovery).toMatchObject({ segments: 1, records: 4, tornTail: null });
    await reopened.wal.close();
  });

  it('rotates at segmentBytesMax, lists segments, deletes sealed ones, and replays from a sequence', async () => {
    const { options } = memory();
    const wal = await Wal.open(DIR, { ...options, segmentBytesMax: 200 });
    for (let i = 0; i < 20; i++) await wal.append([set(`key-${i}`)]);
    const segments = wal.segments();
    expect(segments.length).toBeGreaterThan(3);
    expect(segments.map((s) => s.sequence)).toEqual(segments.map((_, i) => i + 1));
    for (const segment of segments.slice(0, -1)) expect(segment.bytes).toBeGreaterThanOrEqual(200);
    const fromThird: string[] = [];
    await wal.replay((_op, key) => fromThird.push(key), 3);
    expect(fromThird.length).toBeLessThan(20);
    expect(fromThird[fromThird.length - 1]).toBe('key-19');
    expect(await wal.deleteSegmentsThrough(2)).toBe(2);
    expect(wal.segments()[0].sequence).toBe(3);
    await expect(wal.deleteSegmentsThrough(wal.stats().activeSequence)).rejects.toThrow(TypeError);
    await wal.close();
    const reopened = await readAll(DIR, options);
    expect(reopened.records.map((r) => r.key)).toEqual(fromThird);
    await reopened.wal.close();
  });

  it('rotates on request, running the callback at the switch, and seals the old segment durably', async () => {
    const { fs, options } = memory();
    const wal = await Wal.open(DIR, { ...options, sync: 'none' });
    await wal.append([set('a')]);
    let atSwitch = -1;
    const closed = await wal.rotate((sequence) => (atSwitch = sequence));
    expect(closed).toBe(1);
    expect(atSwitch).toBe(1);
    expect(wal.stats().activeSequence).toBe(2);
    // Sealing synced segment 1 although the policy is 'none'; segment 2 exists durably.
    const after = fs.powerCut('drop');
    expect(after.list(DIR)).toEqual([segmentFileName(1), segmentFileName(2)]);
    const reopened = await readAll(DIR, { ...options, fs: after });
    expect(reopened.records).toEqual([set('a')]);
    await reopened.wal.close();
  });

  it('refuses to open with a missing segment (WAL_CORRUPT naming it)', async () => {
    const { fs, options } = memory();
    const wal = await Wal.open(DIR, { ...options, segmentBytesMax: 100 });
    for (let i = 0; i < 6; i++) await wal.append([set(`key-${i}`)]);
    await wal.close();
    await fs.unlink(path.join(DIR, segmentFileName(2)));
    await expect(Wal.open(DIR, options)).rejects.toMatchObject({ code: 'WAL_CORRUPT', file: segmentFileName(2) });
    await expect(Wal.open(DIR, { ...options, firstSequence: 3 })).resolves.toBeInstanceOf(Wal);
  });

  describe('group commit (sync always)', () => {
    it('makes many concurrent appends durable with far fewer fsyncs than appends', async () => {
      const { fs, options } = memory();
      const wal = await Wal.open(DIR, options);
      const before = fs.counts.datasync;
      await Promise.all(Array.from({ length: 500 }, (_, i) => wal.append([set(`key-${i}`)])));
      const syncs = fs.counts.datasync - before;
      expect(syncs).toBeGreaterThanOrEqual(1);
      expect(syncs).toBeLessThanOrEqual(5);
      expect(wal.stats()).toMatchObject({ records: 500 });
      await wal.close();
    });

    it('does the same on the real disk', async () => {
      const wal = await Wal.open(await temp.make(), { logger: captureLogger() });
      await Promise.all(Array.from({ length: 300 }, (_, i) => wal.append([set(`key-${i}`)])));
      expect(wal.stats().syncs).toBeLessThan(30);
      await wal.close();
    });

    it('sends everything that arrived during a sync in the next single write and sync', async () => {
      const gated = new GatedFileSystem(new PowerLossFileSystem());
      const syncs: SyncInfo[] = [];
      const wal = await Wal.open(DIR, { fs: gated, onSync: (info) => syncs.push(info), logger: captureLogger() });
      gated.gating = true;
      const resolved: string[] = [];
      const first = wal.append([set('first')]).then(() => resolved.push('first'));
      await gated.untilWaiting(1);
      const rest = ['b', 'c', 'd'].map((key) => wal.append([set(key)]).then(() => resolved.push(key)));
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(resolved).toEqual([]);
      gated.release();
      await first;
      expect(resolved).toEqual(['first']);
      await gated.untilWaiting(1);
      gated.release();
      await Promise.all(rest);
      expect(syncs.map((s) => s.records)).toEqual([1, 3]);
      expect(wal.stats()).toMatchObject({ writes: 2, syncs: 2, records: 4 });
      const closing = wal.close();
      await gated.untilWaiting(1);
      gated.release();
      await closing;
    });
  });

  it('sync interval: acknowledges after the write and fsyncs periodically', async () => {
    const { fs, options } = memory();
    const syncs: SyncInfo[] = [];
    const wal = await Wal.open(DIR, { ...options, sync: 'interval', syncIntervalMs: 10, onSync: (info) => syncs.push(info) });
    const before = fs.counts.datasync;
    await wal.append([set('a')]);
    await wal.append([set('b')]);
    expect(fs.counts.datasync).toBe(before);
    const deadline = Date.now() + 2000;
    while (syncs.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(syncs[0]).toMatchObject({ records: 2 });
    expect(fs.counts.datasync).toBe(before + 1);
    await wal.close();
  });

  it('sync none: never fsyncs appends, but does on close', async () => {
    const { fs, options } = memory();
    const wal = await Wal.open(DIR, { ...options, sync: 'none' });
    const before = fs.counts.datasync;
    for (let i = 0; i < 10; i++) await wal.append([set(`k${i}`)]);
    expect(fs.counts.datasync).toBe(before);
    await wal.close();
    expect(fs.counts.datasync).toBe(before + 1);
    const reopened = await readAll(DIR, { ...options, fs: fs.powerCut('drop') });
    expect(reopened.records).toHaveLength(10);
    await reopened.wal.close();
  });

  describe('failures are fatal, never retried, never acknowledged', () => {
    it.each([
      ['datasync', 'WAL_FSYNC_FAILED'],
      ['write', 'WAL_WRITE_FAILED'],
    ] as const)('a failed %s calls onFatal once and rejects every waiting append', async (op, code) => {
      const fs = new PowerLossFileSystem();
      const fatal: WalError[] = [];
      const wal = await Wal.open(DIR, { fs, onFatal: (error) => fatal.push(error), logger: captureLogger() });
      fs.failNext(op);
      const outcomes = await Promise.allSettled([wal.append([set('a')]), wal.append([set('b')])]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toBeInstanceOf(WalError);
      expect(fatal[0].code).toBe(code);
      expect(fatal[0].cause).toMatchObject({ code: 'EIO' });
      const writesBefore = fs.counts.write;
      await expect(wal.append([set('c')])).rejects.toMatchObject({ code: 'WAL_FAILED' });
      expect(fs.counts.write).toBe(writesBefore);
      await expect(wal.close()).rejects.toMatchObject({ code: 'WAL_FAILED' });
    });

    it('a failure to create the next segment is fatal too', async () => {
      const fs = new PowerLossFileSystem();
      const fatal: WalError[] = [];
      const wal = await Wal.open(DIR, { fs, onFatal: (error) => fatal.push(error), logger: captureLogger() });
      fs.failNext('open');
      await expect(wal.rotate()).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
      expect(fatal.map((e) => e.code)).toEqual(['WAL_WRITE_FAILED']);
      await expect(wal.append([set('a')])).rejects.toMatchObject({ code: 'WAL_FAILED' });
    });
  });

  it('refuses appends beyond queueBytesMax with WAL_OVERLOADED, queuing nothing', async () => {
    const gated = new GatedFileSystem(new PowerLossFileSystem());
    const wal = await Wal.open(DIR, { fs: gated, queueBytesMax: 100, logger: captureLogger() });
    gated.gating = true;
    const first = wal.append([set('a', 'x'.repeat(60))]);
    await gated.untilWaiting(1);
    expect(() => wal.enqueue(Buffer.alloc(60), 1, undefined)).toThrow(expect.objectContaining({ code: 'WAL_OVERLOADED' }));
    await expect(wal.append([set('b', 'x'.repeat(60))])).rejects.toMatchObject({ code: 'WAL_OVERLOADED' });
    gated.release();
    await first;
    expect(wal.stats().queuedBytes).toBe(0);
    const closing = wal.close();
    await gated.untilWaiting(1);
    gated.release();
    await closing;
  });

  it('rejects calls after close with WAL_CLOSED; close is idempotent and flushes what was queued', async () => {
    const { fs, options } = memory();
    const wal = await Wal.open(DIR, options);
    const queued = wal.append([set('queued')]);
    const closing = wal.close();
    expect(wal.close()).toBe(closing);
    await expect(wal.append([set('late')])).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    await expect(wal.rotate()).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    await queued;
    await closing;
    const reopened = await readAll(DIR, { ...options, fs: fs.powerCut('drop') });
    expect(reopened.records.map((r) => r.key)).toEqual(['queued']);
    await reopened.wal.close();
  });

  it('checks its arguments (TypeError)', async () => {
    const { options } = memory();
    await expect(Wal.open('', options)).rejects.toThrow(TypeError);
    await expect(Wal.open(DIR, { ...options, sync: 'sometimes' as never })).rejects.toThrow(TypeError);
    await expect(Wal.open(DIR, { ...options, segmentBytesMax: 10 })).rejects.toThrow(TypeError);
    await expect(Wal.open(DIR, { ...options, syncIntervalMs: 0 })).rejects.toThrow(TypeError);
    const wal = await Wal.open(DIR, options);
    await expect(wal.append([set('k'.repeat(5000))])).rejects.toThrow(TypeError);
    await expect(wal.append('nope' as never)).rejects.toThrow(TypeError);
    await wal.close();
  });
});
