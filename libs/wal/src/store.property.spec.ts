import * as fc from 'fast-check';
import type { WriteResult } from './entry';
import { PowerLossFileSystem } from './power-loss-file-system';
import { openStore, type Store } from './store';
import type { StoreOptions } from './store-options';
import { captureLogger } from './testing/capture-logger';
import { trials } from './testing/profile';
import { formatVersion } from './version-clock';

const DIR = '/model';
const RUNS = trials('WAL_PROPERTY_RUNS', 150);

type Write = { op: 'set'; key: string; value: string; version?: string } | { op: 'delete'; key: string; version?: string };
type Command =
  | { kind: 'write'; write: Write }
  | { kind: 'burst'; writes: Write[] }
  | { kind: 'apply'; writes: Write[] }
  | { kind: 'purge'; key: string; version: string | 'held' }
  | { kind: 'compact' }
  | { kind: 'reopen' };

interface ModelEntry {
  value: string | null;
  version: string;
}

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'é🎉');
// Explicit versions around the store's clock, so that they interleave with store-assigned ones.
const version = fc.option(
  fc.integer({ min: 0, max: 40 }).map((n) => formatVersion(1_000_000 + n, 0, 'p')),
  { nil: undefined, freq: 3 },
);
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: fc.string({ maxLength: 12 }), version }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key, version }) },
);
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: write.map((w) => ({ kind: 'write' as const, write: w })) },
  { weight: 2, arbitrary: fc.array(write, { minLength: 1, maxLength: 6 }).map((writes) => ({ kind: 'burst' as const, writes })) },
  { weight: 2, arbitrary: fc.array(write, { minLength: 0, maxLength: 6 }).map((writes) => ({ kind: 'apply' as const, writes })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('purge' as const),
      key,
      version: fc.oneof(fc.constant('held' as const), fc.integer({ min: 0, max: 40 }).map((n) => formatVersion(1_000_000 + n, 0, 'p'))),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

/** Applies a write to the model; `assigned` is the version the store reported for a write without one. */
function modelWrite(model: Map<string, ModelEntry>, w: Write, assigned: string): WriteResult {
  const current = model.get(w.key);
  const version = w.version ?? assigned;
  if (current !== undefined && version <= current.version) return { applied: false, version: current.version };
  model.set(w.key, { value: w.op === 'set' ? w.value : null, version });
  return { applied: true, version };
}

function expectSameAsModel(store: Store, model: Map<string, ModelEntry>): void {
  expect([...store.allEntries()].map((e) => [e.key, { value: e.value, version: e.version }])).toEqual([...model]);
  expect(store.size).toBe([...model.values()].filter((e) => e.value !== null).length);
  for (const [k, e] of model) expect(store.get(k)).toEqual(e.value === null ? undefined : e);
}

describe('Store against a Map model (property)', () => {
  it('matches the model through any sequence of writes, purges, compactions and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), fc.integer({ min: 200, max: 4000 }), async (commands, segmentBytesMax) => {
        let clock = 1_000_010;
        let fs = new PowerLossFileSystem();
        const options = (): StoreOptions => ({
          fs,
          segmentBytesMax,
          compactionBytesMin: 0,
          compactionFactor: 2,
          now: () => clock++,
          logger: captureLogger(),
          onFatal: () => undefined,
        });
        let store = await openStore(DIR, options());
        const model = new Map<string, ModelEntry>();
        let greatest = '';
        const checkAssigned = (w: Write, result: WriteResult): void => {
          if (w.version === undefined) {
            // A store-assigned version follows everything held or issued before.
            expect(result.applied).toBe(true);
            expect(result.version > greatest).toBe(true);
          }
          if (result.version > greatest) greatest = result.version;
        };
        const run = (w: Write): Promise<WriteResult> =>
          w.op === 'set' ? store.set(w.key, w.value, w.version) : store.delete(w.key, w.version);
        for (const c of commands) {
          if (c.kind === 'write') {
            const result = await run(c.write);
            checkAssigned(c.write, result);
            expect(result).toEqual(modelWrite(model, c.write, result.version));
          } else if (c.kind === 'burst' || c.kind === 'apply') {
            const results = c.kind === 'burst' ? await Promise.all(c.writes.map(run)) : await store.apply(c.writes);
            results.forEach((result, i) => {
              checkAssigned(c.writes[i], result);
              expect(result).toEqual(modelWrite(model, c.writes[i], result.version));
            });
          } else if (c.kind === 'purge') {
            const current = model.get(c.key);
            const v = c.version === 'held' ? (current?.version ?? formatVersion(1, 0, 'p')) : c.version;
            const expected = current !== undefined && current.version <= v;
            expect(await store.purge(c.key, v)).toBe(expected);
            if (expected) model.delete(c.key);
          } else if (c.kind === 'compact') {
            await store.compact();
          } else {
            await store.close();
            fs = fs.powerCut('drop');
            store = await openStore(DIR, options());
            expect(store.recovery.tornTail).toBeNull();
          }
          expectSameAsModel(store, model);
        }
        await store.close();
      }),
      { numRuns: RUNS, ...(process.env.WAL_SEED ? { seed: Number(process.env.WAL_SEED) } : {}) },
    );
  }, Math.max(60_000, RUNS * 100));
});
