import { encodeVersion } from '@kv/protocol';
import type { Hint, HintStore } from '../hint-store';

/** What the hint store compliance suite runs against. */
export interface HintStoreFixture {
  /** Opens a store with the given bound (the same storage each time, until `close` of the fixture). */
  open(hintsMax: number): Promise<HintStore>;
  /** Whether hints survive closing and opening again. */
  durable: boolean;
  /** Releases the storage. */
  close(): Promise<void>;
}

const version = (n: number): string => encodeVersion({ ms: 1_700_000_000_000 + n, counter: 0, clockId: 't' });
const hint = (nodeId: string, key: string, n: number, value: string | null = `v${n}`): Hint => ({ nodeId, key, value, version: version(n) });

/** The behaviour every {@link HintStore} must have, run against each implementation (memory, durable). */
export function describeHintStoreCompliance(name: string, setup: () => Promise<HintStoreFixture>): void {
  describe(`${name} (HintStore compliance)`, () => {
    let fixture: HintStoreFixture;
    let store: HintStore | undefined;
    beforeEach(async () => {
      fixture = await setup();
    });
    afterEach(async () => {
      await store?.close();
      store = undefined;
      await fixture.close();
    });

    it('keeps the newest hint per node and key, oldest first per node', async () => {
      store = await fixture.open(100);
      await store.add(hint('a', 'k1', 2));
      await store.add(hint('a', 'k2', 1));
      await store.add(hint('a', 'k1', 1)); // older than the one kept: ignored
      await store.add(hint('a', 'k1', 3, null)); // a newer tombstone replaces it and moves to the end
      await store.add(hint('b', 'k1', 1));
      expect(store.count).toBe(3);
      expect(store.pending('a', 10)).toEqual([hint('a', 'k2', 1), hint('a', 'k1', 3, null)]);
      expect(store.pending('a', 1)).toEqual([hint('a', 'k2', 1)]);
      expect(store.pending('nobody', 10)).toEqual([]);
      expect([...store.nodes()].sort()).toEqual(['a', 'b']);
    });

    it('removes a delivered hint, unless a newer one replaced it meanwhile', async () => {
      store = await fixture.open(100);
      await store.add(hint('a', 'k', 1));
      await store.add(hint('a', 'k', 2));
      await store.remove(hint('a', 'k', 1));
      expect(store.count).toBe(1);
      await store.remove(hint('a', 'k', 2));
      expect(store.count).toBe(0);
      expect(store.nodes()).toEqual([]);
    });

    it('is bounded: the oldest hints are dropped first, and counted', async () => {
      store = await fixture.open(3);
      for (let i = 1; i <= 5; i++) await store.add(hint(i % 2 === 0 ? 'a' : 'b', `k${i}`, i));
      expect(store.count).toBe(3);
      expect(store.dropped).toBe(2);
      expect([...store.pending('a', 10), ...store.pending('b', 10)].map((h) => h.key).sort()).toEqual(['k3', 'k4', 'k5']);
    });

    it('keeps keys and values of any text, tombstones as null', async () => {
      store = await fixture.open(10);
      const odd = { nodeId: 'n', key: 'a\u0000b 😀 /%', value: '\n"\\ é', version: version(1) };
      await store.add(odd);
      await store.add(hint('n', 'gone', 2, null));
      expect(store.pending('n', 10)).toEqual([odd, hint('n', 'gone', 2, null)]);
    });

    it('survives closing and opening again when durable (and starts empty when not)', async () => {
      store = await fixture.open(10);
      await store.add(hint('a', 'k1', 1));
      await store.add(hint('a', 'k2', 2));
      await store.add(hint('b', 'k1', 3, null));
      await store.remove(hint('a', 'k1', 1));
      await store.close();
      store = await fixture.open(10);
      if (fixture.durable) {
        expect(store.pending('a', 10)).toEqual([hint('a', 'k2', 2)]);
        expect(store.pending('b', 10)).toEqual([hint('b', 'k1', 3, null)]);
      } else {
        expect(store.count).toBe(0);
      }
    });
  });
}
