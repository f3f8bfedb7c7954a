/**
 * Lookup throughput of `@kv/ring`: preference lists (n = 3) per second for rings of 3 and 100 nodes with the default
 * vnodes and 16-byte keys, plus `primary` and `hashKey` alone for reference.
 *
 * Run from the repo root: `npx tsx libs/ring/bench/lookup.bench.ts` (or `node --import tsx libs/ring/bench/lookup.bench.ts`).
 * Method: keys are generated up front by a seeded generator (same keys every run); each case warms up, then runs
 * ROUNDS timed rounds of LOOKUPS_PER_ROUND lookups and reports the median round (min and max beside it, as the machine
 * is shared and noisy).
 */
import { DEFAULT_VNODES, HashRing, hashKey } from '../src/index';
import { seededRandom } from '../src/testing/keys';

const KEY_BYTES = 16;
// A power of two so the key index wraps with a mask; large enough that keys spread over every token of a 100-node ring.
const KEY_COUNT = 1 << 16;
const WARMUP_LOOKUPS = 1_000_000;
const LOOKUPS_PER_ROUND = 1_000_000;
const ROUNDS = 7;
const REPLICAS = 3;
const KEY_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function makeKeys(): string[] {
  const random = seededRandom(0x5eed);
  const keys: string[] = [];
  for (let k = 0; k < KEY_COUNT; k++) {
    let key = '';
    for (let c = 0; c < KEY_BYTES; c++) {
      key += KEY_ALPHABET[Math.floor(random() * KEY_ALPHABET.length)];
    }
    keys.push(key);
  }
  return keys;
}

function nodeIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `node${i + 1}`);
}

// Returns a value derived from every result so the lookups cannot be optimised away.
type Lookup = (key: string) => number;

function runLookups(lookup: Lookup, keys: readonly string[], count: number): number {
  let sink = 0;
  const mask = keys.length - 1;
  for (let i = 0; i < count; i++) {
    sink += lookup(keys[i & mask]);
  }
  return sink;
}

interface Result {
  readonly name: string;
  readonly medianPerSecond: number;
  readonly minPerSecond: number;
  readonly maxPerSecond: number;
}

function measure(name: string, lookup: Lookup, keys: readonly string[]): Result {
  let sink = runLookups(lookup, keys, WARMUP_LOOKUPS);
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const startNs = process.hrtime.bigint();
    sink += runLookups(lookup, keys, LOOKUPS_PER_ROUND);
    const elapsedNs = Number(process.hrtime.bigint() - startNs);
    rates.push(LOOKUPS_PER_ROUND / (elapsedNs / 1e9));
  }
  if (sink === -1) {
    console.log('unreachable', sink);
  }
  rates.sort((a, b) => a - b);
  return {
    name,
    medianPerSecond: rates[Math.floor(rates.length / 2)],
    minPerSecond: rates[0],
    maxPerSecond: rates[rates.length - 1],
  };
}

function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US').padStart(12);
}

function main(): void {
  const keys = makeKeys();
  const results: Result[] = [];
  for (const size of [3, 100]) {
    const ring = new HashRing(nodeIds(size), { vnodes: DEFAULT_VNODES });
    results.push(
      measure(`preferenceList n=${REPLICAS}, ${size} nodes`, (key) => ring.preferenceList(key, REPLICAS).length, keys),
    );
    results.push(measure(`primary, ${size} nodes`, (key) => ring.primary(key).length, keys));
  }
  results.push(measure('hashKey alone', (key) => hashKey(key), keys));

  console.log(
    `@kv/ring lookup benchmark: node ${process.version}, vnodes ${DEFAULT_VNODES}, ${KEY_BYTES}-byte keys, ` +
      `${ROUNDS} rounds of ${LOOKUPS_PER_ROUND.toLocaleString('en-US')} lookups`,
  );
  console.log(`${'case'.padEnd(36)} ${'median/s'.padStart(12)} ${'min/s'.padStart(12)} ${'max/s'.padStart(12)}`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(36)} ${formatRate(r.medianPerSecond)} ${formatRate(r.minPerSecond)} ${formatRate(r.maxPerSecond)}`,
    );
  }
}

main();
