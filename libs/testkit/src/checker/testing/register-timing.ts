/**
 * Times `checkRegister` on simulated single-key histories of the size a chaos run produces per key, valid and with one
 * read made stale (so the explanation's search runs too). Each figure is a fresh history and includes JIT warm-up only
 * in the first run of the process.
 * Run: `npx tsx libs/testkit/src/checker/testing/register-timing.ts`.
 */
import { checkRegister } from '../check-register';
import type { Operation } from '../history';
import { simulateRegisterHistory } from './simulated-register';

const RUNS = 7;
const OPS = 5000;

/** Makes the last acknowledged read return the first value written: overwritten long before, so the history is invalid. */
function withStaleRead(history: Operation[]): Operation[] {
  const first = history.find((op) => op.kind === 'write' && op.outcome === 'ok' && op.value !== null);
  const reads = history.filter((op) => op.kind === 'read' && op.outcome === 'ok');
  const last = reads[reads.length - 1];
  return history.map((op) => (op === last && first !== undefined ? { ...op, value: first.value } : op));
}

for (const processes of [8, 10]) {
  for (const unknownRatio of [0, 0.05, 0.2]) {
    for (const stale of [false, true]) {
      const timings: number[] = [];
      let steps = 0;
      for (let run = 0; run < RUNS; run++) {
        const simulated = simulateRegisterHistory({
          seed: 1000 + run,
          processes,
          opsPerProcess: OPS / processes,
          keys: 1,
          writeRatio: 0.5,
          deleteRatio: 0.05,
          unknownRatio,
          failRatio: 0.02,
          unknownEffectRatio: 0.5,
          durationMsMax: 10,
        });
        const history = stale ? withStaleRead(simulated) : simulated;
        const startMs = performance.now();
        const result = checkRegister(history);
        timings.push(performance.now() - startMs);
        if (result.valid !== !stale) throw new Error(`seed ${1000 + run}: unexpected verdict ${result.valid}`);
        steps = Math.max(steps, result.keys['k0'].steps);
      }
      timings.sort((a, b) => a - b);
      console.log(
        `${OPS} ops, ${processes} processes, unknown ${unknownRatio * 100}%, ${stale ? 'one stale read' : 'valid'}: ` +
          `median ${timings[Math.floor(RUNS / 2)].toFixed(1)} ms, max ${timings[RUNS - 1].toFixed(1)} ms, ` +
          `steps max ${steps}`,
      );
    }
  }
}
