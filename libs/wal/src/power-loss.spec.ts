import { PowerLossFileSystem, type UnsyncedPolicy } from './power-loss-file-system';
import { seededRandom } from './seeded-random';
import { openStore, type Store } from './store';
import type { StoreOptions } from './store-options';
import { AckChecker } from './testing/ack-checker';
import { captureLogger } from './testing/capture-logger';
import { baseSeed, trials } from './testing/profile';
import { formatVersion } from './version-clock';
import type { SyncPolicy } from './wal-options';

const DIR = '/data/store';
const TRIALS = trials('WAL_POWERCUT_TRIALS', 300);
const SEED = baseSeed();

interface Trial {
  readonly random: () => number;
  readonly checker: AckChecker;
  readonly options: StoreOptions;
  clock: number;
  values: number;
}

/** A random mix of concurrent sets, deletes, batches, purges and compactions. */
async function workload(store: Store, trial: Trial): Promise<void> {
  const { random, checker } = trial;
  const pick = (count: number): number => Math.floor(random() * count);
  const valueFor = (key: string): string => `${key}#${trial.values++}`;
  const explicitVersion = (): string | undefined =>
    random() < 0.25 ? formatVersion(trial.clock + pick(60) - 40, pick(3), 'x') : undefined;
  const clients = 1 + pick(6);
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const ops = 5 + pick(30);
      for (let n = 0; n < ops; n++) {
        const dice = random();
        const key = `k${pick(12)}`;
        if (dice < 0.5) {
          const value = valueFor(key);
          checker.attempt(key, value);
          checker.ack(key, value, await store.set(key, value, explicitVersion()));
        } else if (dice < 0.65) {
          checker.attempt(key, null);
          checker.ack(key, null, await store.delete(key, explicitVersion()));
        } else if (dice < 0.8) {
          const batch = Array.from({ length: 1 + pick(5) }, () => {
            const k = `k${pick(12)}`;
            const value = random() < 0.8 ? valueFor(k) : null;
            checker.attempt(k, value);
            return { k, value, version: explicitVersion() };
          });
          const results = await store.apply(
            batch.map(({ k, value, version }) =>
              value === null ? { op: 'delete' as const, key: k, version } : { op: 'set' as const, key: k, value, version },
            ),
          );
          results.forEach((result, i) => checker.ack(batch[i].k, batch[i].value, result));
        } else if (dice < 0.88) {
          const queued = `q${pick(4)}`;
          const value = valueFor(queued);
          checker.relax(queued);
          checker.attempt(queued, value);
          const { version } = await store.set(queued, value);
          await store.purge(queued, version);
        } else if (dice < 0.93) {
          await store.compact();
        } else {
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }),
  );
}

async function check(store: Store, checker: AckChecker): Promise<void> {
  const problems = checker.problems(store);
  if (problems.length > 0) throw new Error(problems.slice(0, 10).join('\n'));
}

async function runTrial(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const kind = random();
  const sync: SyncPolicy = kind < 0.7 ? 'always' : kind < 0.85 ? 'interval' : 'none';
  // Under 'interval' and 'none' an acknowledged write may be lost by a power loss, not by a process crash.
  const policy: UnsyncedPolicy = sync === 'always' ? 'random' : 'keep';
  const trial: Trial = {
    random,
    checker: new AckChecker(),
    clock: 1_000_000,
    values: 0,
    options: {
      sync,
      syncIntervalMs: 5,
      segmentBytesMax: 200 + Math.floor(random() * 1500),
      compactionBytesMin: 512 + Math.floor(random() * 2048),
      compactionFactor: 1 + random() * 3,
      logger: captureLogger(),
      onFatal: () => undefined,
    },
  };
  const now = (): number => trial.clock++;
  let disk = new PowerLossFileSystem({ seed });
  const generations = 1 + Math.floor(random() * 3);
  for (let generation = 0; generation < generations; generation++) {
    const current = disk;
    const cut = current.cutAfter(1 + Math.floor(random() * 400), policy);
    const run = (async () => {
      const store = await openStore(DIR, { ...trial.options, fs: current, now });
      await check(store, trial.checker);
      await workload(store, trial);
      return 'finished' as const;
    })();
    const outcome = await Promise.race([cut, run]);
    if (outcome === 'finished') {
      current.cancelCut();
      disk = current.powerCut(policy);
    } else {
      disk = outcome;
    }
  }
  const store = await openStore(DIR, { ...trial.options, fs: disk, now });
  await check(store, trial.checker);
  trial.checker.attempt('after-recovery', 'x');
  trial.checker.ack('after-recovery', 'x', await store.set('after-recovery', 'x'));
  await store.close();
  const again = await openStore(DIR, { ...trial.options, fs: disk.powerCut('drop'), now });
  expect(again.get('after-recovery')?.value).toBe('x');
  await check(again, trial.checker);
  await again.close();
}

describe('power loss', () => {
  it(`recovers every acknowledged write after random cuts: ${TRIALS} trials from seed ${SEED}`, async () => {
    for (let i = 0; i < TRIALS; i++) {
      const seed = SEED + i;
      try {
        await runTrial(seed);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`trial with seed ${seed} failed (replay: WAL_SEED=${seed} WAL_POWERCUT_TRIALS=1):\n${message}`, { cause: error });
      }
    }
  }, Math.max(120_000, TRIALS * 100));
});
