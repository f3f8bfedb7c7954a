import { openStore } from './store';
import { captureLogger } from './testing/capture-logger';
import { crashValue } from './testing/crash-writer';
import { baseSeed, trials } from './testing/profile';
import { collect, spawnScript } from './testing/run-script';
import { tempDirs } from './testing/temp-dirs';
import { seededRandom } from './seeded-random';

const TRIALS = trials('WAL_CRASH_TRIALS', 4);
const SEED = baseSeed();
const WRITERS = 32;
const temp = tempDirs();
afterEach(() => temp.removeAll());

interface Ack {
  readonly kind: 'S' | 'D';
  readonly version: string;
  readonly trial: string;
  readonly i: number;
}

describe('crash (SIGKILL of a real process)', () => {
  it(`keeps every acknowledged write across ${TRIALS} kills at random moments (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const dir = await temp.make();
    const acked = new Map<string, Ack>();
    let total = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const child = spawnScript('crash-writer.ts', [dir, String(WRITERS), String(trial)]);
      const output = collect(child);
      let seen = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          // Wait for some acknowledgements so that the kill lands in the middle of the work.
          if (seen.split('\n').length > 20) resolve();
        });
        child.on('exit', (code) => reject(new Error(`writer exited early with ${code}: ${seen}`)));
      });
      await new Promise((resolve) => setTimeout(resolve, 20 + random() * 300));
      child.kill('SIGKILL');
      const { signal, stdout, stderr } = await output;
      const errors = stderr.split('\n').filter((line) => line !== '' && !line.startsWith('warning: torn tail'));
      expect({ signal, errors }).toEqual({ signal: 'SIGKILL', errors: [] });
      // Only whole lines were acknowledged; a line cut by the kill is ignored.
      for (const line of stdout.split('\n').slice(1, -1)) {
        const [kind, key, version, t, i] = line.split(' ');
        const ack: Ack = { kind: kind as 'S' | 'D', version, trial: t, i: Number(i) };
        const previous = acked.get(key);
        if (previous === undefined || ack.version > previous.version) acked.set(key, ack);
        total++;
      }
      const store = await openStore(dir, { logger: captureLogger() });
      for (const [key, ack] of acked) {
        const entry = store.getEntry(key);
        expect(entry).toBeDefined();
        expect(entry!.version >= ack.version).toBe(true);
        if (entry!.version === ack.version) {
          expect(entry!.value).toBe(ack.kind === 'D' ? null : crashValue(key, ack.trial, ack.i));
        }
      }
      await store.close();
    }
    expect(total).toBeGreaterThan(TRIALS * 20);
  }, Math.max(60_000, TRIALS * 5_000));
});
