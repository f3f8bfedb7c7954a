import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DurableHintStore } from './durable-hint-store';
import { describeHintStoreCompliance } from './testing/hint-store-compliance';
import { HintIndex, MemoryHintStore, hintBytes, hintId, type Hint } from './hint-store';

const hint = (nodeId: string, key: string, version: string, value: string | null = 'v'): Hint => ({
  nodeId,
  key,
  value,
  version,
});

describe('HintIndex', () => {
  test('keeps the newest hint per node and key, oldest first', () => {
    const index = new HintIndex(10);
    expect(index.put(hint('a', 'k1', '002'))).toBe(true);
    expect(index.put(hint('a', 'k2', '001'))).toBe(true);
    expect(index.put(hint('a', 'k1', '001'))).toBe(false);
    expect(index.put(hint('a', 'k1', '003', null))).toBe(true);
    expect(index.put(hint('b', 'k1', '001'))).toBe(true);
    expect(index.count).toBe(3);
    expect(index.pending('a', 10)).toEqual([hint('a', 'k2', '001'), hint('a', 'k1', '003', null)]);
    expect(index.pending('a', 1)).toEqual([hint('a', 'k2', '001')]);
    expect(index.nodes().sort()).toEqual(['a', 'b']);
  });

  test('removes a delivered hint only if no newer one replaced it', () => {
    const index = new HintIndex(10);
    index.put(hint('a', 'k', '001'));
    index.put(hint('a', 'k', '002'));
    expect(index.delete(hint('a', 'k', '001'))).toBe(false);
    expect(index.count).toBe(1);
    expect(index.delete(hint('a', 'k', '002'))).toBe(true);
    expect(index.count).toBe(0);
    expect(index.nodes()).toEqual([]);
  });

  test('is bounded: the oldest hints are dropped first and counted', () => {
    const index = new HintIndex(3);
    const evicted: Hint[] = [];
    for (let i = 1; i <= 5; i++) index.put(hint(i % 2 === 0 ? 'a' : 'b', `k${i}`, `00${i}`), evicted);
    expect(index.count).toBe(3);
    expect(index.dropped).toBe(2);
    expect(evicted.map((h) => h.key)).toEqual(['k1', 'k2']);
    expect([...index.pending('a', 10), ...index.pending('b', 10)].map((h) => h.key).sort()).toEqual(['k3', 'k4', 'k5']);
  });

  test('is bounded in bytes: the oldest hints are dropped first and counted, and one larger than the bound is refused', () => {
    // Each hint: node 'a' (1) + key 'kN' (2) + value (10) + version (3) = 16 bytes.
    const index = new HintIndex(100, 40);
    const evicted: Hint[] = [];
    for (let i = 1; i <= 3; i++) index.put(hint('a', `k${i}`, `00${i}`, 'x'.repeat(10)), evicted);
    expect(index.count).toBe(2);
    expect(index.bytes).toBe(32);
    expect(index.dropped).toBe(1);
    expect(evicted.map((h) => h.key)).toEqual(['k1']);
    expect(hintBytes(hint('a', 'k9', '009', 'x'.repeat(10)))).toBe(16);
    expect(index.put(hint('a', 'big', '009', 'x'.repeat(40)), evicted)).toBe(false);
    expect(index.dropped).toBe(2);
    expect(index.pending('a', 10).map((h) => h.key)).toEqual(['k2', 'k3']);
    index.delete(hint('a', 'k2', '002', 'x'.repeat(10)));
    expect(index.bytes).toBe(16);
    expect(() => new HintIndex(1, 0)).toThrow(TypeError);
  });

  test('hint ids split back at the first NUL, which node ids never contain, whatever the key holds', () => {
    const id = hintId({ nodeId: 'node1', key: 'b\u0000c' });
    const separator = id.indexOf('\u0000');
    expect([id.slice(0, separator), id.slice(separator + 1)]).toEqual(['node1', 'b\u0000c']);
    expect(() => new HintIndex(0)).toThrow(TypeError);
  });
});

describe('MemoryHintStore', () => {
  test('adds, lists and removes hints', async () => {
    const store = new MemoryHintStore({ hintsMax: 2 });
    await store.add(hint('a', 'k1', '001'));
    await store.add(hint('a', 'k2', '002'));
    await store.add(hint('a', 'k3', '003'));
    expect(store.count).toBe(2);
    expect(store.dropped).toBe(1);
    await store.remove(hint('a', 'k2', '002'));
    expect(store.pending('a', 10)).toEqual([hint('a', 'k3', '003')]);
    await store.close();
  });
});

describeHintStoreCompliance('MemoryHintStore', async () => ({
  open: async (hintsMax) => new MemoryHintStore({ hintsMax }),
  durable: false,
  close: async () => undefined,
}));

describeHintStoreCompliance('DurableHintStore', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kv-hints-'));
  return {
    open: (hintsMax) => DurableHintStore.open(dir, { hintsMax, store: { sync: 'none' } }),
    durable: true,
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
