import type { Hint, HintStore } from '@kv/quorum';

/**
 * Test only (`TEST_WEAKEN=hints-without-expiry`): the hint store `store`, recording every hint without its
 * `expiresAt`, as a proxy that lost the expiry on the way to a replica that missed a write would. That replica then
 * holds the value, at its version, without expiry: the other replicas turn theirs into tombstones at that version, a
 * read that meets it takes the value (a value wins over a tombstone at an equal version) and serves it forever. The
 * TTL checker must catch it (apps/cluster-e2e/src/weakened.spec.ts).
 */
export function hintsWithoutExpiry(store: HintStore): HintStore {
  const strip = (hint: Hint): Hint => (hint.expiresAt === undefined ? hint : { nodeId: hint.nodeId, key: hint.key, value: hint.value, version: hint.version });
  return {
    add: (hint) => store.add(strip(hint)),
    pending: (nodeId, limit) => store.pending(nodeId, limit),
    remove: (hint) => store.remove(hint),
    nodes: () => store.nodes(),
    get count() {
      return store.count;
    },
    get bytes() {
      return store.bytes;
    },
    get dropped() {
      return store.dropped;
    },
    get diskDropped() {
      return store.diskDropped;
    },
    close: () => store.close(),
  };
}
