import { hashString, tokenOf } from './hash';
import { invariant } from './invariant';
import { DEFAULT_VNODES, HASH_MAX, RING_NODES_MAX, RING_TOKENS_MAX } from './limits';
import { assertHash, assertKey, assertNodeId, assertReplicaCount, assertVnodes } from './validate';

/** Options of a {@link HashRing}. */
export interface HashRingOptions {
  /** Tokens (virtual nodes) per physical node: an integer in `1..VNODES_MAX`. Default `DEFAULT_VNODES` (128). */
  readonly vnodes?: number;
}

/** One token of a ring and the node that owns it. */
export interface RingToken {
  /** Index in clockwise order, `0..tokenCount - 1`; position 0 holds the lowest token value. */
  readonly position: number;
  /** The token value, an unsigned 32-bit integer. */
  readonly token: number;
  /** Id of the physical node that owns the token. */
  readonly node: string;
}

// A token and its node index share one double (token * 2^16 + index, exact below 2^53), so a single numeric sort of a
// Float64Array orders tokens by value and breaks ties by node id, since indexes follow the sorted ids.
const NODE_INDEX_RADIX = 0x10000;
invariant(RING_NODES_MAX <= NODE_INDEX_RADIX, 'node indexes must fit the 16-bit owner table');

// Walks for replica counts up to this are cached per token position; real replication factors are 1 to 5, and the bound
// keeps the cache at most tokens x 16 entries. Longer walks are computed on every call.
const PREFERENCE_CACHE_NODES_MAX = 16;

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A consistent-hash ring with virtual nodes: the map from keys to the physical nodes that hold them.
 *
 * The rule: node `id` owns `vnodes` tokens, token `i` being `fmix32(CRC32("<id>#<i>"))` (see `vnodeToken`). A key
 * hashes to `hashKey(key)` (plain CRC32) and belongs to the first token strictly greater than its hash, wrapping past
 * the highest token to the lowest. Equal token values are ordered by node id (UTF-16 code unit order, as JavaScript's
 * `<` compares strings). The preference list of a key walks clockwise from that token and takes the first `n` distinct
 * physical nodes.
 *
 * Guarantees:
 * - Immutable value: membership and vnodes never change after construction; `withNode`/`withoutNode` return new rings,
 *   so a caller can swap rings atomically by replacing one reference. Lookups fill an internal cache, which has no
 *   observable effect.
 * - Deterministic: the same node ids (in any order) and vnodes give the same ring in every process.
 * - Lookups are a CRC32 and a binary search over a sorted `Uint32Array`, then a clockwise walk that is cached per token
 *   position for `n <= 16` (longer walks are recomputed, and may visit up to every token).
 * - An empty ring (no nodes) can be built, for instance by removing the last node, but every lookup on it throws.
 */
export class HashRing {
  private readonly nodeIds: readonly string[];
  private readonly nodeIndexById: ReadonlyMap<string, number>;
  private readonly vnodesPerNode: number;
  private readonly tokenValues: Uint32Array;
  private readonly tokenOwners: Uint16Array;
  private readonly walkCache: (readonly string[] | undefined)[];
  private readonly walkSeen: Uint32Array;
  private walkMark = 0;

  /**
   * Builds the ring of `nodeIds`, each with `options.vnodes` tokens. The order of `nodeIds` does not matter.
   *
   * Cost: one CRC32 and one fmix32 per token, and one sort: about 2.5 ms for 100 nodes x 128 vnodes, 0.3 s at
   * `RING_TOKENS_MAX`.
   *
   * @throws TypeError if `nodeIds` is not an array; an id is not a string, is empty, is longer than
   *   `NODE_ID_LENGTH_MAX` or has a lone surrogate; ids repeat; there are more than `RING_NODES_MAX` ids; `vnodes` is not
   *   an integer in `1..VNODES_MAX`; or nodes x vnodes exceeds `RING_TOKENS_MAX`.
   */
  constructor(nodeIds: readonly string[], options: HashRingOptions = {}) {
    if (!Array.isArray(nodeIds)) {
      throw new TypeError('nodeIds must be an array of node ids');
    }
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object');
    }
    const vnodes = options.vnodes ?? DEFAULT_VNODES;
    assertVnodes(vnodes);
    if (nodeIds.length > RING_NODES_MAX) {
      throw new TypeError(`a ring holds at most ${RING_NODES_MAX} nodes, got ${nodeIds.length}`);
    }
    for (const id of nodeIds) {
      assertNodeId(id);
    }
    const sorted = [...nodeIds].sort(compareIds);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i] === sorted[i - 1]) {
        throw new TypeError(`duplicate node id ${JSON.stringify(sorted[i])}`);
      }
    }
    const tokenCount = sorted.length * vnodes;
    if (tokenCount > RING_TOKENS_MAX) {
      throw new TypeError(
        `${sorted.length} nodes x ${vnodes} vnodes = ${tokenCount} tokens, the maximum is ${RING_TOKENS_MAX}`,
      );
    }

    const packed = new Float64Array(tokenCount);
    let k = 0;
    for (let index = 0; index < sorted.length; index++) {
      for (let vnode = 0; vnode < vnodes; vnode++) {
        // vnodeToken(id, vnode) without its argument checks, which are already done above.
        packed[k++] = tokenOf(sorted[index], vnode) * NODE_INDEX_RADIX + index;
      }
    }
    packed.sort();
    const tokenValues = new Uint32Array(tokenCount);
    const tokenOwners = new Uint16Array(tokenCount);
    for (let p = 0; p < tokenCount; p++) {
      const value = Math.floor(packed[p] / NODE_INDEX_RADIX);
      tokenValues[p] = value;
      tokenOwners[p] = packed[p] - value * NODE_INDEX_RADIX;
      invariant(p === 0 || tokenValues[p - 1] <= value, 'token values are sorted');
    }

    this.nodeIds = Object.freeze(sorted);
    this.nodeIndexById = new Map(sorted.map((id, index) => [id, index]));
    this.vnodesPerNode = vnodes;
    this.tokenValues = tokenValues;
    this.tokenOwners = tokenOwners;
    this.walkCache = Array.from({ length: tokenCount }, () => undefined);
    this.walkSeen = new Uint32Array(sorted.length);
  }

  /** The node ids, sorted in UTF-16 code unit order. The array is frozen. */
  get nodes(): readonly string[] {
    return this.nodeIds;
  }

  /** Number of physical nodes. */
  get size(): number {
    return this.nodeIds.length;
  }

  /** Tokens per physical node. */
  get vnodes(): number {
    return this.vnodesPerNode;
  }

  /** Number of tokens on the ring: `size * vnodes`. */
  get tokenCount(): number {
    return this.tokenValues.length;
  }

  /** Whether `id` is a member of this ring. Never throws: a non-string simply is not a member. */
  has(id: string): boolean {
    return this.nodeIndexById.has(id);
  }

  /**
   * A new ring with the same vnodes and members plus `id`. This ring is unchanged.
   *
   * Only keys whose new primary is `id` change primary; `diffRings(this, result)` lists them as ranges.
   *
   * @throws TypeError if `id` is not a valid node id, is already a member, or the new ring would exceed
   *   `RING_NODES_MAX` or `RING_TOKENS_MAX`.
   */
  withNode(id: string): HashRing {
    assertNodeId(id);
    if (this.has(id)) {
      throw new TypeError(`node ${JSON.stringify(id)} is already on the ring`);
    }
    return new HashRing([...this.nodeIds, id], { vnodes: this.vnodesPerNode });
  }

  /**
   * A new ring with the same vnodes and members minus `id`. This ring is unchanged. Removing the last node gives an
   * empty ring, on which lookups throw.
   *
   * Only keys whose primary was `id` change primary.
   *
   * @throws TypeError if `id` is not a string or is not a member.
   */
  withoutNode(id: string): HashRing {
    if (typeof id !== 'string' || !this.has(id)) {
      throw new TypeError(`node ${JSON.stringify(id)} is not on the ring`);
    }
    return new HashRing(
      this.nodeIds.filter((member) => member !== id),
      { vnodes: this.vnodesPerNode },
    );
  }

  /**
   * Whether `other` is the same ring: same vnodes and same members, hence identical tokens and lookups.
   */
  equals(other: HashRing): boolean {
    if (!(other instanceof HashRing) || other.vnodesPerNode !== this.vnodesPerNode || other.size !== this.size) {
      return false;
    }
    return this.nodeIds.every((id, index) => other.nodeIds[index] === id);
  }

  /**
   * The preference list of `key`: the first `min(n, size)` distinct physical nodes met walking clockwise from the token
   * that owns `hashKey(key)`, primary first.
   *
   * Guarantees: no node appears twice; the list has exactly `min(n, size)` entries; its first entry is `primary(key)`;
   * the list for `n` is a prefix of the list for any larger `n`. The returned array is the caller's to keep or change.
   *
   * @throws TypeError if `key` is not a string, `n` is not an integer >= 1, or the ring is empty.
   */
  preferenceList(key: string, n: number): string[] {
    assertKey(key);
    assertReplicaCount(n);
    this.assertNotEmpty();
    return this.walkFrom(this.positionOfHash(hashString(key)), n);
  }

  /**
   * The preference list of a hash rather than a key: what `preferenceList` returns for any key with that hash. Used to
   * reason about whole ranges, for instance when rebalancing.
   *
   * @throws TypeError if `hash` is not an integer in `0..HASH_MAX`, `n` is not an integer >= 1, or the ring is empty.
   */
  preferenceListOfHash(hash: number, n: number): string[] {
    assertHash(hash);
    assertReplicaCount(n);
    this.assertNotEmpty();
    return this.walkFrom(this.positionOfHash(hash), n);
  }

  /**
   * The primary (coordinator-preferred replica) of `key`: the owner of the first token strictly greater than its hash.
   * Always equals `preferenceList(key, 1)[0]`.
   *
   * @throws TypeError if `key` is not a string or the ring is empty.
   */
  primary(key: string): string {
    assertKey(key);
    this.assertNotEmpty();
    return this.nodeIds[this.tokenOwners[this.positionOfHash(hashString(key))]];
  }

  /**
   * The token that owns `hash`: the first token strictly greater than `hash`, or the lowest token when `hash` is at or
   * above the highest one. A hash equal to a token therefore belongs to the next token.
   *
   * @throws TypeError if `hash` is not an integer in `0..HASH_MAX` or the ring is empty.
   */
  ownerOfHash(hash: number): RingToken {
    assertHash(hash);
    this.assertNotEmpty();
    return this.tokenAtPosition(this.positionOfHash(hash));
  }

  /**
   * The token at `position` in clockwise order (position 0 holds the lowest value). With `tokenCount`, this lists the
   * whole ring.
   *
   * @throws TypeError if `position` is not an integer in `0..tokenCount - 1` (every position, on an empty ring).
   */
  tokenAt(position: number): RingToken {
    if (!Number.isInteger(position) || position < 0 || position >= this.tokenValues.length) {
      throw new TypeError(`position must be an integer in 0..${this.tokenValues.length - 1}, got ${String(position)}`);
    }
    return this.tokenAtPosition(position);
  }

  private tokenAtPosition(position: number): RingToken {
    return { position, token: this.tokenValues[position], node: this.nodeIds[this.tokenOwners[position]] };
  }

  private assertNotEmpty(): void {
    if (this.nodeIds.length === 0) {
      throw new TypeError('the ring has no nodes: a lookup needs at least one member');
    }
  }

  // First position whose token is strictly greater than hash (upper bound), wrapping to 0 past the highest token.
  private positionOfHash(hash: number): number {
    const tokens = this.tokenValues;
    let low = 0;
    let high = tokens.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (tokens[middle] > hash) {
        high = middle;
      } else {
        low = middle + 1;
      }
    }
    return low === tokens.length ? 0 : low;
  }

  private walkFrom(position: number, n: number): string[] {
    const count = n < this.nodeIds.length ? n : this.nodeIds.length;
    const cached = this.walkCache[position];
    if (cached !== undefined && cached.length >= count) {
      return cached.slice(0, count);
    }
    const walk = this.walk(position, count);
    if (count <= PREFERENCE_CACHE_NODES_MAX) {
      this.walkCache[position] = walk;
      return walk.slice();
    }
    return walk;
  }

  // Every node owns at least one token, so one lap of the ring meets all of them and the walk ends within tokenCount
  // steps. `walkSeen` marks the nodes met in this walk; a new mark per walk avoids clearing it.
  private walk(position: number, count: number): string[] {
    const owners = this.tokenOwners;
    const seen = this.walkSeen;
    const total = owners.length;
    let mark = this.walkMark + 1;
    if (mark > HASH_MAX) {
      seen.fill(0);
      mark = 1;
    }
    this.walkMark = mark;
    const walk: string[] = [];
    let p = position;
    for (let steps = 0; walk.length < count; steps++) {
      invariant(steps < total, 'a preference-list walk meets every node within one lap');
      const owner = owners[p];
      if (seen[owner] !== mark) {
        seen[owner] = mark;
        walk.push(this.nodeIds[owner]);
      }
      p = p + 1 === total ? 0 : p + 1;
    }
    return walk;
  }
}
