/**
 * `@kv/ring`: the consistent-hash ring of kv. Pure computation, no I/O: it maps keys to preference lists of data nodes
 * and lists the hash ranges that move when membership changes.
 */
export { diffRings } from './diff-rings';
export type { PrimaryMove, ReplicaSetMove } from './diff-rings';
export { hashKey, vnodeToken } from './hash';
export { rangeContains, rangeSize } from './hash-range';
export type { HashRange } from './hash-range';
export { HashRing } from './hash-ring';
export type { HashRingOptions, RingToken } from './hash-ring';
export {
  DEFAULT_VNODES,
  HASH_MAX,
  HASH_SPACE_SIZE,
  NODE_ID_LENGTH_MAX,
  RING_NODES_MAX,
  RING_TOKENS_MAX,
  VNODES_MAX,
} from './limits';
