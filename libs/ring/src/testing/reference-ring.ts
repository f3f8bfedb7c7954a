import { tokenReference } from './tokens';

/**
 * A deliberately naive ring, written straight from the ring rule (README, "The ring rule"), that the specs compare
 * `HashRing` against: tokens from the test's own CRC32-then-fmix32 (`tokenReference`), a linear scan instead of a binary
 * search, a `Set` walk instead of the cached one.
 */
export interface ReferenceToken {
  readonly token: number;
  readonly node: string;
}

/** The tokens of `nodeIds`, sorted by value and then by node id. */
export function referenceTokens(nodeIds: readonly string[], vnodes: number): ReferenceToken[] {
  const tokens: ReferenceToken[] = [];
  for (const node of nodeIds) {
    for (let i = 0; i < vnodes; i++) {
      tokens.push({ token: tokenReference(node, i), node });
    }
  }
  return tokens.sort((a, b) => a.token - b.token || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** Position of the first token strictly greater than `hash`, or 0 when there is none. */
export function referencePosition(tokens: readonly ReferenceToken[], hash: number): number {
  const position = tokens.findIndex((t) => t.token > hash);
  return position === -1 ? 0 : position;
}

/** The first `n` distinct nodes walking clockwise from the owner of `hash`. */
export function referencePreferenceList(tokens: readonly ReferenceToken[], hash: number, n: number): string[] {
  const start = referencePosition(tokens, hash);
  const nodes = new Set<string>();
  for (let step = 0; step < tokens.length && nodes.size < n; step++) {
    nodes.add(tokens[(start + step) % tokens.length].node);
  }
  return [...nodes];
}
