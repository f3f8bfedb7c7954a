/** The operations `kv bench` generates. */
export const BENCH_OPS = ['set', 'get', 'del'] as const;

/** One of {@link BENCH_OPS}. */
export type BenchOp = (typeof BENCH_OPS)[number];

/** Relative weights of the operations: `set=50,get=50` sends about as many sets as gets. */
export type OpMix = Readonly<Record<BenchOp, number>>;

/** The default mix: half writes, half reads. */
export const OP_MIX_DEFAULT = 'set=50,get=50';

/** Largest weight of one operation: weights are relative, so a larger one adds nothing but overflow risk. */
export const OP_WEIGHT_MAX = 1_000_000;

/**
 * Parses `--mix`: comma-separated `op=weight` pairs, `op` one of `set`, `get`, `del` (each at most once), `weight` a
 * non-negative integer; operations left out weigh 0; the weights must add up to more than 0.
 * @throws Error with a message for the user when the text breaks any of these rules.
 */
export function parseMix(text: string): OpMix {
  const mix: Record<BenchOp, number> = { set: 0, get: 0, del: 0 };
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (match === null) throw new Error(`--mix: "${part}" is not op=weight (e.g. set=50,get=50)`);
    const [, name, digits] = match;
    if (!isBenchOp(name)) throw new Error(`--mix: unknown operation "${name}" (known: ${BENCH_OPS.join(', ')})`);
    if (seen.has(name)) throw new Error(`--mix: "${name}" is given twice`);
    seen.add(name);
    const weight = Number(digits);
    if (weight > OP_WEIGHT_MAX) {
      throw new Error(`--mix: the weight of ${name} must be at most ${OP_WEIGHT_MAX}, got ${digits}`);
    }
    mix[name] = weight;
  }
  if (mix.set + mix.get + mix.del === 0) throw new Error('--mix: the weights must add up to more than 0');
  return mix;
}

/** `--mix` text of `mix`, operations of weight 0 left out: `set=50,get=50`. */
export function formatMix(mix: OpMix): string {
  return BENCH_OPS.filter((op) => mix[op] > 0)
    .map((op) => `${op}=${mix[op]}`)
    .join(',');
}

/** The operations of `mix` with a weight above 0, in the order of {@link BENCH_OPS}. */
export function mixOps(mix: OpMix): BenchOp[] {
  return BENCH_OPS.filter((op) => mix[op] > 0);
}

/**
 * Draws operations in proportion to their weights.
 */
export class OpPicker {
  private readonly ops: BenchOp[];
  private readonly thresholds: number[];

  constructor(mix: OpMix) {
    this.ops = mixOps(mix);
    const total = this.ops.reduce((sum, op) => sum + mix[op], 0);
    let cumulative = 0;
    this.thresholds = this.ops.map((op) => (cumulative += mix[op]) / total);
  }

  /** The operation for a uniform random number `u` in [0, 1). */
  pick(u: number): BenchOp {
    for (let i = 0; i < this.thresholds.length - 1; i++) {
      if (u < this.thresholds[i]) return this.ops[i];
    }
    return this.ops[this.ops.length - 1];
  }
}

function isBenchOp(name: string): name is BenchOp {
  return (BENCH_OPS as readonly string[]).includes(name);
}
