import { HASH_SPACE_SIZE, HashRing, diffRings, type HashRange } from '@kv/ring';

/** A stretch of the hash circle, as fractions of it: `0 <= start < end <= 1` (a range that wraps is two arcs). */
export interface RingArc {
  start: number;
  end: number;
}

/** The stretch whose primary is `node`. */
export interface OwnedArc extends RingArc {
  node: string;
}

/** A stretch whose primary changes from `from` to `to` during a membership change. */
export interface MovingArc extends RingArc {
  from: string;
  to: string;
}

/** The ring as the status page draws it. */
export interface RingView {
  /** The share of the hash circle (0..1) each member is primary of, on the ring in use (before the change). */
  shares: Record<string, number>;
  /** The same after the change in progress (equal to `shares` when none is). */
  sharesAfter: Record<string, number>;
  /** Who is primary where, clockwise from hash 0; adjacent arcs of one node are merged. */
  arcs: OwnedArc[];
  /** The ranges whose primary moves in the change in progress (empty when none is). */
  moving: MovingArc[];
}

/** The members of a cluster map as far as the ring needs them. */
export interface RingMembers {
  members: readonly { id: string; state: 'active' | 'joining' | 'leaving' }[];
  vnodes: number;
}

/** Fractions rounded to 6 decimals: a millionth of the circle is far below a pixel, and keeps the JSON short. */
const fraction = (hash: number): number => Math.round((hash / HASH_SPACE_SIZE) * 1e6) / 1e6;

/**
 * The ring view of a cluster map: primaries on the ring before the change in progress (members not joining), and the
 * ranges that move to the ring after it (members not leaving). Costs O(tokens log tokens): callers cache it per map.
 */
export function ringView(map: RingMembers): RingView {
  const beforeIds = map.members.filter((member) => member.state !== 'joining').map((member) => member.id);
  const afterIds = map.members.filter((member) => member.state !== 'leaving').map((member) => member.id);
  if (beforeIds.length === 0) return { shares: {}, sharesAfter: {}, arcs: [], moving: [] };
  const before = new HashRing(beforeIds, { vnodes: map.vnodes });
  const arcs = ownedArcs(before);
  const shares = sharesOf(arcs, map.members.map((member) => member.id));
  if (afterIds.length === 0 || (afterIds.length === beforeIds.length && afterIds.every((id) => beforeIds.includes(id)))) {
    return { shares, sharesAfter: shares, arcs, moving: [] };
  }
  const after = new HashRing(afterIds, { vnodes: map.vnodes });
  const moving = diffRings(before, after).flatMap((move) => toArcs(move).map((arc) => ({ ...arc, from: move.from, to: move.to })));
  return { shares, sharesAfter: sharesOf(ownedArcs(after), map.members.map((member) => member.id)), arcs, moving };
}

/** The primaries of a ring as arcs: the hashes owned by the token at position p lie between the previous token and it. */
function ownedArcs(ring: HashRing): OwnedArc[] {
  const arcs: OwnedArc[] = [];
  const push = (start: number, end: number, node: string): void => {
    if (end <= start) return;
    const last = arcs[arcs.length - 1];
    if (last !== undefined && last.node === node && last.end === start) last.end = end;
    else arcs.push({ start, end, node });
  };
  const count = ring.tokenCount;
  const lastToken = ring.tokenAt(count - 1);
  // Hashes below the lowest token, and above the highest, belong to the lowest token (the wrap).
  const firstToken = ring.tokenAt(0);
  push(0, fraction(firstToken.token), firstToken.node);
  for (let position = 1; position < count; position++) {
    const token = ring.tokenAt(position);
    push(fraction(ring.tokenAt(position - 1).token), fraction(token.token), token.node);
  }
  push(fraction(lastToken.token), 1, firstToken.node);
  return arcs;
}

function sharesOf(arcs: readonly OwnedArc[], ids: readonly string[]): Record<string, number> {
  const shares: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  for (const arc of arcs) shares[arc.node] = (shares[arc.node] ?? 0) + (arc.end - arc.start);
  for (const id of Object.keys(shares)) shares[id] = Math.round(shares[id] * 1e4) / 1e4;
  return shares;
}

/** A hash range (exclusive start, inclusive end, may wrap, whole circle when start === end) as one or two arcs. */
function toArcs(range: HashRange): RingArc[] {
  const start = fraction(range.start);
  const end = fraction(range.end);
  if (range.start === range.end) return [{ start: 0, end: 1 }];
  if (range.start < range.end) return [{ start, end }];
  return [
    { start, end: 1 },
    { start: 0, end },
  ].filter((arc) => arc.end > arc.start);
}

/** Keeps the ring view of the last map asked about: maps change rarely, the page asks every few seconds. */
export class RingViewCache {
  private key: string | undefined;
  private cached: RingView | undefined;

  /** The ring view of `map`, computed again only when its members, their states or the vnodes differ. */
  view(map: RingMembers): RingView {
    const key = `${map.vnodes} ${map.members.map((member) => `${member.id}:${member.state}`).join(',')}`;
    if (this.cached === undefined || key !== this.key) {
      this.cached = ringView(map);
      this.key = key;
    }
    return this.cached;
  }
}
