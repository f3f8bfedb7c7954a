import type http from 'node:http';
import express, { type Request, type Response } from 'express';
import {
  assertKnownFields,
  assertKnownParams,
  COORDINATOR_HEADER,
  DEADLINE_HEADER,
  EPOCH_HEADER,
  ErrorCode,
  INCARNATION_HEADER,
  INTERNAL_BATCH_MEDIA_TYPE,
  INTERNAL_ENTRIES_MEDIA_TYPE,
  InternalOpTag,
  InternalQuery,
  InternalRoutes,
  KvError,
  internalOpError,
  invalidOp,
  isInvalidOp,
  parseRanges,
  validateBallot,
  type Ballot,
  validateClusterMap,
  decodeInternalBatch,
  decodeWriteResult,
  decodeKey,
  encodeEntryLine,
  encodeInternalResults,
  internalBatchBodyBytesMax,
  parseInternalPutBody,
  parseJsonBody,
  singleBodyBytesMax,
  validateVersion,
  type DecodedWriteResult,
  type FilledRequest,
  type InternalOp,
  type InternalOpResult,
  type InternalEntry,
  type InternalWriteResponse,
  type MapResponse,
  type StreamProgress,
  type NodeHealthResponse,
  type NodeStatusResponse,
  type WalSyncMode,
  type DigestsResponse,
  type PurgeResponse,
  type VersionsResponse,
  type WireRangeDigest,
  PURGES_PER_REQUEST_MAX,
  VERSIONS_PER_REQUEST_MAX,
} from '@kv/protocol';
import type { ReplicaService } from '@kv/quorum';
import {
  EncodedBody,
  HttpMetrics,
  TokenCheck,
  overloadedBytes,
  type InFlight,
  type InFlightTicket,
  type TokenList,
  createServerShell,
  errorHandler,
  metricsHandler,
  notFoundHandler,
  readBody,
  sendJson,
  type FastRoute,
  type Logger,
} from '@kv/service';
import { isWalError, WalErrorCode, type Store } from '@kv/wal';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the data node's HTTP app needs. */
export interface DatanodeDeps {
  store: Store;
  nodeId: string;
  /** The node's logic: coordinators' leases, whether it was refilled, the application of batches. */
  replica: ReplicaService;
  /** When set, `/internal` requests must carry `Authorization: Bearer <token>`, for any token of a list (a rotation). */
  clusterToken?: TokenList;
  /** Largest value accepted, in bytes. */
  maxValueBytes: number;
  /** The log's `WAL_SYNC` (the store's `sync` option), reported in `/health`. */
  walSync: WalSyncMode;
  /** The process's bounds on requests and bytes in flight (none: unbounded, as in tests that do not need them). */
  inFlight?: InFlight;
  /** Whether writes of values are refused because the heap is nearly full (see heap-guard.ts). */
  heap?: { readonly refusing: boolean; message(): string };
  /** The node's clock in ms, for the deadlines of batches (`x-kv-deadline`; default `Date.now`). */
  now?: () => number;
  logger: Logger;
  registry: Registry;
}

/** The data node's request handling: a lean handler for the hot route in front of the Express app. */
export interface DatanodeApp {
  /** The request listener to give to an HTTP server. */
  listener: http.RequestListener;
  /** The Express app serving every route but the hot one. */
  express: express.Express;
}

/** Largest body of the map routes: a map of the most members, with room to spare. */
const MAP_BODY_BYTES_MAX = 256 * 1024;
/** Largest body of `POST /internal/digests` and `POST /internal/versions`: 1024 ranges of two 10-digit numbers. */
const RANGES_BODY_BYTES_MAX = 64 * 1024;
/** Largest body of `POST /internal/purge`: its most pairs of the longest keys, escaped, and versions. */
const PURGE_BODY_BYTES_MAX = PURGES_PER_REQUEST_MAX * (6 * 1024 + 64) + 1024;
/** Most range indexes one `POST /internal/stream` records. */
const STREAM_RANGES_MAX = 1024;
/** Largest body of `POST /internal/stream`: a change id and {@link STREAM_RANGES_MAX} indexes. */
const STREAM_BODY_BYTES_MAX = 16 * 1024;
/** Largest body of `POST /internal/filled`: an incarnation. */
const FILLED_BODY_BYTES_MAX = 1024;
/** Bytes of entry lines written at once by `GET /internal/entries`. */
const ENTRIES_CHUNK_BYTES = 64 * 1024;
const ENTRY_PREFIX = InternalRoutes.kvPrefix;

/**
 * Builds the data node's app on the shared server shell: `POST /internal/batch` (the replication hot path) is a fast
 * route, decoded and encoded by the internal codec and applied by `applyReplicaOps`; everything else (single-key
 * internal routes, entries, health, metrics, errors) goes through Express. Both apply the same limits, token check
 * and error bodies.
 */
export function createApp(deps: DatanodeDeps): DatanodeApp {
  const { store, logger, replica } = deps;
  const batchOps = new Histogram({
    name: 'kv_internal_batch_ops',
    help: 'Operations per internal batch request',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    registers: [deps.registry],
  });
  new Gauge({
    name: 'kv_keys',
    help: 'Live keys held by this node (tombstones and expired values excluded)',
    registers: [deps.registry],
    collect() {
      this.set(store.size - replica.expiredKeys());
    },
  });
  new Gauge({
    name: 'kv_expiring_values',
    help: 'Values held that expire and are not tombstones yet (expired ones included until converted)',
    registers: [deps.registry],
    collect() {
      this.set(replica.expiry.size);
    },
  });
  new Gauge({
    name: 'kv_tombstones',
    help: 'Tombstones held by this node (deleted keys not yet collected by anti-entropy)',
    registers: [deps.registry],
    collect() {
      this.set(store.stats().tombstones);
    },
  });
  const batchBodyBytesMax = internalBatchBodyBytesMax(deps.maxValueBytes);
  const entryBodyBytesMax = singleBodyBytesMax(deps.maxValueBytes);
  const limits = { valueBytesMax: deps.maxValueBytes, bodyBytesMax: batchBodyBytesMax };
  const token = new TokenCheck(deps.clusterToken, 'missing or wrong cluster token');

  /** Refuses a request meant for another incarnation of this node (it would count data this node no longer has). */
  const checkIncarnation = (req: http.IncomingMessage): void => {
    const expected = req.headers[INCARNATION_HEADER];
    if (expected !== undefined && expected !== replica.incarnation) {
      throw new KvError(
        ErrorCode.NodeChanged,
        `node ${deps.nodeId} is incarnation ${replica.incarnation}, not ${String(expected)}: its data directory was replaced`,
      );
    }
  };

  /** Refuses writes of values while the heap is nearly full; deletes and reads pass. */
  const heapRefusal = (): KvError | undefined => (deps.heap?.refusing === true ? new KvError(ErrorCode.Overloaded, deps.heap.message()) : undefined);
  const writesRefused = new Counter({
    name: 'kv_writes_refused_total',
    help: 'Writes of values refused with KV_OVERLOADED because the heap was fuller than MAX_HEAP_PERCENT',
    registers: [deps.registry],
  });

  /** A single-key write through the same rules as a batch's (the bound on future versions, the apply rule). */
  const applyOne = async (op: InternalOp): Promise<DecodedWriteResult> => {
    const refusal = op[0] === InternalOpTag.Set ? heapRefusal() : undefined;
    if (refusal !== undefined) {
      writesRefused.inc();
      throw refusal;
    }
    try {
      const [result] = await replica.apply([op]);
      return decodeWriteResult(result);
    } catch (error) {
      throw storeError(error);
    }
  };

  const now = deps.now ?? Date.now;

  const batchRoute: FastRoute = {
    route: InternalRoutes.batch,
    matches: (method, url) => method === 'POST' && url === InternalRoutes.batch,
    serve: async (req, _res, context) => {
      const deadline = deadlineOf(req.headers[DEADLINE_HEADER], now());
      token.require(req);
      checkIncarnation(req);
      replica.admit(req.headers[COORDINATOR_HEADER]);
      replica.admitEpoch(req.headers[EPOCH_HEADER]);
      const decoded = decodeInternalBatch(await readBody(req, batchBodyBytesMax), limits);
      batchOps.observe(decoded.length);
      const refusal = heapRefusal();
      let ops = decoded;
      if (refusal !== undefined) {
        ops = decoded.map((op) => (isInvalidOp(op) || op[0] !== InternalOpTag.Set ? op : invalidOp(refusal)));
        writesRefused.inc(decoded.length - decoded.filter((op, i) => op === ops[i]).length);
      }
      // The coordinator stopped waiting (its body came slowly, or the request waited behind others): nothing is applied.
      if (deadline !== undefined && now() >= deadline) {
        throw new KvError(ErrorCode.Overloaded, `the batch's deadline (${DEADLINE_HEADER}) passed before this node applied it: nothing was applied`);
      }
      let results: InternalOpResult[];
      try {
        results = await replica.apply(ops);
      } catch (error) {
        throw storeError(error);
      }
      if (context.ticket !== undefined) reserveAnswer(results, context.ticket);
      return new EncodedBody(INTERNAL_BATCH_MEDIA_TYPE, encodeInternalResults(results));
    },
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  const health = (): NodeHealthResponse => ({
    status: 'ok',
    nodeId: deps.nodeId,
    // Live keys: values that expired and wait for their conversion to tombstones are not counted.
    keys: store.stats().keys - replica.expiredKeys(),
    incarnation: replica.incarnation,
    filled: replica.filled,
    bytes: store.stats().liveBytes,
    tombstones: store.stats().tombstones,
    walSync: deps.walSync,
  });
  /**
   * Refuses query parameters the route does not take (docs/protocol/http.md, "Unknown fields"). Called by each handler
   * once the route and method matched and the token passed, so an unknown route stays 404 and a caller without the
   * token gets 401.
   */
  const onlyParams = (req: Request, ...allowed: string[]): void => {
    assertKnownParams(req.query, allowed, `${req.method} ${routeOf(req.originalUrl)}`);
  };

  app.get(InternalRoutes.health, (req, res) => {
    onlyParams(req);
    sendJson(res, 200, JSON.stringify(health()));
  });
  const metrics = metricsHandler(deps.registry);
  app.get(InternalRoutes.metrics, (req: Request, res: Response, next: (error?: unknown) => void) => {
    onlyParams(req);
    metrics(req, res, next);
  });

  // A coordinator registers (again): admitted unless another live incarnation uses its clock id.
  app.post(InternalRoutes.coordinators, (req: Request, res: Response) => {
    token.require(req);
    onlyParams(req);
    replica.admit(req.headers[COORDINATOR_HEADER], true);
    const body: NodeStatusResponse = { ...health(), coordinators: replica.status().coordinators, maxClockSkewMs: replica.maxClockSkewMs, epoch: replica.acceptor.epoch };
    sendJson(res, 200, JSON.stringify(body));
  });

  // A coordinator's probe: no incarnation check, since the answer is how a coordinator learns a new incarnation.
  app.get(InternalRoutes.status, (req: Request, res: Response) => {
    token.require(req);
    onlyParams(req);
    replica.admit(req.headers[COORDINATOR_HEADER]);
    const body: NodeStatusResponse = { ...health(), coordinators: replica.status().coordinators, maxClockSkewMs: replica.maxClockSkewMs, epoch: replica.acceptor.epoch };
    sendJson(res, 200, JSON.stringify(body));
  });

  // The cluster map and its Paxos rounds: served to coordinators of any epoch (that is how they catch up), and across
  // incarnations (the map belongs to the cluster, and a new incarnation learns it again from the proposers).
  const mapBody = async (req: Request, fields: readonly string[]): Promise<Record<string, unknown>> => {
    const body = parseJsonBody(await readBody(req, MAP_BODY_BYTES_MAX), MAP_BODY_BYTES_MAX) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new KvError(ErrorCode.BadRequest, 'body must be a JSON object');
    assertKnownFields(body, fields, 'the request body');
    return body as Record<string, unknown>;
  };
  app.get(InternalRoutes.map, (req: Request, res: Response) => {
    token.require(req);
    onlyParams(req);
    const body: MapResponse = { map: replica.map };
    sendJson(res, 200, JSON.stringify(body));
  });
  app.post(InternalRoutes.mapPrepare, async (req: Request, res: Response) => {
    token.require(req);
    onlyParams(req);
    const body = await mapBody(req, ['epoch', 'ballot']);
    const epoch = body.epoch;
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) throw new KvError(ErrorCode.BadRequest, 'epoch must be a positive integer');
    sendJson(res, 200, JSON.stringify(await replica.prepare(epoch, wireBallot(body.ballot))));
  });
  app.post(InternalRoutes.mapAccept, async (req: Request, res: Response) => {
    token.require(req);
    onlyParams(req);
    const body = await mapBody(req, ['ballot', 'map']);
    sendJson(res, 200, JSON.stringify(await replica.accept(wireBallot(body.ballot), validateClusterMap(body.map))));
  });
  app.post(InternalRoutes.mapCommit, async (req: Request, res: Response) => {
    token.require(req);
    onlyParams(req);
    const body = await mapBody(req, ['map']);
    const before = replica.acceptor.epoch;
    const epoch = await replica.commit(validateClusterMap(body.map));
    if (epoch > before) logger.info('cluster map committed', { epoch, before });
    sendJson(res, 200, JSON.stringify({ epoch }));
  });

  app.use('/internal', (req: Request, _res: Response, next: () => void) => {
    token.require(req);
    checkIncarnation(req);
    replica.admit(req.headers[COORDINATOR_HEADER]);
    replica.admitEpoch(req.headers[EPOCH_HEADER]);
    next();
  });

  // Streaming progress of a membership change: the ranges this node received in full, and recording one more.
  app.get(InternalRoutes.stream, (req: Request, res: Response) => {
    onlyParams(req, InternalQuery.change);
    const change = req.query[InternalQuery.change];
    if (typeof change !== 'string' || change.length === 0 || change.length > 64) throw new KvError(ErrorCode.BadRequest, 'change=<id> is required');
    sendJson(res, 200, JSON.stringify(replica.streamProgress(change)));
  });
  app.post(InternalRoutes.stream, async (req: Request, res: Response) => {
    onlyParams(req);
    const body = parseJsonBody(await readBody(req, STREAM_BODY_BYTES_MAX), STREAM_BODY_BYTES_MAX) as Partial<{ change: unknown; ranges: unknown; keys: unknown; bytes: unknown }>;
    if (typeof body !== 'object' || body === null || typeof body.change !== 'string' || body.change.length === 0 || body.change.length > 64) {
      throw new KvError(ErrorCode.BadRequest, 'body must be {"change": "<id>", "ranges": [<index>, ...], "keys": <n>, "bytes": <n>}');
    }
    assertKnownFields(body, ['change', 'ranges', 'keys', 'bytes'], 'the request body');
    const ranges = body.ranges;
    if (!Array.isArray(ranges) || ranges.length === 0 || ranges.length > STREAM_RANGES_MAX || !ranges.every((range) => Number.isSafeInteger(range) && (range as number) >= 0)) {
      throw new KvError(ErrorCode.BadRequest, `ranges must be 1 to ${STREAM_RANGES_MAX} non-negative integers`);
    }
    const count = (name: 'keys' | 'bytes'): number => {
      const value = body[name] ?? 0;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new KvError(ErrorCode.BadRequest, `${name} must be a non-negative integer`);
      return value;
    };
    const progress: StreamProgress = await replica.recordStream(body.change, ranges as number[], count('keys'), count('bytes'));
    sendJson(res, 200, JSON.stringify(progress));
  });

  // Anti-entropy: digests of ranges and buckets, the keys and versions of ranges, and purging confirmed tombstones.
  const jsonObject = async (req: Request, bytesMax: number, fields: readonly string[]): Promise<Record<string, unknown>> => {
    const body = parseJsonBody(await readBody(req, bytesMax), bytesMax) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new KvError(ErrorCode.BadRequest, 'body must be a JSON object');
    assertKnownFields(body, fields, 'the request body');
    return body as Record<string, unknown>;
  };
  const rangesOf = (value: unknown): ReturnType<typeof parseRanges> => {
    if (typeof value !== 'string') throw new KvError(ErrorCode.BadRequest, 'ranges must be a string of <start>-<end>,...');
    return parseRanges(value);
  };
  app.post(InternalRoutes.digests, async (req: Request, res: Response) => {
    onlyParams(req);
    const body = await jsonObject(req, RANGES_BODY_BYTES_MAX, ['ranges', 'buckets']);
    if (body.buckets !== undefined && typeof body.buckets !== 'boolean') throw new KvError(ErrorCode.BadRequest, 'buckets must be a boolean');
    const ranges = replica.digests(rangesOf(body.ranges), body.buckets === true).map(
      (range): WireRangeDigest => ({
        digest: range.digest,
        keys: range.keys,
        ...(range.buckets === undefined ? {} : { buckets: range.buckets.map((bucket) => [bucket.bucket, bucket.digest, bucket.keys] as [number, string, number]) }),
      }),
    );
    const answer: DigestsResponse = { ranges };
    sendJson(res, 200, JSON.stringify(answer));
  });
  app.post(InternalRoutes.versions, async (req: Request, res: Response) => {
    onlyParams(req);
    const body = await jsonObject(req, RANGES_BODY_BYTES_MAX, ['ranges', 'tombstonesBeforeMs']);
    const before = body.tombstonesBeforeMs;
    if (before !== undefined && (typeof before !== 'number' || !Number.isSafeInteger(before) || before < 0)) {
      throw new KvError(ErrorCode.BadRequest, 'tombstonesBeforeMs must be a non-negative integer');
    }
    const keys = replica.versions(rangesOf(body.ranges), VERSIONS_PER_REQUEST_MAX, before as number | undefined);
    const answer: VersionsResponse = { keys, truncated: keys.length >= VERSIONS_PER_REQUEST_MAX };
    sendJson(res, 200, JSON.stringify(answer));
  });
  app.post(InternalRoutes.purge, async (req: Request, res: Response) => {
    onlyParams(req);
    const body = await jsonObject(req, PURGE_BODY_BYTES_MAX, ['epoch', 'entries']);
    const epoch = body.epoch;
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) throw new KvError(ErrorCode.BadRequest, 'epoch must be a positive integer');
    const entries = body.entries;
    if (
      !Array.isArray(entries) ||
      entries.length > PURGES_PER_REQUEST_MAX ||
      !entries.every((entry) => Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'string')
    ) {
      throw new KvError(ErrorCode.BadRequest, `entries must be at most ${PURGES_PER_REQUEST_MAX} [key, version] pairs`);
    }
    const pairs = (entries as [string, string][]).map(([key, version]): [string, string] => [key, validateVersion(version)]);
    let purged: number;
    try {
      purged = await replica.purge(epoch, pairs);
    } catch (error) {
      throw storeError(error);
    }
    if (purged > 0) logger.info('tombstones purged', { purged, epoch });
    const answer: PurgeResponse = { purged };
    sendJson(res, 200, JSON.stringify(answer));
  });

  // A coordinator completed this node's refill: from now on it counts toward quorums.
  app.post(InternalRoutes.filled, async (req, res) => {
    onlyParams(req);
    const body = parseJsonBody(await readBody(req, FILLED_BODY_BYTES_MAX), FILLED_BODY_BYTES_MAX) as Partial<FilledRequest>;
    if (typeof body !== 'object' || body === null || typeof body.incarnation !== 'string') {
      throw new KvError(ErrorCode.BadRequest, 'body must be {"incarnation": "..."}');
    }
    assertKnownFields(body, ['incarnation'], 'the request body');
    await replica.markFilled(body.incarnation);
    logger.warn('refilled by a coordinator: this node counts toward quorums again', { incarnation: body.incarnation });
    sendJson(res, 200, JSON.stringify(health()));
  });

  // Every entry, tombstones included, one line each: what a proxy streams to refill a node that lost its disk.
  // Written as the client reads it (backpressure), so memory stays flat whatever the number of keys.
  // With ?ranges=, only the entries whose keys hash into those ranges: what a membership change streams.
  app.get(InternalRoutes.entries, async (req, res) => {
    onlyParams(req, InternalQuery.ranges);
    const rangesQuery = req.query[InternalQuery.ranges];
    if (rangesQuery !== undefined && typeof rangesQuery !== 'string') throw new KvError(ErrorCode.BadRequest, 'ranges must be given once');
    const lines: Iterable<readonly [string, string, string | null, number?]> =
      rangesQuery === undefined
        ? (function* all() {
            for (const entry of store.allEntries()) yield [entry.key, entry.version, entry.value, entry.expiresAt] as const;
          })()
        : replica.entriesIn(parseRanges(rangesQuery));
    res.writeHead(200, { 'content-type': INTERNAL_ENTRIES_MEDIA_TYPE });
    let buffered = '';
    for (const [key, version, value, expiresAt] of lines) {
      buffered += encodeEntryLine(key, version, value, expiresAt);
      if (buffered.length < ENTRIES_CHUNK_BYTES) continue;
      const more = res.write(buffered);
      buffered = '';
      if (!more && (await drainedOrClosed(res)) === 'closed') return;
      if (req.destroyed) return;
    }
    res.end(buffered);
  });

  // A regular expression rather than '/internal/kv/:key': Express would decode the parameter itself, and a key is
  // decoded once, by decodeKey, from the raw path.
  const entryRoute = /^\/internal\/kv\/[^/]*$/;
  app.get(entryRoute, (req, res) => {
    const key = rawKey(req);
    onlyParams(req);
    const entry = store.getEntry(key);
    if (entry === undefined) throw new KvError(ErrorCode.NotFound, 'no such key on this node');
    const body: InternalEntry =
      entry.expiresAt === undefined
        ? { key, value: entry.value, version: entry.version, tombstone: entry.tombstone }
        : { key, value: entry.value, version: entry.version, tombstone: entry.tombstone, expiresAt: entry.expiresAt };
    sendJson(res, 200, JSON.stringify(body));
  });

  app.put(entryRoute, async (req, res) => {
    const key = rawKey(req);
    onlyParams(req);
    const put = parseInternalPutBody(parseJsonBody(await readBody(req, entryBodyBytesMax), entryBodyBytesMax), deps.maxValueBytes);
    const result = await applyOne(['s', key, put.value, put.version]);
    const body: InternalWriteResponse = { key, applied: result.applied, version: result.version };
    sendJson(res, 200, JSON.stringify(body));
  });

  app.delete(entryRoute, async (req, res) => {
    const key = rawKey(req);
    onlyParams(req, InternalQuery.version);
    const version = validateVersion(typeof req.query.version === 'string' ? req.query.version : undefined);
    const result = await applyOne(['d', key, version]);
    const body: InternalWriteResponse = { key, applied: result.applied, version: result.version };
    sendJson(res, 200, JSON.stringify(body));
  });

  app.use(notFoundHandler());
  app.use(errorHandler(logger, routeOf));

  const listener = createServerShell({
    fastRoutes: [batchRoute],
    fallback: app,
    routeOf,
    inFlight: deps.inFlight,
    unbounded: [InternalRoutes.health, InternalRoutes.metrics],
    metrics: new HttpMetrics(deps.registry),
    logger,
  });
  return { listener, express: app };
}

/**
 * The error of a failed store call: a log that sheds load (its queue is full) is `KV_OVERLOADED` (503, retry later),
 * not a bug; anything else stays as it is (a bug, or the log's fatal error, which ends the process anyway).
 */
function storeError(error: unknown): unknown {
  if (isWalError(error) && error.code === WalErrorCode.Overloaded) {
    return new KvError(ErrorCode.Overloaded, 'the node is overloaded: its log is behind its disk; retry later', { cause: error });
  }
  return error;
}

/**
 * Reserves the bytes of the values a batch's answer carries in the process's in-flight bounds, in order: once the
 * bound is reached, each further read answers `KV_OVERLOADED` alone (the coordinator counts that replica as failed for
 * that read), so 512 reads of 1 MiB values never build a 512 MiB answer beyond `MAX_BYTES_IN_FLIGHT`.
 */
function reserveAnswer(results: InternalOpResult[], ticket: InFlightTicket): void {
  for (let i = 0; i < results.length; i++) {
    const result = results[i];
    // A read's result is [version, value]; a write's is [applied, version].
    if (!Array.isArray(result) || typeof result[0] !== 'string' || typeof result[1] !== 'string') continue;
    if (!ticket.reserve(result[1].length)) results[i] = internalOpError(overloadedBytes(ticket.limits));
  }
}

/** Waits until the response can take more data, or the client went away. */
function drainedOrClosed(res: http.ServerResponse): Promise<'drained' | 'closed'> {
  return new Promise((resolve) => {
    const onDrain = (): void => {
      res.off('close', onClose);
      resolve('drained');
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      resolve('closed');
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** The key of `/internal/kv/{key}` from the raw request path (Express's params are decoded already). */
function rawKey(req: Request): string {
  const path = req.originalUrl.split('?', 1)[0];
  const segment = path.slice(ENTRY_PREFIX.length);
  if (!path.startsWith(ENTRY_PREFIX) || segment.includes('/')) throw new KvError(ErrorCode.NotFound, `no route ${req.method} ${path}`);
  return decodeKey(segment);
}

/**
 * A ballot from a request: only `round` and `proposer` (a ballot read back from this node's own disk goes through
 * `validateBallot` alone, where unknown fields are ignored; see docs/formats/cluster-state.md).
 */
function wireBallot(value: unknown): Ballot {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) assertKnownFields(value, ['round', 'proposer'], 'the ballot');
  return validateBallot(value);
}

/** The route pattern of a path, for metrics labels (never the raw path: keys would explode the label set). */
function routeOf(url: string): string {
  if (url.startsWith(ENTRY_PREFIX)) return '/internal/kv/:key';
  const path = url.split('?', 1)[0];
  const known: readonly string[] = [
    InternalRoutes.health,
    InternalRoutes.metrics,
    InternalRoutes.entries,
    InternalRoutes.batch,
    InternalRoutes.status,
    InternalRoutes.coordinators,
    InternalRoutes.filled,
    InternalRoutes.map,
    InternalRoutes.mapPrepare,
    InternalRoutes.mapAccept,
    InternalRoutes.mapCommit,
    InternalRoutes.stream,
    InternalRoutes.digests,
    InternalRoutes.versions,
    InternalRoutes.purge,
  ];
  return known.includes(path) ? path : 'unmatched';
}

/**
 * When a batch's answer is due on this node's clock: `x-kv-deadline` (ms the coordinator still waits) after its
 * arrival; undefined without the header.
 * @throws KvError `KV_BAD_REQUEST` for a header that is not a non-negative integer.
 */
function deadlineOf(header: string | string[] | undefined, arrivedMs: number): number | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !/^\d{1,10}$/.test(header)) {
    throw new KvError(ErrorCode.BadRequest, `${DEADLINE_HEADER} must be a non-negative integer of ms`);
  }
  return arrivedMs + Number(header);
}
