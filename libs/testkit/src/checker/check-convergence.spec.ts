import { checkConvergence, type ReplicaState } from './check-convergence';

function states(byKey: Record<string, Record<string, ReplicaState>>): Map<string, Map<string, ReplicaState>> {
  return new Map(Object.entries(byKey).map(([key, replicas]) => [key, new Map(Object.entries(replicas))]));
}

const V1 = { version: '0001', value: 'a' };
const V2 = { version: '0002', value: 'b' };
const TOMBSTONE2 = { version: '0002', value: null };

describe('checkConvergence', () => {
  it('is valid when every replica of every key holds the same entry, or none', () => {
    const result = checkConvergence(
      states({
        a: { n1: V1, n2: V1, n3: V1 },
        b: { n1: TOMBSTONE2, n2: TOMBSTONE2, n3: TOMBSTONE2 },
        c: { n1: null, n2: null, n3: null },
      }),
      { replicasPerKey: 3 },
    );
    expect(result).toEqual({ checker: 'convergence', valid: true, keys: 3, divergent: [] });
  });

  it.each<[string, Record<string, ReplicaState>, string[], string[]]>([
    ['a replica missing the key', { n1: V1, n2: V1, n3: null }, ['missing'], ['n3']],
    ['a replica behind', { n1: V2, n2: V1, n3: V2 }, ['version'], ['n2']],
    ['a tombstone missing on one replica', { n1: TOMBSTONE2, n2: null, n3: TOMBSTONE2 }, ['missing'], ['n2']],
    ['a live value where others hold the tombstone', { n1: TOMBSTONE2, n2: V1, n3: TOMBSTONE2 }, ['version'], ['n2']],
    ['one version with two contents', { n1: V2, n2: TOMBSTONE2, n3: V2 }, ['value'], ['n2']],
    ['all different', { n1: V2, n2: V1, n3: null }, ['version', 'missing'], ['n2', 'n3']],
  ])('reports %s', (_name, replicas, kinds, behind) => {
    const result = checkConvergence(states({ k: replicas }));
    expect(result.valid).toBe(false);
    expect(result.divergent).toHaveLength(1);
    const [divergence] = result.divergent;
    expect(divergence.key).toBe('k');
    expect(divergence.kinds).toEqual(kinds);
    expect(divergence.behind).toEqual(behind);
    expect(divergence.replicas.map((replica) => replica.node)).toEqual(['n1', 'n2', 'n3']);
  });

  it('names the newest entry', () => {
    const [divergence] = checkConvergence(states({ k: { n1: V1, n2: V2 } })).divergent;
    expect(divergence.newest).toEqual(V2);
  });

  it('reports a key with a replica not read when replicasPerKey is given', () => {
    const result = checkConvergence(states({ k: { n1: V1, n2: V1 } }), { replicasPerKey: 3 });
    expect(result.divergent.map((divergence) => divergence.kinds)).toEqual([['replica-count']]);
    expect(checkConvergence(states({ k: { n1: V1, n2: V1 } })).valid).toBe(true);
  });

  it('lists divergent keys in key order', () => {
    const result = checkConvergence(states({ b: { n1: V1, n2: null }, a: { n1: V1, n2: null }, c: { n1: V1 } }));
    expect(result.divergent.map((divergence) => divergence.key)).toEqual(['a', 'b']);
  });

  it('rejects malformed input', () => {
    expect(() => checkConvergence(states({}), { replicasPerKey: 0 })).toThrow(TypeError);
    const bad = { version: 1, value: 'a' } as unknown as ReplicaState;
    expect(() => checkConvergence(states({ k: { n1: bad } }))).toThrow(TypeError);
  });
});
