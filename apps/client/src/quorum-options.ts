import type { Argv } from 'yargs';
import { positiveInteger } from './option-values';

/** `--w`: the write quorum of one request. */
export interface WriteQuorumArgs {
  w: number | undefined;
}

/** `--r`: the read quorum of one request. */
export interface ReadQuorumArgs {
  r: number | undefined;
}

/**
 * Declares `--w N`, sent as `?w=N`. Only positivity is checked here: the upper bound is the cluster's N, which the server
 * checks (`400 KV_BAD_REQUEST`).
 */
export function withWriteQuorum<T>(y: Argv<T>): Argv<T & WriteQuorumArgs> {
  return y.option('w', {
    type: 'number',
    describe: 'write quorum: acknowledgements each write waits for, 1..N (?w=)',
    requiresArg: true,
    coerce: positiveInteger('--w'),
  });
}

/** Declares `--r N`, sent as `?r=N`; the upper bound is checked by the server, as for {@link withWriteQuorum}. */
export function withReadQuorum<T>(y: Argv<T>): Argv<T & ReadQuorumArgs> {
  return y.option('r', {
    type: 'number',
    describe: 'read quorum: replies each read waits for, 1..N (?r=)',
    requiresArg: true,
    coerce: positiveInteger('--r'),
  });
}
