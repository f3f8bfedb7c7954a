import fc from 'fast-check';
import { encodeVersion } from '@kv/protocol';
import { ReadTally } from './read-tally';
import { WriteTally } from './write-tally';

const v = (n: number): string => encodeVersion({ ms: n, counter: 0, clockId: 't' });
const all = (): boolean => true;
const SEED = Number(process.env.KV_PROPERTY_SEED ?? Date.now() % 2 ** 31);

beforeAll(() => {
  process.stdout.write(`tally properties: seed ${SEED} (replay with KV_PROPERTY_SEED=${SEED})\n`);
});

describe('WriteTally', () => {
  test('done at W acknowledgements; counts placed and superseded apart; keeps the newest version seen', () => {
    const tally = new WriteTally(['a', 'b', 'c'], all, v(5), 2);
    expect(tally.ack('a', v(5))).toBe('pending');
    expect(tally.ack('b', v(7))).toBe('done');
    expect(tally).toMatchObject({ acks: 2, placed: 1, superseded: 1, newestSeen: v(7) });
    // Late replies are recorded, but the state never changes again.
    expect(tally.fail('c')).toBe('done');
    expect(tally.failures).toBe(1);
  });

  test('failed once every counted replica answered without W acknowledgements', () => {
    const tally = new WriteTally(['a', 'b', 'c'], all, v(5), 2);
    expect(tally.fail('a')).toBe('pending');
    expect(tally.ack('b', v(5))).toBe('pending');
    expect(tally.fail('c')).toBe('failed');
    expect(tally.acks).toBe(1);
  });

  test('replicas that do not count change nothing but the newest version seen', () => {
    const tally = new WriteTally(['a', 'b', 'c'], (id) => id !== 'a', v(5), 2);
    expect(tally.ack('a', v(9))).toBe('pending');
    expect(tally.acks).toBe(0);
    expect(tally.newestSeen).toBe(v(9));
    expect(tally.ack('b', v(5))).toBe('pending');
    expect(tally.fail('c')).toBe('failed');
  });

  test('fails at once when fewer replicas count than required', () => {
    const tally = new WriteTally(['a', 'b', 'c'], (id) => id === 'a', v(5), 2);
    expect(tally.state).toBe('failed');
    expect(tally.tooFewReplicas).toBe(true);
  });

  test('asserts its invariants: a replica answering twice, a stranger, an acknowledgement older than the write', () => {
    const tally = new WriteTally(['a', 'b', 'c'], all, v(5), 2);
    tally.ack('a', v(5));
    expect(() => tally.ack('a', v(5))).toThrow(/answered twice/);
    expect(() => tally.fail('z')).toThrow(/not a replica/);
    expect(() => tally.ack('b', v(4))).toThrow(/older/);
    expect(() => new WriteTally(['a', 'a'], all, v(1), 1)).toThrow(/twice/);
    expect(() => new WriteTally(['a'], all, v(1), 0)).toThrow(/positive/);
  });

  test('property: in any order of replies, settles once, as the counts say, and acks never exceed the replicas', () => {
    const replies = fc.array(fc.record({ ok: fc.boolean(), newer: fc.boolean(), counted: fc.boolean() }), { minLength: 1, maxLength: 7 });
    fc.assert(
      fc.property(replies, fc.integer({ min: 1, max: 7 }), (spec, w) => {
        const ids = spec.map((_, i) => `n${i}`);
        const tally = new WriteTally(ids, (id) => spec[Number(id.slice(1))].counted, v(10), w);
        const counted = spec.filter((s) => s.counted).length;
        const states = [tally.state];
        spec.forEach((s, i) => states.push(s.ok ? tally.ack(ids[i], s.newer ? v(11 + i) : v(10)) : tally.fail(ids[i])));
        const changes = states.filter((state, i) => i > 0 && state !== states[i - 1]).length;
        expect(changes).toBeLessThanOrEqual(1);
        const acks = spec.filter((s) => s.ok && s.counted).length;
        expect(tally.acks).toBe(acks);
        expect(tally.acks).toBeLessThanOrEqual(counted);
        expect(tally.placed + tally.superseded).toBe(tally.acks);
        expect(tally.state).toBe(counted < w ? 'failed' : acks >= w ? 'done' : 'failed');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('ReadTally', () => {
  test('asks R replicas, fails over one for one, and is done at R answers', () => {
    const tally = new ReadTally(['a', 'b', 'c'], 2);
    expect(tally.start()).toEqual(['a', 'b']);
    expect(tally.fail('a')).toEqual({ state: 'pending', ask: ['c'] });
    expect(tally.reply('b', { value: 'x', version: v(1) })).toEqual({ state: 'pending', ask: [] });
    expect(tally.reply('c', { value: 'y', version: v(2) })).toEqual({ state: 'done', ask: [] });
    expect(tally.newest()).toEqual({ value: 'y', version: v(2) });
  });

  test('fails when the replicas run out, only once every one asked has answered or failed', () => {
    const tally = new ReadTally(['a', 'b', 'c'], 2);
    tally.start();
    expect(tally.fail('a').ask).toEqual(['c']);
    expect(tally.fail('b')).toEqual({ state: 'pending', ask: [] });
    expect(tally.reply('c', undefined).state).toBe('failed');
    expect(new ReadTally(['a'], 2).state).toBe('failed');
  });

  test('asserts its invariants', () => {
    const tally = new ReadTally(['a', 'b', 'c'], 1);
    tally.start();
    expect(() => tally.reply('b', undefined)).toThrow(/not asked/);
    tally.reply('a', undefined);
    expect(() => tally.reply('a', undefined)).toThrow(/twice/);
    expect(() => tally.start()).toThrow(/twice/);
  });

  test('property: never asks a replica twice, asks at most the order, settles once and as the answers say', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 6 }), (oks, r) => {
        const order = oks.map((_, i) => `n${i}`);
        const tally = new ReadTally(order, r);
        const queue = [...tally.start()];
        const asked: string[] = [...queue];
        let settledChanges = 0;
        let previous = tally.state;
        while (queue.length > 0) {
          const id = queue.shift() as string;
          const step = oks[Number(id.slice(1))] ? tally.reply(id, undefined) : tally.fail(id);
          queue.push(...step.ask);
          asked.push(...step.ask);
          if (step.state !== previous) settledChanges += 1;
          previous = step.state;
        }
        expect(new Set(asked).size).toBe(asked.length);
        expect(settledChanges).toBeLessThanOrEqual(1);
        const reachable = oks.filter(Boolean).length;
        expect(tally.state).toBe(order.length < r ? 'failed' : reachable >= r ? 'done' : 'failed');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
