import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeVersion } from '@kv/protocol';
import { CLOCK_FLOOR_FILE, CLOCK_FLOOR_LEAD_MS, ClockFloor } from './clock-floor';
import { ProxyVersions } from './proxy-versions';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kv-floor-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** One run of a proxy: opens the floor, issues versions as the proxy does (waiting for the floor when told to). */
async function proxyRun(clockOffsetMs: number, writes: number): Promise<string[]> {
  const versions = new ProxyVersions({ proxyId: 'p', floor: await ClockFloor.open(dir), clockOffsetMs });
  await versions.advanceFloor();
  const issued: string[] = [];
  for (let i = 0; i < writes; i++) {
    const ready = versions.ready();
    if (ready !== undefined) await ready;
    issued.push(versions.next());
  }
  return issued;
}

describe('ProxyVersions with the clock floor', () => {
  test('versions keep increasing across restarts with the clock stepped back (no graceful stop needed)', async () => {
    const first = await proxyRun(0, 50);
    const second = await proxyRun(-3_600_000, 50);
    const third = await proxyRun(-7_200_000, 50);
    const all = [...first, ...second, ...third];
    expect([...all].sort()).toEqual(all);
    expect(new Set(all).size).toBe(all.length);
  });

  test('the floor on disk stays ahead of every issued version', async () => {
    const issued = await proxyRun(0, 10);
    const floorMs = Number(readFileSync(path.join(dir, CLOCK_FLOOR_FILE), 'utf8'));
    for (const version of issued) expect(decodeVersion(version).ms).toBeLessThan(floorMs);
    expect(floorMs).toBeLessThanOrEqual(Date.now() + CLOCK_FLOOR_LEAD_MS + 1000);
  });

  test('a clock far ahead of the floor pushes the floor before its versions are used', async () => {
    await proxyRun(0, 1);
    const ahead = await proxyRun(60_000, 3);
    const floorMs = Number(readFileSync(path.join(dir, CLOCK_FLOOR_FILE), 'utf8'));
    for (const version of ahead) expect(decodeVersion(version).ms).toBeLessThan(floorMs);
  });

  test('without a floor (test-only), a clock stepped back issues older versions: the floor is what prevents it', async () => {
    const unsafe = (offset: number) => new ProxyVersions({ proxyId: 'p', floor: undefined, clockOffsetMs: offset });
    const before = unsafe(0).next();
    const after = unsafe(-3_600_000).next();
    expect(after < before).toBe(true);
  });

  test('observing a replica version moves the clock past it, unless observation is off', () => {
    const far = '7fffffffffff-0000-other';
    const observing = new ProxyVersions({ proxyId: 'p', floor: undefined });
    observing.observe(`${(Date.now() + 30_000).toString(16).padStart(12, '0')}-0000-other`);
    expect(decodeVersion(observing.next()).ms).toBeGreaterThan(Date.now() + 20_000);
    const blind = new ProxyVersions({ proxyId: 'p', floor: undefined, observeVersions: false });
    blind.observe(far);
    expect(blind.next() < far).toBe(true);
  });
});

describe('ClockFloor', () => {
  test('a malformed floor file stops the proxy rather than guessing', async () => {
    writeFileSync(path.join(dir, CLOCK_FLOOR_FILE), 'yesterday\n');
    await expect(ClockFloor.open(dir)).rejects.toThrow(/malformed/);
  });

  test('a missing floor file starts at 0; writes are atomic and only move up', async () => {
    const floor = await ClockFloor.open(dir);
    expect(floor.floorMs).toBe(0);
    await floor.ensureAbove(1_000_000);
    expect(floor.floorMs).toBe(1_000_000 + CLOCK_FLOOR_LEAD_MS);
    await floor.ensureAbove(10);
    expect(floor.floorMs).toBe(1_000_000 + CLOCK_FLOOR_LEAD_MS);
    expect((await ClockFloor.open(dir)).floorMs).toBe(1_000_000 + CLOCK_FLOOR_LEAD_MS);
    expect(floor.covers(1_000_000)).toBe(true);
    expect(floor.covers(1_000_000 + CLOCK_FLOOR_LEAD_MS)).toBe(false);
  });
});

describe('ProxyVersions.covers', () => {
  test('true for versions this clock issued or observed, false for newer ones and malformed input', () => {
    const versions = new ProxyVersions({ proxyId: 'p', floor: undefined });
    const issued = versions.next();
    expect(versions.covers(issued)).toBe(true);
    const later = `${(Date.now() + 30_000).toString(16).padStart(12, '0')}-0000-q`;
    expect(versions.covers(later)).toBe(false);
    versions.observe(later);
    expect(versions.covers(later)).toBe(true);
    expect(versions.covers('nonsense')).toBe(false);
  });
});
