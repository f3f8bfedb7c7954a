/**
 * Limits of the hash ring. Each is part of the public contract: inputs beyond them throw `TypeError`.
 */

/**
 * Virtual nodes (tokens) per physical node when none is given.
 * Why 128: with 3 to 100 nodes it keeps a ring small (at most 12,800 tokens, about 100 KiB) while spreading each node's
 * share over many arcs, and it is the `VNODES` default of the proxy.
 */
export const DEFAULT_VNODES = 128;

/**
 * Largest accepted `vnodes`. Why: more tokens per node stop improving balance long before this, and the bound keeps a
 * ring's build time and memory predictable.
 */
export const VNODES_MAX = 4096;

/**
 * Largest number of physical nodes on one ring. Why: far beyond a cluster one proxy can fan out to; it also keeps node
 * indexes within the 16-bit owner table.
 */
export const RING_NODES_MAX = 4096;

/**
 * Largest number of tokens (nodes x vnodes) on one ring. Why: bounds memory (about 6 bytes per token in the sorted tables,
 * plus the lazily filled preference-list cache) and build time (one CRC32 per token).
 */
export const RING_TOKENS_MAX = 1 << 20;

/**
 * Longest node id, in UTF-16 code units. Why: ids are names from configuration that appear in logs and metrics; a longer
 * one is a configuration mistake.
 */
export const NODE_ID_LENGTH_MAX = 256;

/** Largest hash value: hashes and tokens are unsigned 32-bit integers in `0..HASH_MAX`. */
export const HASH_MAX = 0xffffffff;

/** Number of distinct hash values (2^32); the ring is this circle of positions. */
export const HASH_SPACE_SIZE = 0x100000000;
