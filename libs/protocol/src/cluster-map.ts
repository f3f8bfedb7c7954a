import { describeType } from './describe-type';
import { ErrorCode } from './errors';
import { KvError } from './kv-error';

/**
 * The cluster map: who the data nodes are, the ring's settings and quorums, and the membership change in progress.
 * It lives on the data nodes; each new epoch is decided by Paxos among the members of the previous one (see
 * docs/ARCHITECTURE.md, The cluster map and membership changes).
 */

/** A member's part in the cluster: `active`; `joining` (owns ranges on the new ring only); `leaving` (old ring only). */
export type MemberState = 'active' | 'joining' | 'leaving';

/** One data node of the map. */
export interface ClusterMember {
  /** Its id on the ring (`NODE_ID`). */
  readonly id: string;
  /** Where coordinators reach it. */
  readonly url: string;
  readonly state: MemberState;
}

/**
 * The phase of a membership change: `copy` (writes to old and new owners, reads from the old, ranges streamed), then
 * `read-new` (writes to both, reads from the new owners). The change completes with a map without transition.
 */
export type TransitionPhase = 'copy' | 'read-new';

/** A membership change in progress. */
export interface ClusterTransition {
  /** Identifies the change (streaming progress is recorded under it). */
  readonly id: string;
  readonly phase: TransitionPhase;
  /** Ids of the members joining (state `joining`). */
  readonly add: readonly string[];
  /** Ids of the members leaving (state `leaving`). */
  readonly remove: readonly string[];
}

/** The cluster map of one epoch. */
export interface ClusterMap {
  /** Grows by one with every committed change; 1 for a new cluster. */
  readonly epoch: number;
  readonly members: readonly ClusterMember[];
  /** Virtual nodes per member on the ring. */
  readonly vnodes: number;
  /** N, W, R. */
  readonly replicas: number;
  readonly writeQuorum: number;
  readonly readQuorum: number;
  readonly transition: ClusterTransition | null;
}

/** Most members of a map: far beyond what a small or medium deployment runs, and a bound on every map message. */
export const CLUSTER_MEMBERS_MAX = 256;
/** Most vnodes per member. */
export const CLUSTER_VNODES_MAX = 4096;

const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const CHANGE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * True when `value` can be a member's id (`NODE_ID`): 1 to 64 letters, digits, `_`, `.` or `-`, as every map
 * requires; a client checks ids with it before it asks for a change.
 */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * Why `url` cannot be where a new member is reached, or undefined when it can: an http(s) URL with a host and a valid
 * port, without spaces or control characters, credentials (every client of `GET /cluster` would see them), query or
 * fragment. The proxy checks the URLs of `POST /cluster/changes` with it, and the CLI before it asks.
 */
export function nodeUrlProblem(url: string): string | undefined {
  for (const char of url) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x20 || code === 0x7f || /\s/u.test(char)) return 'expected an http(s) URL without spaces';
  }
  if (url === '') return 'expected an http(s) URL without spaces';
  if (!/^https?:\/\//i.test(url)) return 'expected http:// or https://';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  // The URL parser makes `http:///h` into `http://h/`: the host must be where it was typed.
  if (!/^https?:\/\/[^/?#]/i.test(url) || parsed.hostname === '') return 'no host';
  if (parsed.username !== '' || parsed.password !== '') return 'credentials in a URL would be shown to every client';
  if (parsed.search !== '' || parsed.hash !== '' || url.includes('?') || url.includes('#')) return 'no query or fragment';
  return undefined;
}

/** The members of the ring before the change in progress (all but the joining ones): the old owners. */
export function oldRingMembers(map: ClusterMap): string[] {
  return map.members.filter((member) => member.state !== 'joining').map((member) => member.id);
}

/** The members of the ring after the change in progress (all but the leaving ones): the new owners. */
export function newRingMembers(map: ClusterMap): string[] {
  return map.members.filter((member) => member.state !== 'leaving').map((member) => member.id);
}

/**
 * Checks a cluster map read from the wire or from a node's disk.
 * @throws KvError `KV_BAD_REQUEST` naming what is wrong.
 */
export function validateClusterMap(value: unknown): ClusterMap {
  const bad = (what: string): KvError => new KvError(ErrorCode.BadRequest, `cluster map: ${what}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`must be an object, got ${describeType(value)}`);
  const map = value as Record<string, unknown>;
  const integer = (name: string, min: number, max: number): number => {
    const n = map[name];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw bad(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
  const epoch = integer('epoch', 1, Number.MAX_SAFE_INTEGER);
  const vnodes = integer('vnodes', 1, CLUSTER_VNODES_MAX);
  const replicas = integer('replicas', 1, 16);
  const writeQuorum = integer('writeQuorum', 1, replicas);
  const readQuorum = integer('readQuorum', 1, replicas);
  if (!Array.isArray(map.members) || map.members.length === 0 || map.members.length > CLUSTER_MEMBERS_MAX) {
    throw bad(`members must be an array of 1..${CLUSTER_MEMBERS_MAX}`);
  }
  const seen = new Set<string>();
  const members: ClusterMember[] = map.members.map((raw: unknown, i: number) => {
    const m = raw as Partial<ClusterMember> | null;
    if (typeof m !== 'object' || m === null) throw bad(`members[${i}] must be an object`);
    if (typeof m.id !== 'string' || !ID_PATTERN.test(m.id)) throw bad(`members[${i}].id must be 1..64 of letters, digits, "_", "." or "-"`);
    if (seen.has(m.id)) throw bad(`member ${m.id} is listed twice`);
    seen.add(m.id);
    if (typeof m.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(m.url)) throw bad(`members[${i}].url must be an http(s) URL`);
    if (m.state !== 'active' && m.state !== 'joining' && m.state !== 'leaving') throw bad(`members[${i}].state must be active, joining or leaving`);
    return { id: m.id, url: m.url, state: m.state };
  });
  let transition: ClusterTransition | null = null;
  if (map.transition !== null && map.transition !== undefined) {
    const t = map.transition as Partial<ClusterTransition>;
    if (typeof t !== 'object' || typeof t.id !== 'string' || !CHANGE_ID_PATTERN.test(t.id)) throw bad('transition.id must be 1..64 characters');
    if (t.phase !== 'copy' && t.phase !== 'read-new') throw bad('transition.phase must be copy or read-new');
    const ids = (name: 'add' | 'remove', state: MemberState): string[] => {
      const list = t[name];
      if (!Array.isArray(list) || list.some((id) => typeof id !== 'string')) throw bad(`transition.${name} must be an array of ids`);
      for (const id of list) if (members.find((member) => member.id === id)?.state !== state) throw bad(`transition.${name}: ${id} must be a ${state} member`);
      return [...list];
    };
    transition = { id: t.id, phase: t.phase, add: ids('add', 'joining'), remove: ids('remove', 'leaving') };
    const changing = members.filter((member) => member.state !== 'active').length;
    if (changing !== transition.add.length + transition.remove.length) throw bad('every joining or leaving member must be in the transition');
  } else if (members.some((member) => member.state !== 'active')) {
    throw bad('joining or leaving members without a transition');
  }
  const map_: ClusterMap = { epoch, members, vnodes, replicas, writeQuorum, readQuorum, transition };
  if (oldRingMembers(map_).length < replicas || newRingMembers(map_).length < replicas) throw bad(`fewer members than N=${replicas}`);
  return map_;
}

/** A Paxos ballot: a round, and the proposer (a proxy's clock id) to break ties. */
export interface Ballot {
  readonly round: number;
  readonly proposer: string;
}

/** Orders ballots: by round, then by proposer. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  return a.proposer < b.proposer ? -1 : a.proposer > b.proposer ? 1 : 0;
}

/** `POST /internal/map/prepare`: phase one for the map of `epoch`. */
export interface PrepareRequest {
  epoch: number;
  ballot: Ballot;
}

/** `POST /internal/map/accept`: phase two: accept `map` (of `map.epoch`) under `ballot`. */
export interface AcceptRequest {
  ballot: Ballot;
  map: ClusterMap;
}

/**
 * An acceptor's answer to prepare or accept: `ok` (promised / accepted; a promise carries what was accepted for the
 * epoch, if anything), `refused` (it promised a higher ballot, named), `committed` (it already knows the map of that
 * epoch or a later one, which it returns: the proposer learns instead), or `behind` (it lacks the map before that
 * epoch: the proposer gives it that map first).
 */
export type PaxosReply =
  | { readonly outcome: 'ok'; readonly accepted: { readonly ballot: Ballot; readonly map: ClusterMap } | null }
  | { readonly outcome: 'refused'; readonly promised: Ballot }
  | { readonly outcome: 'committed'; readonly map: ClusterMap }
  | { readonly outcome: 'behind'; readonly epoch: number };

/** `GET /internal/map` answer: the map the node stores (null before the cluster was seeded). */
export interface MapResponse {
  map: ClusterMap | null;
}

/** Checks a ballot from the wire. @throws KvError `KV_BAD_REQUEST`. */
export function validateBallot(value: unknown): Ballot {
  const b = value as Partial<Ballot> | null;
  if (typeof b !== 'object' || b === null || !Number.isSafeInteger(b.round) || (b.round as number) < 0 || typeof b.proposer !== 'string' || b.proposer.length === 0 || b.proposer.length > 64) {
    throw new KvError(ErrorCode.BadRequest, 'ballot must be {"round": integer >= 0, "proposer": string}');
  }
  return { round: b.round as number, proposer: b.proposer };
}

/** A range of the hash circle: the hashes after `start` up to `end` inclusive (the whole circle when equal). */
export interface WireRange {
  readonly start: number;
  readonly end: number;
}

/** Most ranges in one `GET /internal/entries?ranges=` request. */
export const RANGES_PER_REQUEST_MAX = 1024;

/** `ranges` query value: `<start>-<end>` pairs in decimal, comma-separated. */
export function formatRanges(ranges: readonly WireRange[]): string {
  return ranges.map((range) => `${range.start}-${range.end}`).join(',');
}

/**
 * Parses a `ranges` query value.
 * @throws KvError `KV_BAD_REQUEST` unless it is 1..{@link RANGES_PER_REQUEST_MAX} pairs of integers in 0..2^32-1.
 */
export function parseRanges(text: string): WireRange[] {
  const parts = text.split(',');
  if (text.length === 0 || parts.length > RANGES_PER_REQUEST_MAX) {
    throw new KvError(ErrorCode.BadRequest, `ranges must be 1..${RANGES_PER_REQUEST_MAX} of <start>-<end>`);
  }
  return parts.map((part) => {
    const match = /^(\d{1,10})-(\d{1,10})$/.exec(part);
    const start = match === null ? Number.NaN : Number(match[1]);
    const end = match === null ? Number.NaN : Number(match[2]);
    if (!(start <= 0xffffffff) || !(end <= 0xffffffff)) throw new KvError(ErrorCode.BadRequest, `bad range ${JSON.stringify(part.slice(0, 40))}: expected <start>-<end>, each 0..4294967295`);
    return { start, end };
  });
}
