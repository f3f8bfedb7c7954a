/**
 * Balance of the ring rule: how much more than the mean the most-loaded node owns, for the ring's tokens (CRC32 of
 * "<id>#<i>" passed through MurmurHash3's fmix32, computed by `vnodeToken`) and, for comparison, for plain CRC32 tokens
 * (linear, so the tokens of equal-length ids are shifted copies of one pattern) and for MD5 tokens (independent random
 * points).
 *
 * Run from the repo root: `npx tsx libs/ring/bench/balance.bench.ts` (or `node --import tsx ...`). Deterministic: the
 * clusters are named `c<trial>-n<j>`, so every run prints the same table. Shares are exact arc lengths, not key counts.
 */
import { createHash } from 'node:crypto';
import CRC32 from 'crc-32';
import { HASH_SPACE_SIZE, HashRing, vnodeToken } from '../src/index';

const CLUSTERS = 300;
const NODES_PER_CLUSTER = 3;
const VNODES_CASES = [64, 128, 256, 1024];
const TARGET_MAX_OVER_MEAN = 1.15;

/** The token of virtual node `i` of node `id` under one token rule. */
type TokenRule = (id: string, i: number) => number;

const ringRule: TokenRule = vnodeToken;
const plainCrc32: TokenRule = (id, i) => CRC32.str(`${id}#${i}`) >>> 0;
const md5: TokenRule = (id, i) => createHash('md5').update(`${id}#${i}`).digest().readUInt32BE(0);

// Exact share of the circle owned by each node under "first token strictly greater than the hash".
function shares(ids: readonly string[], vnodes: number, rule: TokenRule): number[] {
  const tokens = ids.flatMap((node, index) => Array.from({ length: vnodes }, (_, i) => ({ token: rule(node, i), index })));
  tokens.sort((a, b) => a.token - b.token || a.index - b.index);
  const owned = new Array<number>(ids.length).fill(0);
  tokens.forEach(({ token, index }, p) => {
    const previous = p === 0 ? tokens[tokens.length - 1].token - HASH_SPACE_SIZE : tokens[p - 1].token;
    owned[index] += (token - previous) / HASH_SPACE_SIZE;
  });
  return owned;
}

function maxOverMean(ids: readonly string[], vnodes: number, rule: TokenRule): number {
  return Math.max(...shares(ids, vnodes, rule)) * ids.length;
}

function summarise(ratios: number[]): string {
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  const above = ratios.filter((r) => r > TARGET_MAX_OVER_MEAN).length / ratios.length;
  return `${mean.toFixed(3)} (${Math.round(above * 100)}% > ${TARGET_MAX_OVER_MEAN})`.padEnd(24);
}

// The shares read from a HashRing's own tokens, so the first line is tied to the implementation.
function ringShares(ring: HashRing): Map<string, number> {
  const owned = new Map<string, number>();
  for (let p = 0; p < ring.tokenCount; p++) {
    const { token, node } = ring.tokenAt(p);
    const previous = p === 0 ? ring.tokenAt(ring.tokenCount - 1).token - HASH_SPACE_SIZE : ring.tokenAt(p - 1).token;
    owned.set(node, (owned.get(node) ?? 0) + (token - previous) / HASH_SPACE_SIZE);
  }
  return owned;
}

function describeShares(ids: readonly string[], owned: readonly number[]): string {
  const listed = ids.map((node, index) => `${node} ${(owned[index] * 100).toFixed(2)}%`).join(', ');
  return `${listed}; max/mean ${(Math.max(...owned) * ids.length).toFixed(3)}`;
}

function main(): void {
  const ring = new HashRing(['node1', 'node2', 'node3']);
  const owned = ringShares(ring);
  const ringOwned = ring.nodes.map((id) => owned.get(id) ?? 0);
  console.log(`HashRing node1..node3, ${ring.vnodes} vnodes: ${describeShares(ring.nodes, ringOwned)}`);
  const plain = shares(ring.nodes, ring.vnodes, plainCrc32);
  console.log(`  with plain CRC32 tokens instead: ${describeShares(ring.nodes, plain)}`);
  console.log(`\n${CLUSTERS} clusters of ${NODES_PER_CLUSTER} nodes: mean of max/mean (share of clusters above target)`);
  console.log(`${'vnodes'.padEnd(8)}${'CRC32 + fmix32 (rule)'.padEnd(24)}${'plain CRC32'.padEnd(24)}${'MD5'.padEnd(24)}`);
  for (const vnodes of VNODES_CASES) {
    const cells = [ringRule, plainCrc32, md5].map((rule) => {
      const ratios: number[] = [];
      for (let trial = 0; trial < CLUSTERS; trial++) {
        const ids = Array.from({ length: NODES_PER_CLUSTER }, (_, j) => `c${trial}-n${j}`);
        ratios.push(maxOverMean(ids, vnodes, rule));
      }
      return summarise(ratios);
    });
    console.log(`${String(vnodes).padEnd(8)}${cells.join('')}`);
  }
}

main();
