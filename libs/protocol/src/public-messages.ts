/**
 * Messages and routes of the public API, served by the proxy (see `docs/protocol/http.md`). Bodies are JSON; keys in
 * bodies are plain strings, keys in paths are percent-encoded (`encodeKey`).
 */
import type { ErrorBody } from './error-body';
import { ErrorCode } from './errors';
import { KvError } from './kv-error';

/** `PUT /kv/{key}` request body. */
export interface PutRequest {
  value: string;
  /** Seconds until the key expires, 1..`TTL_SECONDS_MAX` (10 years); without it the key does not expire. */
  ttl?: number;
}

/** `PUT /kv/{key}` success (200): the version assigned to the write and how many replicas had stored it (>= W). */
export interface PutResponse {
  key: string;
  version: string;
  acks: number;
  /** When the key expires (ms since the epoch), for a write with `ttl`. */
  expiresAt?: number;
}

/** `GET /kv/{key}` success (200): the newest value among R replicas. */
export interface GetResponse {
  key: string;
  value: string;
  version: string;
  /** When the key expires (ms since the epoch), if it does. */
  expiresAt?: number;
}

/** `DELETE /kv/{key}` success (200): the version of the tombstone and how many replicas had stored it (>= W). */
export interface DeleteResponse {
  key: string;
  version: string;
  acks: number;
}

/** A set operation of `POST /batch`. */
export interface BatchSetOp {
  op: 'set';
  key: string;
  value: string;
  /** Seconds until the key expires, as on `PUT /kv/{key}`. */
  ttl?: number;
}

/** A get operation of `POST /batch`. */
export interface BatchGetOp {
  op: 'get';
  key: string;
}

/** A delete operation of `POST /batch`. */
export interface BatchDelOp {
  op: 'del';
  key: string;
}

/** Any operation of `POST /batch`. */
export type BatchOp = BatchSetOp | BatchGetOp | BatchDelOp;

/** Operation names of `POST /batch`. */
export const BatchOpName = { Set: 'set', Get: 'get', Del: 'del' } as const;

/** `POST /batch` request body: at most `BATCH_OPS_MAX` operations. */
export interface BatchRequest {
  ops: BatchOp[];
}

/** Batch entry of a successful set: the `PUT` answer with its status. */
export type BatchSetResult = PutResponse & { status: 200 };
/** Batch entry of a successful get: the `GET` answer with its status. */
export type BatchGetResult = GetResponse & { status: 200 };
/** Batch entry of a successful delete: the `DELETE` answer with its status. */
export type BatchDelResult = DeleteResponse & { status: 200 };
/** Batch entry of a failed operation: the error body with the status the single-key request would have had. */
export type BatchErrorResult = ErrorBody & { status: number };

/** One entry of `results`, in the order of the operations. */
export type BatchResult = BatchSetResult | BatchGetResult | BatchDelResult | BatchErrorResult;

/** `POST /batch` success (200): one result per operation, in order. */
export interface BatchResponse {
  results: BatchResult[];
}

/** One data node as the proxy sees it. */
export interface ClusterNode {
  id: string;
  /**
   * Where the proxies reach it; left out when the proxy has `AUTH_TOKEN` and the request does not carry the cluster
   * token (`CLUSTER_TOKEN`).
   */
  url?: string;
  /** The latest health probe's verdict. */
  status: 'up' | 'down';
  /**
   * `ready` when the node counts toward quorums; `refilling` while it is copied its peers' data after losing its own
   * (a node restarted on an empty data directory).
   */
  state?: 'ready' | 'refilling';
  /** Its part in the cluster map: `active`, or `joining` / `leaving` during a membership change. */
  member?: 'active' | 'joining' | 'leaving';
  /** Live keys and tombstones it held at its latest probe (absent until a probe answered). */
  keys?: number;
  tombstones?: number;
  /** Its `WAL_SYNC` as it last reported it (absent until a probe answered): see `NodeHealthResponse.walSync`. */
  walSync?: 'always' | 'interval' | 'none';
}

/** `GET /cluster` success (200). */
export interface ClusterResponse {
  nodes: ClusterNode[];
  /** N: copies of each key. */
  replicas: number;
  /** W: acknowledgements a write needs. */
  writeQuorum: number;
  /** R: replies a read needs. */
  readQuorum: number;
  /** Virtual nodes per data node on the ring. */
  vnodes: number;
  /** The epoch of the cluster map in use (grows with every committed change; 0 before the map is loaded). */
  epoch: number;
  /** The membership change in progress, or null. */
  change: ClusterChange | null;
}

/** A membership change in progress, as `GET /cluster` shows it. */
export interface ClusterChange {
  id: string;
  /** `copy`: ranges are streamed to the nodes gaining them; `read-new`: reads use the new owners. */
  phase: 'copy' | 'read-new';
  /** Ids being added, and removed. */
  add: string[];
  remove: string[];
  /**
   * Streaming progress as this proxy knows it: ranges (per node gaining them) copied and in all, entries and bytes
   * streamed; null when another proxy drives the change (ask it) or nothing is streamed in this phase.
   */
  progress: { rangesDone: number; rangesTotal: number; keysStreamed: number; bytesStreamed: number } | null;
}

/** `POST /cluster/changes` request body. */
export interface ClusterChangeRequest {
  /** Nodes to add: their ids (`NODE_ID`) and URLs. */
  add?: { id: string; url: string }[];
  /** Ids of members to remove. */
  remove?: string[];
  /** Only plan the change (default false). */
  dryRun?: boolean;
}

/** `POST /cluster/changes` answer of a dry run (200): the plan. */
export interface ClusterChangePlan {
  dryRun: true;
  /** The epoch the change would start at. */
  epoch: number;
  /** Members as they would be during the change. */
  members: { id: string; url: string; state: 'active' | 'joining' | 'leaving' }[];
  /** Ranges of the hash circle that move, from their old owners to the nodes gaining them, with estimates. */
  ranges: { start: number; end: number; from: string[]; to: string[]; keys: number; bytes: number }[];
  /** Estimated entries and bytes to stream in all, and the share of the circle whose owners change (0..1). */
  keys: number;
  bytes: number;
  share: number;
}

/** `POST /cluster/changes` answer of a change started (202). */
export interface ClusterChangeStarted {
  dryRun: false;
  /** The epoch it started at. */
  epoch: number;
  /** Its id, as `GET /cluster` shows it under `change`. */
  change: string;
}

/** `GET /health` success (200) of the proxy. */
export interface HealthResponse {
  status: 'ok';
}

/**
 * `GET /health/ready` of a proxy: `200` with this body while it has joined the cluster and reaches at least W data
 * nodes that count; otherwise `503` with the error body `KV_NOT_READY` and the same counts.
 */
export interface ReadyResponse {
  status: 'ready';
  /** Data nodes answering its probes and counting toward quorums. */
  nodesUp: number;
  /** Data nodes of the cluster. */
  nodes: number;
  /** W: nodes needed for a write. */
  writeQuorum: number;
  /** Whether the proxy has joined the cluster's registry of proxies (it serves nothing before). */
  joined: boolean;
}

/** Routes of the public API (relative to the proxy's base URL). */
export const PublicRoutes = {
  /** Prefix of the single-key routes; the percent-encoded key follows. */
  kvPrefix: '/kv/',
  /** The single-key route of an already encoded key (`encodeKey`). */
  entry: (encodedKey: string): string => `/kv/${encodedKey}`,
  batch: '/batch',
  health: '/health',
  ready: '/health/ready',
  cluster: '/cluster',
  /** Membership changes (`ClusterChangeRequest`). */
  clusterChanges: '/cluster/changes',
  /** Anti-entropy on demand (`RepairRequest` → `RepairStatus`), and its progress (GET). */
  clusterRepair: '/cluster/repair',
  metrics: '/metrics',
} as const;

/** Query parameters of the public API. */
export const PublicQuery = {
  /** Write quorum override, 1..N. */
  writeQuorum: 'w',
  /** Read quorum override, 1..N. */
  readQuorum: 'r',
} as const;

/** True when a batch entry reports a failure. */
export function isBatchErrorResult(result: BatchResult): result is BatchErrorResult {
  return 'error' in result;
}

/** `POST /cluster/repair` request body (every field optional). */
export interface RepairRequest {
  /**
   * Only the keys whose hash lies in this part of the ring: `"<start>:<end>"`, hashes `start < h <= end` (0 to
   * 4294967295; wrapping when start > end; start = end is the whole ring). Default: the whole ring.
   */
  keyRange?: string;
  /** Answer once the round is over (200) rather than when it starts (202). */
  wait?: boolean;
}

/** An anti-entropy round as `GET /cluster/repair` shows it: the one running, or the last one of this proxy. */
export interface RepairStatus {
  /** `idle` (none yet on this proxy), `running`, `done` (every range compared), `failed` (some range could not be). */
  state: 'idle' | 'running' | 'done' | 'failed';
  /** Ranges of the ring compared, and in all (with `keyRange`, the parts of ranges within it). */
  rangesDone: number;
  rangesTotal: number;
  /** Ranges not fully compared (a replica did not answer, or a repair write failed): nothing is purged there. */
  rangesFailed: number;
  /** Keys whose replicas held different versions. */
  differences: number;
  /** Keys written to every replica that lacked their newest version. */
  repaired: number;
  /** Tombstones purged, confirmed on every replica of their range. */
  purged: number;
  /** Bytes written to stale replicas (keys, values and versions). */
  bytes: number;
  /** The part of the ring compared, as asked (`"<start>:<end>"`), or null for the whole ring. */
  keyRange: string | null;
  /** Wall-clock ms of the round's start and end (null before). */
  startedAt: number | null;
  finishedAt: number | null;
  /** Why the round stopped early (a membership change, the proxy stopping), when it did. */
  error?: string;
}

/** `POST /cluster/repair` answer: the round's status, and whether this request started it (false: one was running). */
export interface RepairStarted extends RepairStatus {
  started: boolean;
}

/**
 * Parses a `keyRange` (`"<start>:<end>"`, each 0 to 4294967295).
 * @throws KvError `KV_BAD_REQUEST` naming the problem.
 */
export function parseKeyRange(text: string): { start: number; end: number } {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(text);
  const start = match === null ? Number.NaN : Number(match[1]);
  const end = match === null ? Number.NaN : Number(match[2]);
  if (!(start <= 0xffffffff) || !(end <= 0xffffffff)) {
    throw new KvError(ErrorCode.BadRequest, `keyRange must be <start>:<end>, hashes from 0 to 4294967295, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return { start, end };
}
