import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeVersion, encodeVersion } from '@kv/protocol';
import { PowerLossFileSystem } from '@kv/wal';
import { CLOCK_FLOOR_LEAD_MS, CLOCK_FLOOR_RECORD, ClockFloor } from './clock-floor';
import { offsetClock } from './coordinator';
import { CoordinatorVersions } from './coordinator-versions';
import { FileStableStore } from './file-stable-store';
import { VirtualClock } from './in-memory/virtual-clock';
import { MemoryStableStore, type StableStore } from './stable-store';
import type { Clock } from './time';

/** One run of a coordinator: opens the floor, issues versions as a proxy does (waiting for the floor when told to). */
async function run(store: StableStore, clock: Clock, writes: number): Promise<string[]> {
  const versions = new CoordinatorVersions({ clockId: 'p', clock, floor: await ClockFloor.open(store) });
  await versions.advanceFloor();
  const issued: string[] = [];
  for (let i = 0; i < writes; i++) {
    const ready = versions.ready();
    if (ready !== undefined) await ready;
    issued.push(versions.next());
  }
  return issued;
}

const versionAt = (ms: number, clockId = 'q'): string => encodeVersion({ ms, counter: 0, clockId });

describe('CoordinatorVersions with the clock floor, on virtual time', () => {
  test('a clock stepped back across a restart never issues an older version (no graceful stop needed)', async () => {
    const store = new MemoryStableStore();
    const clock = new VirtualClock();
    const first = await run(store, clock, 50);
    // The process dies (nothing is flushed: the floor is what was written), the wall clock goes back an hour.
    const second = await run(store, offsetClock(clock, -3_600_000), 50);
    const third = await run(store, offsetClock(clock, -7_200_000), 50);
    const all = [...first, ...second, ...third];
    expect([...all].sort()).toEqual(all);
    expect(new Set(all).size).toBe(all.length);
  });

  test('without a floor (test-only), the same restart issues older versions: the floor is what prevents it', () => {
    const clock = new VirtualClock();
    const before = new CoordinatorVersions({ clockId: 'p', clock, floor: undefined }).next();
    const after = new CoordinatorVersions({ clockId: 'p', clock: offsetClock(clock, -3_600_000), floor: undefined }).next();
    expect(after < before).toBe(true);
  });

  test('the floor stays ahead of every issued version as time passes', async () => {
    const store = new MemoryStableStore();
    const clock = new VirtualClock();
    const versions = new CoordinatorVersions({ clockId: 'p', clock, floor: await ClockFloor.open(store) });
    for (let second = 0; second < 60; second++) {
      await clock.advance(1000);
      const ready = versions.ready();
      if (ready !== undefined) await ready;
      const issued = decodeVersion(versions.next()).ms;
      const floorMs = Number(await store.read(CLOCK_FLOOR_RECORD));
      expect(issued).toBeLessThan(floorMs);
    }
    // Written ahead by about the lead, so not on every write: a handful of writes per minute.
    expect(store.writes).toBeLessThan(20);
  });

  test('a floor that cannot be written stops versions beyond it, never safety; writes resume with the disk', async () => {
    const store = new MemoryStableStore();
    const clock = new VirtualClock();
    const versions = new CoordinatorVersions({ clockId: 'p', clock, floor: await ClockFloor.open(store) });
    await versions.advanceFloor();
    const floorMs = Number(await store.read(CLOCK_FLOOR_RECORD));
    store.failWrites = true;
    await clock.advance(CLOCK_FLOOR_LEAD_MS);
    await expect(versions.ready()).rejects.toMatchObject({ code: 'KV_NOT_READY', message: expect.stringMatching(/clock floor.*ENOSPC.*refused/) });
    store.failWrites = false;
    await versions.ready();
    const issued = decodeVersion(versions.next()).ms;
    expect(issued).toBeGreaterThanOrEqual(floorMs);
    expect(issued).toBeLessThan(Number(await store.read(CLOCK_FLOOR_RECORD)));
  });

  test('a lost floor record is reported, and starts at 0', async () => {
    const store = new MemoryStableStore();
    expect((await ClockFloor.open(store)).found).toBe(false);
    await run(store, new VirtualClock(), 1);
    expect((await ClockFloor.open(store)).found).toBe(true);
  });

  test('observing a replica version moves the clock past it, unless observation is off', () => {
    const clock = new VirtualClock();
    const ahead = versionAt(clock.now() + 30_000);
    const observing = new CoordinatorVersions({ clockId: 'p', clock, floor: undefined });
    observing.observe(ahead);
    expect(observing.next() > ahead).toBe(true);
    const blind = new CoordinatorVersions({ clockId: 'p', clock, floor: undefined, observeVersions: false });
    blind.observe(ahead);
    expect(blind.next() < ahead).toBe(true);
  });

  test('a version further ahead of the wall clock than the drift bound is ignored, and said so', () => {
    const clock = new VirtualClock();
    const versions = new CoordinatorVersions({ clockId: 'p', clock, floor: undefined, driftMsMax: 120_000 });
    expect(versions.observe(versionAt(clock.now() + 100_000))).toBe(true);
    const far = versionAt(clock.now() + 200_000);
    expect(versions.observe(far)).toBe(false);
    expect(versions.next() < far).toBe(true);
  });
});

describe('ClockFloor', () => {
  test('a malformed floor record stops the coordinator rather than guessing', async () => {
    const store = new MemoryStableStore();
    await store.write(CLOCK_FLOOR_RECORD, 'yesterday\n');
    await expect(ClockFloor.open(store)).rejects.toThrow(/malformed/);
  });

  test('a missing floor starts at 0; writes only move it up', async () => {
    const store = new MemoryStableStore();
    const floor = await ClockFloor.open(store);
    expect(floor.floorMs).toBe(0);
    await floor.ensureAbove(1_000_000);
    expect(floor.floorMs).toBe(1_000_000 + CLOCK_FLOOR_LEAD_MS);
    await floor.ensureAbove(10);
    expect(floor.floorMs).toBe(1_000_000 + CLOCK_FLOOR_LEAD_MS);
    expect((await ClockFloor.open(store)).floorMs).toBe(1_000_000 + CLOCK_FLOOR_LEAD_MS);
    expect(floor.covers(1_000_000)).toBe(true);
    expect(floor.covers(1_000_000 + CLOCK_FLOOR_LEAD_MS)).toBe(false);
  });
});

describe('FileStableStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kv-stable-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('keeps the floor in a file of the data directory, across reopening', async () => {
    const store = new FileStableStore(path.join(dir, 'proxy'));
    const issued = await run(store, { now: () => Date.now() }, 10);
    const floorMs = Number(readFileSync(path.join(dir, 'proxy', CLOCK_FLOOR_RECORD), 'utf8'));
    for (const version of issued) expect(decodeVersion(version).ms).toBeLessThan(floorMs);
    expect((await ClockFloor.open(new FileStableStore(path.join(dir, 'proxy')))).floorMs).toBe(floorMs);
  });

  test('reads a missing record as undefined, and refuses record names that are not plain file names', async () => {
    const store = new FileStableStore(dir);
    expect(await store.read('nothing')).toBeUndefined();
    await expect(store.write('../escape', 'x')).rejects.toThrow(TypeError);
    writeFileSync(path.join(dir, 'plain'), 'text');
    expect(await store.read('plain')).toBe('text');
  });

  test('a power cut at any moment leaves the old or the new content, never a mix or nothing', async () => {
    const seen = new Set<string | undefined>();
    // A write of a record is five changing calls (open, write, sync, rename, directory sync): cut before each.
    for (let step = 1; step <= 5; step++) {
      for (let seed = 1; seed <= 8; seed++) {
        const fs = new PowerLossFileSystem({ seed });
        const store = new FileStableStore('/data', fs);
        await store.write('record', 'old');
        const cut = fs.cutAfter(step);
        void store.write('record', 'new'); // never settles: the machine dies during it
        const survived = await new FileStableStore('/data', await cut).read('record');
        expect(['old', 'new']).toContain(survived);
        seen.add(survived);
      }
    }
    expect(seen.has('old')).toBe(true);
  });

  test("the first write makes the directory itself durable: its parent's entry is synced after it is made", async () => {
    const fs = new PowerLossFileSystem({ seed: 3 });
    const calls: string[] = [];
    const recording = new Proxy(fs, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (name === 'mkdir' || name === 'syncDir') calls.push(`${String(name)} ${String(args[0])}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const store = new FileStableStore('/var/kv/cluster', recording);
    await store.write('record', 'v1');
    await store.write('record', 'v2');
    expect(calls).toEqual(['mkdir /var/kv/cluster', 'syncDir /var/kv', 'syncDir /var/kv/cluster', 'syncDir /var/kv/cluster']);
  });

  test('once a write resolved, a power cut keeps it', async () => {
    const fs = new PowerLossFileSystem({ seed: 7 });
    const store = new FileStableStore('/data', fs);
    await store.write('record', 'v1');
    await store.write('record', 'v2');
    expect(await new FileStableStore('/data', fs.powerCut('drop')).read('record')).toBe('v2');
  });
});
