import fc from 'fast-check';
import { checkRegister } from './check-register';
import type { Operation, Outcome } from './history';
import { referenceLinearizable } from './testing/reference-register-check';
import { simulateRegisterHistory, type SimulationOptions } from './testing/simulated-register';

// fast-check prints the seed and counterexample path of a failing run; pass them back as { seed, path } to replay it.

const simulation: fc.Arbitrary<SimulationOptions> = fc.record({
  seed: fc.integer(),
  processes: fc.integer({ min: 1, max: 8 }),
  opsPerProcess: fc.integer({ min: 1, max: 40 }),
  keys: fc.integer({ min: 1, max: 3 }),
  writeRatio: fc.double({ min: 0.1, max: 0.9, noNaN: true }),
  deleteRatio: fc.double({ min: 0, max: 0.3, noNaN: true }),
  unknownRatio: fc.double({ min: 0, max: 0.3, noNaN: true }),
  failRatio: fc.double({ min: 0, max: 0.2, noNaN: true }),
  unknownEffectRatio: fc.double({ min: 0, max: 1, noNaN: true }),
  durationMsMax: fc.integer({ min: 1, max: 20 }),
});

/** A stale value for `read`: written by an acknowledged write that a later acknowledged write overwrote before `read` began. */
function staleValueFor(read: Operation, ops: readonly Operation[]): string | undefined {
  const writes = ops.filter((op) => op.key === read.key && op.kind === 'write' && op.outcome === 'ok');
  for (const write of writes) {
    if (write.value === null || write.value === read.value) continue;
    const overwritten = writes.some(
      (other) => other !== write && other.invokedAt > write.completedAt && other.completedAt < read.invokedAt,
    );
    if (overwritten) return write.value;
  }
  return undefined;
}

describe('checkRegister properties (fast-check)', () => {
  it('accepts every history of a simulated linearizable register', () => {
    fc.assert(
      fc.property(simulation, (options) => {
        const result = checkRegister(simulateRegisterHistory(options));
        expect(result.violations).toEqual([]);
        expect(result.valid).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('accepts long simulated histories with unknown writes taking effect late or never', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const history = simulateRegisterHistory({
          seed,
          processes: 8,
          opsPerProcess: 150,
          keys: 1,
          writeRatio: 0.5,
          deleteRatio: 0.1,
          unknownRatio: 0.1,
          failRatio: 0.05,
          unknownEffectRatio: 0.5,
          durationMsMax: 10,
        });
        expect(checkRegister(history).valid).toBe(true);
      }),
      { numRuns: 5 },
    );
  });

  it('rejects a simulated history once one read returns a value never written or strictly overwritten', () => {
    fc.assert(
      fc.property(simulation, fc.nat(), fc.constantFrom('never-written', 'overwritten'), (options, pick, mutation) => {
        const ops = simulateRegisterHistory(options);
        const reads = ops.filter((op) => op.kind === 'read' && op.outcome === 'ok');
        fc.pre(reads.length > 0);
        const read = reads[pick % reads.length];
        const stale = mutation === 'overwritten' ? staleValueFor(read, ops) : undefined;
        const mutated = ops.map((op) => (op === read ? { ...op, value: stale ?? 'never-written' } : op));

        const result = checkRegister(mutated);
        expect(result.valid).toBe(false);
        expect(result.violations.map((violation) => violation.key)).toEqual([read.key]);
      }),
      { numRuns: 150 },
    );
  });

  it('agrees with a brute-force check of the definition on small histories, valid or not', () => {
    const opSpec = fc.record({
      isWrite: fc.boolean(),
      deletes: fc.boolean(),
      valuePick: fc.nat(),
      invokedAt: fc.integer({ min: 0, max: 12 }),
      durationMs: fc.integer({ min: 0, max: 6 }),
      outcome: fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'ok', 'unknown', 'unknown', 'fail'),
      clientGaveUp: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(opSpec, { minLength: 1, maxLength: 8 }), (specs) => {
        const writeValues = specs.map((spec, i) => (spec.isWrite && !spec.deletes ? `w${i}` : null)).filter((v) => v !== null);
        const readable = [null, 'ghost', ...writeValues];
        const history: Operation[] = specs.map((spec, i) => ({
          id: i,
          process: i,
          key: 'k',
          kind: spec.isWrite ? 'write' : 'read',
          value: spec.isWrite ? (spec.deletes ? null : `w${i}`) : readable[spec.valuePick % readable.length],
          outcome: spec.outcome,
          invokedAt: spec.invokedAt,
          // An unknown outcome's completion is only when the client gave up, if it did: the checker must ignore it.
          completedAt:
            spec.outcome === 'unknown' && !spec.clientGaveUp ? Infinity : spec.invokedAt + spec.durationMs,
        }));
        expect(checkRegister(history).valid).toBe(referenceLinearizable(history));
      }),
      { numRuns: 2000 },
    );
  });
});
