import CRC32 from 'crc-32';
import { HashRing } from './hash-ring';
import { DEFAULT_VNODES, HASH_MAX, NODE_ID_LENGTH_MAX, RING_NODES_MAX, RING_TOKENS_MAX, VNODES_MAX } from './limits';
import { naturalKeys, nodeIds } from './testing/keys';
import { referencePreferenceList, referenceTokens } from './testing/reference-ring';
import { tokenReference } from './testing/tokens';

const crc = (s: string): number => CRC32.str(s) >>> 0;

describe('HashRing: the ring rule on a ring small enough to check by hand', () => {
  // Three nodes with two tokens each: the expected ring is computed here from CRC32 and the test's own fmix32.
  const members = ['a', 'b', 'c'];
  const expected = members
    .flatMap((node) => [0, 1].map((i) => ({ token: tokenReference(node, i), node })))
    .sort((x, y) => x.token - y.token);
  const ring = new HashRing(members, { vnodes: 2 });

  it('holds the six tokens fmix32(CRC32("<id>#<i>")) in ascending order', () => {
    // The values themselves, so a reader can follow the cases below.
    expect(expected.map((t) => `${t.node}:${t.token}`)).toEqual([
      'a:719822058',
      'b:1275460737',
      'c:2241358939',
      'b:2579746465',
      'c:2860651012',
      'a:3249071573',
    ]);
    expect(ring.tokenCount).toBe(6);
    expected.forEach((t, position) => expect(ring.tokenAt(position)).toEqual({ position, ...t }));
  });

  it('gives a hash to the first token strictly greater than it', () => {
    expect(ring.ownerOfHash(719822057)).toEqual({ position: 0, token: 719822058, node: 'a' });
    expect(ring.ownerOfHash(1275460736).node).toBe('b');
    expect(ring.ownerOfHash(2000000000)).toEqual({ position: 2, token: 2241358939, node: 'c' });
    expect(ring.ownerOfHash(2860651011).node).toBe('c');
  });

  it('gives a hash equal to a token to the next token', () => {
    expect(ring.ownerOfHash(719822058)).toEqual({ position: 1, token: 1275460737, node: 'b' });
    expect(ring.ownerOfHash(2241358939)).toEqual({ position: 3, token: 2579746465, node: 'b' });
    expect(ring.ownerOfHash(2860651012).node).toBe('a');
  });

  it('wraps past the highest token to the lowest', () => {
    for (const hash of [3249071573, 3249071574, 4000000000, HASH_MAX, 0, 1, 719822057]) {
      expect(ring.ownerOfHash(hash)).toEqual({ position: 0, token: 719822058, node: 'a' });
    }
  });

  it('routes keys by their CRC32', () => {
    for (const key of ['x', 'user:1', 'orders/7', 'é', '']) {
      const hash = crc(key);
      const owner = expected.find((t) => t.token > hash) ?? expected[0];
      expect(ring.primary(key)).toBe(owner.node);
    }
  });

  it('walks clockwise for distinct nodes', () => {
    // From position 1 (b) the walk meets c, then b and c again (skipped), then a.
    expect(ring.preferenceListOfHash(719822058, 3)).toEqual(['b', 'c', 'a']);
    // From position 5 (a) it wraps: a, then a again at position 0 (skipped), then b.
    expect(ring.preferenceListOfHash(2860651012, 2)).toEqual(['a', 'b']);
    expect(ring.preferenceListOfHash(HASH_MAX, 3)).toEqual(['a', 'b', 'c']);
  });
});

describe('HashRing: equal token values', () => {
  // Two ids whose "<id>#0" collide under CRC32 (found by a birthday search), so their token #0 collides too, fmix32
  // being a bijection: a tie that only the node-id order can break.
  const low = 'n-1c75950f0711';
  const high = 'n-b2a31b82c052';

  it('orders equal tokens by node id, whatever the input order', () => {
    expect(crc(`${low}#0`)).toBe(crc(`${high}#0`));
    expect(tokenReference(low, 0)).toBe(tokenReference(high, 0));
    for (const members of [
      [low, high],
      [high, low],
    ]) {
      const ring = new HashRing(members, { vnodes: 1 });
      expect(ring.tokenAt(0).node).toBe(low);
      expect(ring.tokenAt(1).node).toBe(high);
      expect(ring.ownerOfHash(0).node).toBe(low);
      expect(ring.tokenAt(0).token).toBe(tokenReference(low, 0));
      expect(ring.ownerOfHash(tokenReference(low, 0)).node).toBe(low);
      expect(ring.preferenceListOfHash(12345, 2)).toEqual([low, high]);
    }
  });
});

describe('HashRing: membership', () => {
  it('exposes sorted, frozen node ids, size, vnodes and token count', () => {
    const ring = new HashRing(['node3', 'node1', 'node2']);
    expect(ring.nodes).toEqual(['node1', 'node2', 'node3']);
    expect(Object.isFrozen(ring.nodes)).toBe(true);
    expect(ring.size).toBe(3);
    expect(ring.vnodes).toBe(DEFAULT_VNODES);
    expect(ring.tokenCount).toBe(3 * DEFAULT_VNODES);
    expect(ring.has('node2')).toBe(true);
    expect(ring.has('node4')).toBe(false);
  });

  it('sorts ids by UTF-16 code units, like the tie-break', () => {
    expect(new HashRing(['b', 'B', 'a', 'é', 'Z', '10', '9'], { vnodes: 1 }).nodes).toEqual([
      '10',
      '9',
      'B',
      'Z',
      'a',
      'b',
      'é',
    ]);
  });

  it('withNode and withoutNode return new rings and leave the original unchanged', () => {
    const ring = new HashRing(['node1', 'node2'], { vnodes: 8 });
    const grown = ring.withNode('node3');
    const shrunk = grown.withoutNode('node1');
    expect(ring.nodes).toEqual(['node1', 'node2']);
    expect(grown.nodes).toEqual(['node1', 'node2', 'node3']);
    expect(shrunk.nodes).toEqual(['node2', 'node3']);
    expect(grown.vnodes).toBe(8);
    expect(shrunk.vnodes).toBe(8);
    expect(grown.equals(new HashRing(['node3', 'node2', 'node1'], { vnodes: 8 }))).toBe(true);
  });

  it('equals compares vnodes and members', () => {
    const ring = new HashRing(['a', 'b'], { vnodes: 4 });
    expect(ring.equals(new HashRing(['b', 'a'], { vnodes: 4 }))).toBe(true);
    expect(ring.equals(new HashRing(['a', 'b'], { vnodes: 5 }))).toBe(false);
    expect(ring.equals(new HashRing(['a', 'c'], { vnodes: 4 }))).toBe(false);
    expect(ring.equals(new HashRing(['a'], { vnodes: 4 }))).toBe(false);
  });

  it('can be empty, but a lookup on an empty ring throws', () => {
    const empty = new HashRing(['only']).withoutNode('only');
    expect(empty.size).toBe(0);
    expect(empty.tokenCount).toBe(0);
    expect(() => empty.preferenceList('k', 3)).toThrow(TypeError);
    expect(() => empty.preferenceListOfHash(0, 1)).toThrow(TypeError);
    expect(() => empty.primary('k')).toThrow(TypeError);
    expect(() => empty.ownerOfHash(0)).toThrow(TypeError);
    expect(() => empty.tokenAt(0)).toThrow(TypeError);
    expect(empty.withNode('again').primary('k')).toBe('again');
  });
});

describe('HashRing: invalid input throws TypeError', () => {
  const tooManyNodes = Array.from({ length: RING_NODES_MAX + 1 }, (_, i) => `n${i}`);
  const tooManyTokens = nodeIds(Math.floor(RING_TOKENS_MAX / VNODES_MAX) + 1);

  it.each<[string, unknown, unknown]>([
    ['members not an array', 'node1,node2', undefined],
    ['empty id', ['a', ''], undefined],
    ['non-string id', ['a', 7], undefined],
    ['null id', [null], undefined],
    ['duplicate ids', ['a', 'b', 'a'], undefined],
    ['id too long', ['x'.repeat(NODE_ID_LENGTH_MAX + 1)], undefined],
    ['id with a lone surrogate', ['node\uD800'], undefined],
    ['vnodes 0', ['a'], { vnodes: 0 }],
    ['vnodes negative', ['a'], { vnodes: -1 }],
    ['vnodes fractional', ['a'], { vnodes: 1.5 }],
    ['vnodes NaN', ['a'], { vnodes: Number.NaN }],
    ['vnodes a string', ['a'], { vnodes: '128' }],
    ['vnodes above VNODES_MAX', ['a'], { vnodes: VNODES_MAX + 1 }],
    ['options not an object', ['a'], 128],
    ['more than RING_NODES_MAX nodes', tooManyNodes, { vnodes: 1 }],
    ['more than RING_TOKENS_MAX tokens', tooManyTokens, { vnodes: VNODES_MAX }],
  ])('constructor: %s', (_case, members, options) => {
    expect(() => new HashRing(members as string[], options as { vnodes?: number })).toThrow(TypeError);
  });

  it('accepts the limits themselves', () => {
    expect(new HashRing(['x'.repeat(NODE_ID_LENGTH_MAX)], { vnodes: VNODES_MAX }).tokenCount).toBe(VNODES_MAX);
    expect(new HashRing(['a'], { vnodes: 1 }).tokenCount).toBe(1);
  });

  const ring = new HashRing(['node1', 'node2', 'node3'], { vnodes: 4 });

  it.each<[string, () => unknown]>([
    ['n = 0', () => ring.preferenceList('k', 0)],
    ['n negative', () => ring.preferenceList('k', -3)],
    ['n fractional', () => ring.preferenceList('k', 2.5)],
    ['n NaN', () => ring.preferenceList('k', Number.NaN)],
    ['n a string', () => ring.preferenceList('k', '3' as unknown as number)],
    ['key not a string', () => ring.preferenceList(3 as unknown as string, 3)],
    ['primary of a non-string', () => ring.primary(undefined as unknown as string)],
    ['hash negative', () => ring.ownerOfHash(-1)],
    ['hash above HASH_MAX', () => ring.ownerOfHash(HASH_MAX + 1)],
    ['hash fractional', () => ring.preferenceListOfHash(1.5, 1)],
    ['position out of range', () => ring.tokenAt(ring.tokenCount)],
    ['adding an existing node', () => ring.withNode('node2')],
    ['adding an empty id', () => ring.withNode('')],
    ['removing an unknown node', () => ring.withoutNode('node9')],
    ['removing a non-string', () => ring.withoutNode(1 as unknown as string)],
  ])('%s', (_case, call) => {
    expect(call).toThrow(TypeError);
  });
});

describe('HashRing: determinism', () => {
  const members = nodeIds(7);
  const keys = naturalKeys(3000);

  it('builds the identical ring from the same members in any order', () => {
    const reference = new HashRing(members);
    const orders = [[...members].reverse(), [members[3], ...members.slice(0, 3), ...members.slice(4)]];
    for (const order of orders) {
      const ring = new HashRing(order);
      expect(ring.equals(reference)).toBe(true);
      const tokens = Array.from({ length: ring.tokenCount }, (_, p) => ring.tokenAt(p));
      expect(tokens).toEqual(Array.from({ length: reference.tokenCount }, (_, p) => reference.tokenAt(p)));
      expect(keys.map((key) => ring.preferenceList(key, 3))).toEqual(keys.map((key) => reference.preferenceList(key, 3)));
    }
  });

  it('gives the same ring whether built at once or node by node', () => {
    const stepwise = members.slice(1).reduce((ring, id) => ring.withNode(id), new HashRing([members[0]]));
    const atOnce = new HashRing(members);
    expect(keys.map((key) => stepwise.preferenceList(key, 3))).toEqual(keys.map((key) => atOnce.preferenceList(key, 3)));
  });

  it('matches the naive reference ring token for token', () => {
    const ring = new HashRing(members, { vnodes: 16 });
    const tokens = referenceTokens(members, 16);
    tokens.forEach((t, position) => expect(ring.tokenAt(position)).toEqual({ position, ...t }));
  });
});

describe('HashRing: preference lists', () => {
  const keys = naturalKeys(2000);

  it.each([1, 2, 3, 5, 10])('with %i nodes: min(N, members) distinct members, primary first', (size) => {
    const ring = new HashRing(nodeIds(size), { vnodes: 32 });
    const tokens = referenceTokens(nodeIds(size), 32);
    // Checked in plain code and reported once: an expect() per lookup would dominate the run time.
    const violations: string[] = [];
    for (const key of keys) {
      for (const n of [1, 2, 3, 5, 12]) {
        const list = ring.preferenceList(key, n);
        const expected = referencePreferenceList(tokens, crc(key), n);
        if (
          list.length !== Math.min(n, size) ||
          new Set(list).size !== list.length ||
          !list.every((id) => ring.has(id)) ||
          list[0] !== ring.primary(key) ||
          list.join() !== expected.join()
        ) {
          violations.push(`${JSON.stringify(key)} n=${n}: ${list.join()} (reference ${expected.join()})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('the list for n is a prefix of the list for a larger n, whichever is asked first', () => {
    const ring = new HashRing(nodeIds(30), { vnodes: 8 });
    for (const key of keys.slice(0, 300)) {
      const long = ring.preferenceList(key, 25);
      const short = ring.preferenceList(key, 3);
      expect(long.slice(0, 3)).toEqual(short);
      expect(ring.preferenceList(key, 20)).toEqual(long.slice(0, 20));
      expect(ring.preferenceList(key, 30)).toHaveLength(30);
    }
  });

  it('hands out arrays the caller may change without affecting later lookups', () => {
    const ring = new HashRing(nodeIds(5));
    const first = ring.preferenceList('k', 3);
    const copy = [...first];
    first.push('intruder');
    first[0] = 'changed';
    expect(ring.preferenceList('k', 3)).toEqual(copy);
    expect(ring.preferenceList('k', 3)).not.toBe(ring.preferenceList('k', 3));
  });

  it('lookups by key and by hash agree', () => {
    const ring = new HashRing(nodeIds(4));
    for (const key of keys.slice(0, 500)) {
      expect(ring.preferenceListOfHash(crc(key), 3)).toEqual(ring.preferenceList(key, 3));
      expect(ring.ownerOfHash(crc(key)).node).toBe(ring.primary(key));
    }
  });
});
