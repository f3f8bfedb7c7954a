import type http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  ErrorCode,
  KvError,
  PublicRoutes,
  REQUEST_ID_HEADER,
  type ClusterResponse,
  type HealthResponse,
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
import type { Registry } from 'prom-client';
import type { PublicApi } from './public-api';

/** What the proxy's HTTP app needs. */
export interface ProxyAppDeps {
  api: PublicApi;
  /** The cluster's membership, health and quorum settings, for `GET /cluster`. */
  cluster: () => ClusterResponse;
  /** When set, `/kv` and `/batch` requests must carry `Authorization: Bearer <token>`. */
  authToken?: string;
  logger: Logger;
  registry: Registry;
  /**
   * Serve the data routes through Express's router instead of the lean handler in front of it (default false): the
   * same handlers, for measuring what the router costs (docs/ARCHITECTURE.md, Data path).
   */
  expressDataRoutes?: boolean;
}

/** The proxy's request handling: lean handlers for the hot routes in front of the Express app. */
export interface ProxyApp {
  listener: http.RequestListener;
  express: express.Express;
}

const KV_PREFIX = '/kv/';
const KV_ROUTE = '/kv/:key';
const BATCH_PATH = PublicRoutes.batch;

/**
 * Builds the proxy's app. The data routes (`GET/PUT/DELETE /kv/{key}`, `POST /batch`) are served by lean handlers on
 * Node's request and response: Express costs more per request than everything else the proxy does for a key (see
 * docs/ARCHITECTURE.md). Health, cluster, metrics, unknown routes and errors go through Express. Both paths apply
 * the same limits, token check and error bodies (docs/protocol/http.md, docs/errors.md).
 */
export function createApp(deps: ProxyAppDeps): ProxyApp {
  const { api, logger } = deps;
  const metrics = new HttpMetrics(deps.registry);

  const authorized = (req: http.IncomingMessage): boolean =>
    deps.authToken === undefined || bearerMatches(req.headers.authorization, deps.authToken);

  const answer = (res: http.ServerResponse, route: string, method: string, start: bigint, body: unknown): void => {
    sendJson(res, 200, JSON.stringify(body));
    metrics.observe(route, method, 200, secondsSince(start));
  };

  const fail = (req: http.IncomingMessage, res: http.ServerResponse, route: string, start: bigint, requestId: string, thrown: unknown): void => {
    const error = sendError(res, thrown);
    metrics.observe(route, req.method ?? '', error.status, secondsSince(start));
    if (error.code === ErrorCode.Internal) {
      logger.error('request failed', { route, method: req.method, requestId, err: error.cause ?? error });
    } else if (error.code === ErrorCode.QuorumFailed) {
      logger.warn('quorum not reached', { route, method: req.method, requestId, acks: error.details?.acks, required: error.details?.required });
    }
  };

  const handleKv = async (req: http.IncomingMessage, res: http.ServerResponse, url: string, start: bigint, requestId: string): Promise<void> => {
    const method = req.method ?? '';
    try {
      const queryAt = url.indexOf('?');
      const rawKey = queryAt < 0 ? url.slice(KV_PREFIX.length) : url.slice(KV_PREFIX.length, queryAt);
      if (rawKey.includes('/')) throw new KvError(ErrorCode.NotFound, 'no such route: a key is one path segment (send "/" as %2F)');
      if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') throw new KvError(ErrorCode.NotFound, `no route ${method} ${KV_ROUTE}`);
      if (!authorized(req)) throw unauthorized();
      const query = queryAt < 0 ? undefined : new URLSearchParams(url.slice(queryAt + 1));
      if (method === 'GET') answer(res, KV_ROUTE, method, start, await api.get(rawKey, query, requestId));
      else if (method === 'PUT') {
        const body = await readBody(req, api.singleBodyBytesMax);
        answer(res, KV_ROUTE, method, start, await api.put(rawKey, body, query, requestId));
      } else answer(res, KV_ROUTE, method, start, await api.delete(rawKey, query, requestId));
    } catch (thrown) {
      fail(req, res, KV_ROUTE, start, requestId, thrown);
    }
  };

  const handleBatch = async (req: http.IncomingMessage, res: http.ServerResponse, url: string, start: bigint, requestId: string): Promise<void> => {
    try {
      if (!authorized(req)) throw unauthorized();
      const queryAt = url.indexOf('?');
      const query = queryAt < 0 ? undefined : new URLSearchParams(url.slice(queryAt + 1));
      const body = await readBody(req, api.batchBodyBytesMax);
      answer(res, BATCH_PATH, 'POST', start, await api.batch(body, query, requestId));
    } catch (thrown) {
      fail(req, res, BATCH_PATH, start, requestId, thrown);
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  if (deps.expressDataRoutes === true) {
    app.all(/^\/kv\//, (req: Request, res: Response) => {
      void handleKv(req, res, req.originalUrl, process.hrtime.bigint(), acceptRequestId(req.headers[REQUEST_ID_HEADER]));
    });
    app.post(PublicRoutes.batch, (req: Request, res: Response) => {
      void handleBatch(req, res, req.originalUrl, process.hrtime.bigint(), acceptRequestId(req.headers[REQUEST_ID_HEADER]));
    });
  }

  app.get(PublicRoutes.health, (_req, res) => {
    const body: HealthResponse = { status: 'ok' };
    sendJson(res, 200, JSON.stringify(body));
  });
  app.get(PublicRoutes.cluster, (_req, res) => {
    sendJson(res, 200, JSON.stringify(deps.cluster()));
  });
  app.get(PublicRoutes.metrics, async (_req, res, next) => {
    try {
      sendText(res, 200, deps.registry.contentType, await deps.registry.metrics());
    } catch (error) {
      next(error);
    }
  });
  app.use((req: Request) => {
    throw new KvError(ErrorCode.NotFound, `no route ${req.method} ${req.path}`);
  });
  app.use((thrown: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = sendError(res, thrown);
    if (error.code === ErrorCode.Internal) logger.error('request failed', { path: req.path, err: error.cause ?? error });
  });

  const listener: http.RequestListener = (req, res) => {
    const start = process.hrtime.bigint();
    const requestId = acceptRequestId(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const url = req.url ?? '/';
    if (deps.expressDataRoutes === true) {
      app(req, res);
      return;
    }
    if (url.startsWith(KV_PREFIX)) {
      void handleKv(req, res, url, start, requestId);
      return;
    }
    if (req.method === 'POST' && (url === BATCH_PATH || url.startsWith(`${BATCH_PATH}?`))) {
      void handleBatch(req, res, url, start, requestId);
      return;
    }
    res.once('finish', () => metrics.observe(routeOf(url), req.method ?? '', res.statusCode, secondsSince(start)));
    app(req, res);
  };
  return { listener, express: app };
}

function unauthorized(): KvError {
  return new KvError(ErrorCode.Unauthorized, 'missing or wrong token: send Authorization: Bearer <AUTH_TOKEN>');
}

/** The route pattern of a path, for metrics labels. */
function routeOf(url: string): string {
  const path = url.split('?', 1)[0];
  return path === PublicRoutes.health || path === PublicRoutes.cluster || path === PublicRoutes.metrics ? path : 'unmatched';
}
