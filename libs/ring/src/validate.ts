import { HASH_MAX, NODE_ID_LENGTH_MAX, VNODES_MAX } from './limits';

// An unpaired surrogate has no UTF-8 encoding, so other implementations could not reproduce its tokens.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Throws `TypeError` unless `id` is a usable node id: a non-empty, well-formed string of at most `NODE_ID_LENGTH_MAX`. */
export function assertNodeId(id: unknown): asserts id is string {
  if (typeof id !== 'string') {
    throw new TypeError(`node id must be a string, got ${typeof id}`);
  }
  if (id.length === 0) {
    throw new TypeError('node id must not be empty');
  }
  if (id.length > NODE_ID_LENGTH_MAX) {
    throw new TypeError(`node id is ${id.length} characters long, the maximum is ${NODE_ID_LENGTH_MAX}`);
  }
  if (LONE_SURROGATE.test(id)) {
    throw new TypeError(`node id ${JSON.stringify(id)} is not well-formed Unicode (lone surrogate)`);
  }
}

/** Throws `TypeError` unless `vnodes` is an integer in `1..VNODES_MAX`. */
export function assertVnodes(vnodes: unknown): asserts vnodes is number {
  if (typeof vnodes !== 'number' || !Number.isInteger(vnodes) || vnodes < 1 || vnodes > VNODES_MAX) {
    throw new TypeError(`vnodes must be an integer in 1..${VNODES_MAX}, got ${String(vnodes)}`);
  }
}

/** Throws `TypeError` unless `n` (a replica count) is an integer >= 1. */
export function assertReplicaCount(n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new TypeError(`n must be an integer >= 1, got ${String(n)}`);
  }
}

/** Throws `TypeError` unless `hash` is an integer in `0..HASH_MAX`. */
export function assertHash(hash: unknown): asserts hash is number {
  if (typeof hash !== 'number' || !Number.isInteger(hash) || hash < 0 || hash > HASH_MAX) {
    throw new TypeError(`hash must be an integer in 0..${HASH_MAX}, got ${String(hash)}`);
  }
}

/** Throws `TypeError` unless `key` is a string. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new TypeError(`key must be a string, got ${typeof key}`);
  }
}
