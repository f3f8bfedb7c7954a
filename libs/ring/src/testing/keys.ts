/**
 * Test fixtures: reproducible key sets shaped like real keys. Not part of the package (excluded from the build).
 */

/** mulberry32: a small seeded generator, so a key set is the same in every run. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

function hex(random: () => number, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) {
    out += Math.floor(random() * 16).toString(16);
  }
  return out;
}

const WORDS = ['alpha', 'bravo', 'ceres', 'delta', 'échelle', 'forêt', 'gamma', 'hôtel', 'ísland', 'juliet', '東京', 'zürich'];

/**
 * `count` distinct keys in five everyday shapes, in turn: sequential ids (`user:123`), UUIDs, paths with dates,
 * e-mail-like keys with non-ASCII words, and random 16-character tokens. Deterministic for a given `seed`.
 */
export function naturalKeys(count: number, seed = 1): string[] {
  const random = seededRandom(seed);
  const keys = new Set<string>();
  for (let i = 0; keys.size < count; i++) {
    switch (i % 5) {
      case 0:
        keys.add(`user:${i}`);
        break;
      case 1:
        keys.add(`${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-a${hex(random, 3)}-${hex(random, 12)}`);
        break;
      case 2: {
        const day = String(1 + (i % 28)).padStart(2, '0');
        keys.add(`orders/2024-03-${day}/${i}`);
        break;
      }
      case 3:
        keys.add(`${WORDS[i % WORDS.length]}.${i}@example.org`);
        break;
      default:
        keys.add(hex(random, 16));
    }
  }
  return [...keys];
}

/** `node1` .. `node<count>`: the node ids of the default cluster (docs/configuration.md), extended. */
export function nodeIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `node${i + 1}`);
}
