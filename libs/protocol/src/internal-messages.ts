/**
 * Messages of the internal API between the coordinator (proxy) and the data nodes.
 *
 * The hot path is `POST /internal/batch`: many operations in one request, encoded as compact JSON arrays rather than
 * objects (arrays cost about half as much to serialize and parse). Results come back in the order of the operations.
 * Every write carries the version assigned by the coordinator; a data node applies it only if it is greater than the
 * version it holds for that key (tombstones included), so resending any write is always safe.
 */

/** Operation tags on the wire. */
export const InternalOpTag = { Set: 's', Delete: 'd', Get: 'g' } as const;

/**
 * Store `value` under `key` at `version`, if `version` is newer than what the node holds. `expiresAt` (ms since the
 * epoch) is present for a value that expires, and stored with it; the 4-element form is a value that does not.
 */
export type InternalSetOp = [tag: 's', key: string, value: string, version: string, expiresAt?: number];
/** Write a tombstone for `key` at `version`, if `version` is newer than what the node holds. */
export type InternalDeleteOp = [tag: 'd', key: string, version: string];
/** Read what the node holds for `key`, tombstones included. */
export type InternalGetOp = [tag: 'g', key: string];
/** Any operation of an internal batch. */
export type InternalOp = InternalSetOp | InternalDeleteOp | InternalGetOp;

/** `POST /internal/batch` request body. */
export interface InternalBatchRequest {
  ops: InternalOp[];
}

/**
 * Result of a set or delete: `[1, version]` when applied (version is the one sent), `[0, version]` when ignored because
 * the node already holds `version`, which is greater than or equal to the one sent. Both mean the node now holds a
 * version at least as new as the one sent.
 */
export type InternalWriteResult = [applied: 0 | 1, version: string];

/**
 * Result of a get: `[version, value]` for a value, `[version, value, expiresAt]` for a value that expires (expired or
 * not: the coordinator decides), `[version, null]` for a tombstone, `null` when the node has never seen the key (or
 * has forgotten its tombstone).
 */
export type InternalReadResult = [version: string, value: string | null, expiresAt?: number] | null;

/** A per-operation failure inside a batch (the other operations are unaffected). */
export interface InternalOpError {
  error: { code: string; message: string };
}

/** One entry of `results`: the caller knows from its own operation which shape to expect. */
export type InternalOpResult = InternalWriteResult | InternalReadResult | InternalOpError;

/** `POST /internal/batch` response body: one result per operation, in order. */
export interface InternalBatchResponse {
  results: InternalOpResult[];
}

/** `GET /internal/kv/{key}` response body (404 `KV_NOT_FOUND` when the node has no entry at all). */
export interface InternalEntry {
  key: string;
  /** `null` for a tombstone. */
  value: string | null;
  version: string;
  tombstone: boolean;
  /** When the value expires (ms since the epoch), for a value written with a time to live (expired or not). */
  expiresAt?: number;
}

/** `PUT /internal/kv/{key}` request body. */
export interface InternalPutRequest {
  value: string;
  version: string;
}

/** Response of `PUT` and `DELETE /internal/kv/{key}`. */
export interface InternalWriteResponse {
  key: string;
  /** True when the write was applied, false when the node already held `version` (>= the one sent). */
  applied: boolean;
  version: string;
}

/** `GET /health` of a data node. */
export interface NodeHealthResponse {
  status: 'ok';
  nodeId: string;
  keys: number;
  /**
   * The identity of the node's data directory: created with it, so a node restarted on an empty directory (a lost
   * disk) has a new one.
   */
  incarnation: string;
  /** False while the node holds a new incarnation that no coordinator has refilled yet (it must not count). */
  filled: boolean;
  /** Bytes of the live keys and values it holds (UTF-8), for the estimates of a membership change. */
  bytes?: number;
  /** Tombstones it holds (deleted keys not yet collected). */
  tombstones?: number;
  /**
   * When the node's log is fsynced (`WAL_SYNC`): `always` before a write is acknowledged (acknowledged means durable on
   * this node); `interval` and `none` acknowledge writes a power loss of this node can take back.
   */
  walSync?: WalSyncMode;
}

/** A data node's `WAL_SYNC`, as it reports it. */
export type WalSyncMode = 'always' | 'interval' | 'none';

/** A coordinator a data node heard from within its lease. */
export interface LiveCoordinator {
  /** Its clock id. */
  id: string;
  /** Its lease, in ms. */
  leaseMs: number;
  /** How long ago the node last heard from it, in ms. */
  seenMsAgo: number;
}

/** `GET /internal/status` of a data node: what a coordinator's probe learns (it also renews the prober's lease). */
export interface NodeStatusResponse extends NodeHealthResponse {
  /** Coordinators heard from within their lease, the prober included. */
  coordinators: LiveCoordinator[];
  /** The node's `MAX_CLOCK_SKEW_MS`: versions further ahead of its clock are refused. */
  maxClockSkewMs: number;
  /** The epoch of the cluster map the node stores (0 before the cluster was seeded). */
  epoch: number;
}

/** `POST /internal/filled` request body: the incarnation that a refill has completed for. */
export interface FilledRequest {
  incarnation: string;
}

/**
 * One line of `GET /internal/entries` (newline-delimited JSON): an entry the node holds, tombstones included
 * (`value` null), with the value's `expiresAt` (ms since the epoch) when it expires. Used to refill a node that lost
 * its disk and to stream ranges.
 */
export type InternalEntryLine = [key: string, version: string, value: string | null, expiresAt?: number];

/** Routes of the internal API (relative to a data node's base URL). */
export const InternalRoutes = {
  batch: '/internal/batch',
  /** Prefix of the single-key routes; the percent-encoded key follows. */
  kvPrefix: '/internal/kv/',
  /** The single-key route of an already encoded key (`encodeKey`). */
  entry: (encodedKey: string): string => `/internal/kv/${encodedKey}`,
  health: '/health',
  metrics: '/metrics',
  /** Every entry of the node, as newline-delimited JSON ({@link InternalEntryLine}). */
  entries: '/internal/entries',
  /** What a coordinator's probe reads ({@link NodeStatusResponse}); renews the coordinator's lease. */
  status: '/internal/status',
  /** A coordinator registers (or registers again after its lease lapsed). */
  coordinators: '/internal/coordinators',
  /** A coordinator tells a node that its refill is complete ({@link FilledRequest}). */
  filled: '/internal/filled',
  /** The node's cluster map (`MapResponse`). */
  map: '/internal/map',
  /** Paxos phase one for the next map (`PrepareRequest` → `PaxosReply`). */
  mapPrepare: '/internal/map/prepare',
  /** Paxos phase two (`AcceptRequest` → `PaxosReply`). */
  mapAccept: '/internal/map/accept',
  /** A chosen map: the node stores it if newer (`{"map"}`). */
  mapCommit: '/internal/map/commit',
  /** Which ranges of a change this node has received in full (`StreamProgress`), and recording one (POST). */
  stream: '/internal/stream',
  /** Digests of hash ranges and of their buckets, for anti-entropy ({@link DigestsRequest} → {@link DigestsResponse}). */
  digests: '/internal/digests',
  /** The keys of hash ranges with their versions ({@link VersionsRequest} → {@link VersionsResponse}). */
  versions: '/internal/versions',
  /** Purges tombstones confirmed on every replica ({@link PurgeRequest} → {@link PurgeResponse}). */
  purge: '/internal/purge',
} as const;

/** Query parameters of the internal API. */
export const InternalQuery = {
  /** The version of `DELETE /internal/kv/{key}?version=...` (a version needs no percent-encoding). */
  version: 'version',
  /** Hash ranges of `GET /internal/entries?ranges=<start>-<end>,...` (see `formatRanges`). */
  ranges: 'ranges',
  /** The membership change of `GET /internal/stream?change=<id>`. */
  change: 'change',
} as const;

/** Header carrying the request id from the proxy to the data nodes (and back in responses). */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Header of internal requests naming the incarnation the proxy expects the node to have; a node with another one
 * answers 409 `KV_NODE_CHANGED` instead of serving the request.
 */
export const INCARNATION_HEADER = 'x-kv-incarnation';

/**
 * Header of every internal request of a coordinator: `<clock id>;<incarnation>;<lease ms>`. Data nodes keep a registry
 * of live coordinators from it (see `docs/ARCHITECTURE.md`, Several coordinators).
 */
export const COORDINATOR_HEADER = 'x-kv-coordinator';

/**
 * Header of every internal request of a coordinator: the epoch of its cluster map. A data node with a newer map refuses
 * the request (`KV_STALE_EPOCH`: the coordinator then fetches that map); a node with an older one serves it and says so
 * in its status.
 */
export const EPOCH_HEADER = 'x-kv-epoch';

/**
 * Header of `POST /internal/batch`: the ms the coordinator still waits for the answer, counted from when the node
 * receives the request (ms remaining, so the clocks of proxy and node need not agree). A node refuses a batch whose
 * deadline passed before it applies it (`KV_OVERLOADED`: nothing was applied).
 */
export const DEADLINE_HEADER = 'x-kv-deadline';

/** Ranges of a change that a node received in full: `GET /internal/stream?change=<id>` answer, `POST` body. */
export interface StreamProgress {
  change: string;
  /** Indexes of the change's ranges (in the order the plan lists them). */
  ranges: number[];
  /** Entries and bytes written to the node for those ranges, as the drivers reported them (0 when none did). */
  keys: number;
  bytes: number;
}

/** `POST /internal/digests` request body. */
export interface DigestsRequest {
  /** Hash ranges as `formatRanges` writes them (`<start>-<end>,...`). */
  ranges: string;
  /** Whether each range's buckets' digests are wanted too. */
  buckets?: boolean;
}

/** One range's digest: the XOR of the 128-bit hashes of its (key, version) pairs, 32 hex digits, and how many pairs. */
export interface WireRangeDigest {
  digest: string;
  keys: number;
  /** `[bucket, digest, keys]` of each bucket holding keys of the range, when asked. */
  buckets?: [bucket: number, digest: string, keys: number][];
}

/** `POST /internal/digests` answer: one digest per range asked, in order. */
export interface DigestsResponse {
  ranges: WireRangeDigest[];
}

/** `POST /internal/versions` request body. */
export interface VersionsRequest {
  ranges: string;
  /** Only the tombstones whose version's ms is below this. */
  tombstonesBeforeMs?: number;
}

/** `POST /internal/versions` answer: `[key, version, 1 for a tombstone else 0]`; `truncated` when the limit cut it. */
export interface VersionsResponse {
  keys: [key: string, version: string, tombstone: 0 | 1][];
  truncated: boolean;
}

/** `POST /internal/purge` request body: tombstones to forget, under the settled map of `epoch`. */
export interface PurgeRequest {
  epoch: number;
  entries: [key: string, version: string][];
}

/** `POST /internal/purge` answer. */
export interface PurgeResponse {
  purged: number;
}

/** Most keys one `POST /internal/versions` answers. */
export const VERSIONS_PER_REQUEST_MAX = 100_000;
/** Most tombstones one `POST /internal/purge` names. */
export const PURGES_PER_REQUEST_MAX = 1000;
