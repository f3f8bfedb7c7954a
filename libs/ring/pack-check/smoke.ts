// Type check of a consumer of the packed @kv/ring, run by scripts/pack-check.sh against the installed declarations.
// The @ts-expect-error lines fail the check if the types are missing or widen to `any`.
import { DEFAULT_VNODES, HashRing, diffRings, hashKey, rangeContains } from '@kv/ring';
import type { HashRange, HashRingOptions, PrimaryMove, ReplicaSetMove, RingToken } from '@kv/ring';

const options: HashRingOptions = { vnodes: DEFAULT_VNODES };
const ring: HashRing = new HashRing(['node1', 'node2', 'node3'], options);
const list: string[] = ring.preferenceList('user:42', 3);
const primary: string = ring.primary('user:42');
const owner: RingToken = ring.ownerOfHash(hashKey('user:42'));
const nodes: readonly string[] = ring.nodes;

const moves: PrimaryMove[] = diffRings(ring, ring.withNode('node4'));
const replicaMoves: ReplicaSetMove[] = diffRings(ring, ring.withNode('node4'), 3);
const firstFrom: string | undefined = moves[0]?.from;
const firstReplicas: string[] | undefined = replicaMoves[0]?.to;
const range: HashRange = { start: 10, end: 20 };
const inside: boolean = rangeContains(range, 15);

// @ts-expect-error vnodes is a number
new HashRing(['node1'], { vnodes: '128' });
// @ts-expect-error the replica-set form needs a number
diffRings(ring, ring, '3');
// @ts-expect-error a primary move's `from` is a single node id
const wrong: string[] = moves[0].from;
// @ts-expect-error rings are immutable: members cannot be reassigned
ring.nodes = [];

export const checked = [list, primary, owner, nodes, firstFrom, firstReplicas, inside, wrong];
