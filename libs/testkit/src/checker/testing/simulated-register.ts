import type { Operation, Outcome } from '../history';
import { Random } from '../../chaos/random';

/** Parameters of a simulated run against a linearizable register per key. */
export interface SimulationOptions {
  seed: number;
  processes: number;
  opsPerProcess: number;
  keys: number;
  /** Probability that an operation is a write (otherwise a read). */
  writeRatio: number;
  /** Probability that a write is a delete. */
  deleteRatio: number;
  /** Probability that an operation ends `unknown`. */
  unknownRatio: number;
  /** Probability that a write ends `fail` (and so never takes effect). */
  failRatio: number;
  /** Probability that an `unknown` write takes effect at all. */
  unknownEffectRatio: number;
  /** Longest operation, in ms; durations are uniform in (0, this]. */
  durationMsMax: number;
}

/**
 * Simulates clients against a register per key that is linearizable by construction: every operation that takes effect
 * does so at one random instant within its interval (an `unknown` write: at any instant after its invocation, possibly
 * long after the client gave up, or never), and each read returns the key's value at its instant. The history is
 * therefore linearizable, which is what the checker's property tests rely on.
 */
export function simulateRegisterHistory(options: SimulationOptions): Operation[] {
  const generator = new Random(options.seed);
  const random = (): number => generator.next();
  const ops: Operation[] = [];
  const effectAt = new Map<Operation, number>();
  let runEndMs = 0;
  let id = 0;
  for (let process = 0; process < options.processes; process++) {
    let t = random() * options.durationMsMax;
    for (let i = 0; i < options.opsPerProcess; i++) {
      const key = `k${Math.floor(random() * options.keys)}`;
      const isWrite = random() < options.writeRatio;
      const duration = (1 - random()) * options.durationMsMax;
      let outcome: Outcome = 'ok';
      if (random() < options.unknownRatio) outcome = 'unknown';
      else if (isWrite && random() < options.failRatio) outcome = 'fail';
      const op: Operation = {
        id: id++,
        process,
        key,
        kind: isWrite ? 'write' : 'read',
        value: isWrite ? (random() < options.deleteRatio ? null : `v${id}`) : null,
        outcome,
        invokedAt: t,
        completedAt: t + duration,
      };
      ops.push(op);
      if (outcome === 'ok') effectAt.set(op, t + random() * duration);
      t += duration + random() * options.durationMsMax;
      runEndMs = Math.max(runEndMs, t);
    }
  }
  for (const op of ops) {
    if (op.outcome === 'unknown' && op.kind === 'write' && random() < options.unknownEffectRatio) {
      effectAt.set(op, op.invokedAt + random() * (runEndMs + options.durationMsMax - op.invokedAt));
    }
  }
  const state = new Map<string, string | null>();
  for (const [op] of [...effectAt].sort((a, b) => a[1] - b[1])) {
    if (op.kind === 'write') state.set(op.key, op.value);
    else op.value = state.get(op.key) ?? null;
  }
  return ops;
}
