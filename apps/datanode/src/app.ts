import type http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  ErrorCode,
  INCARNATION_HEADER,
  InternalRoutes,
  KvError,
  REQUEST_ID_HEADER,
  decodeKey,
  internalBatchBodyBytesMax,
  parseInternalBatch,
  parseJsonBody,
  parseInternalPutBody,
  singleBodyBytesMax,
  validateVersion,
  type InternalEntry,
  type InternalWriteResponse,
  type NodeHealthResponse,
} from '@kv/protocol';
import {
  HttpMetrics,
  acceptRequestId,
  bearerMatches,
  readBody,
  secondsSince,
  sendError,
  sendJson,
  sendText,
  type Logger,
} from '@kv/service';
import type { Store } from '@kv/wal';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { applyReplicaOps } from './replica-ops';

/** What the data node's HTTP app needs. */
export interface DatanodeDeps {
  store: Store;
  nodeId: string;
  /** The data directory's incarnation (see `loadIncarnation`). */
  incarnation: string;
  /** When set, `/internal` requests must carry `Authorization: Bearer <token>`. */
  clusterToken?: string;
  /** Largest value accepted, in bytes. */
  maxValueBytes: number;
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

const BATCH_ROUTE = InternalRoutes.batch;
/** Bytes of entry lines written at once by `GET /internal/entries`. */
const ENTRIES_CHUNK_BYTES = 64 * 1024;
const ENTRY_PREFIX = '/internal/kv/';

/**
 * Builds the data node's app. `POST /internal/batch` (the replication hot path) is served by a lean handler on
 * Node's http request and response; everything else (single-key internal routes, health, metrics, errors) by Express.
 * Both apply the same limits, token check and error bodies.
 */
export function createApp(deps: DatanodeDeps): DatanodeApp {
  const { store, logger } = deps;
  const metrics = new HttpMetrics(deps.registry);
  const batchOps = new Histogram({
    name: 'kv_internal_batch_ops',
    help: 'Operations per internal batch request',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    registers: [deps.registry],
  });
  new Gauge({
    name: 'kv_keys',
    help: 'Live keys held by this node (tombstones excluded)',
    registers: [deps.registry],
    collect() {
      this.set(store.size);
    },
  });
  const batchBodyBytesMax = internalBatchBodyBytesMax(deps.maxValueBytes);
  const entryBodyBytesMax = singleBodyBytesMax(deps.maxValueBytes);
  const limits = { valueBytesMax: deps.maxValueBytes };

  const authorized = (req: http.IncomingMessage): boolean =>
    deps.clusterToken === undefined || bearerMatches(req.headers.authorization, deps.clusterToken);

  /** Refuses a request meant for another incarnation of this node (it would count data this node no longer has). */
  const checkIncarnation = (req: http.IncomingMessage): void => {
    const expected = req.headers[INCARNATION_HEADER];
    if (expected !== undefined && expected !== deps.incarnation) {
      throw new KvError(
        ErrorCode.NodeChanged,
        `node ${deps.nodeId} is incarnation ${deps.incarnation}, not ${String(expected)}: its data directory was replaced`,
      );
    }
  };

  /** Logs a failed request: bugs as errors, refusals (bad input, auth) at debug level only. */
  const report = (req: http.IncomingMessage, route: string, error: KvError): void => {
    if (error.code === ErrorCode.Internal) {
      logger.error('request failed', { route, requestId: req.headers[REQUEST_ID_HEADER], err: error.cause ?? error });
    } else {
      logger.debug('request refused', { route, status: error.status, code: error.code });
    }
  };

  const handleBatch = async (req: http.IncomingMessage, res: http.ServerResponse, start: bigint): Promise<void> => {
    try {
      if (!authorized(req)) throw unauthorized();
      checkIncarnation(req);
      const body = parseJsonBody(await readBody(req, batchBodyBytesMax), batchBodyBytesMax);
      const ops = parseInternalBatch(body, limits);
      batchOps.observe(ops.length);
      const results = await applyReplicaOps(store, ops);
      sendJson(res, 200, JSON.stringify({ results }));
      metrics.observe(BATCH_ROUTE, 'POST', 200, secondsSince(start));
    } catch (thrown) {
      const error = sendError(res, thrown);
      metrics.observe(BATCH_ROUTE, 'POST', error.status, secondsSince(start));
      report(req, BATCH_ROUTE, error);
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.get(InternalRoutes.health, (_req, res) => {
    const body: NodeHealthResponse = { status: 'ok', nodeId: deps.nodeId, keys: store.stats().keys, incarnation: deps.incarnation };
    sendJson(res, 200, JSON.stringify(body));
  });

  app.get(InternalRoutes.metrics, async (_req, res, next) => {
    try {
      sendText(res, 200, deps.registry.contentType, await deps.registry.metrics());
    } catch (error) {
      next(error);
    }
  });

  app.use('/internal', (req: Request, _res: Response, next: NextFunction) => {
    if (!authorized(req)) throw unauthorized();
    checkIncarnation(req);
    next();
  });

  // Every entry, tombstones included, one JSON array per line: what a proxy streams to refill a node that lost its
  // disk. Written as the client reads it (backpressure), so memory stays flat whatever the number of keys.
  app.get(InternalRoutes.entries, async (req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    let buffered = '';
    for (const entry of store.allEntries()) {
      buffered += `${JSON.stringify([entry.key, entry.version, entry.value])}\n`;
      if (buffered.length < ENTRIES_CHUNK_BYTES) continue;
      const more = res.write(buffered);
      buffered = '';
      if (!more) {
        // Wait for the client to take more, or for the connection to go away (then stop: nobody reads).
        const closed = await new Promise<boolean>((resolve) => {
          const onDrain = (): void => {
            res.off('close', onClose);
            resolve(false);
          };
          const onClose = (): void => {
            res.off('drain', onDrain);
            resolve(true);
          };
          res.once('drain', onDrain);
          res.once('close', onClose);
        });
        if (closed) return;
      }
      if (req.destroyed) return;
    }
    res.end(buffered);
  });

  // A regular expression rather than '/internal/kv/:key': Express would decode the parameter itself, and a key is
  // decoded once, by decodeKey, from the raw path.
  const entryRoute = /^\/internal\/kv\/[^/]*$/;
  app.get(entryRoute, (req, res) => {
    const key = rawKey(req);
    const entry = store.getEntry(key);
    if (entry === undefined) throw new KvError(ErrorCode.NotFound, 'no such key on this node');
    const body: InternalEntry = { key, value: entry.value, version: entry.version, tombstone: entry.tombstone };
    sendJson(res, 200, JSON.stringify(body));
  });

  app.put(entryRoute, async (req, res) => {
    const key = rawKey(req);
    const put = parseInternalPutBody(parseJsonBody(await readBody(req, entryBodyBytesMax), entryBodyBytesMax), deps.maxValueBytes);
    const result = await store.set(key, put.value, put.version);
    const body: InternalWriteResponse = { key, applied: result.applied, version: result.version };
    sendJson(res, 200, JSON.stringify(body));
  });

  app.delete(entryRoute, async (req, res) => {
    const key = rawKey(req);
    const version = validateVersion(typeof req.query.version === 'string' ? req.query.version : undefined);
    const result = await store.delete(key, version);
    const body: InternalWriteResponse = { key, applied: result.applied, version: result.version };
    sendJson(res, 200, JSON.stringify(body));
  });

  app.use((req: Request) => {
    throw new KvError(ErrorCode.NotFound, `no route ${req.method} ${req.path}`);
  });

  app.use((thrown: unknown, req: Request, res: Response, _next: NextFunction) => {
    report(req, routeOf(req.originalUrl), sendError(res, thrown));
  });

  const listener: http.RequestListener = (req, res) => {
    const start = process.hrtime.bigint();
    const requestId = req.headers[REQUEST_ID_HEADER];
    res.setHeader(REQUEST_ID_HEADER, acceptRequestId(requestId));
    if (req.url === BATCH_ROUTE && req.method === 'POST') {
      void handleBatch(req, res, start);
      return;
    }
    res.once('finish', () => metrics.observe(routeOf(req.url ?? ''), req.method ?? '', res.statusCode, secondsSince(start)));
    app(req, res);
  };
  return { listener, express: app };
}

function unauthorized(): KvError {
  return new KvError(ErrorCode.Unauthorized, 'missing or wrong cluster token');
}

/** The key of `/internal/kv/{key}` from the raw request path (Express's params are decoded already). */
function rawKey(req: Request): string {
  const path = req.originalUrl.split('?', 1)[0];
  const segment = path.slice(ENTRY_PREFIX.length);
  if (!path.startsWith(ENTRY_PREFIX) || segment.includes('/')) throw new KvError(ErrorCode.NotFound, `no route ${req.method} ${path}`);
  return decodeKey(segment);
}

/** The route pattern of a path, for metrics labels (never the raw path: keys would explode the label set). */
function routeOf(url: string): string {
  if (url.startsWith(ENTRY_PREFIX)) return '/internal/kv/:key';
  const path = url.split('?', 1)[0];
  return path === InternalRoutes.health || path === InternalRoutes.metrics || path === InternalRoutes.entries ? path : 'unmatched';
}
