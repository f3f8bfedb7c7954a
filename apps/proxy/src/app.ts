import type http from 'node:http';
import express, { type Request, type Response } from 'express';
import {
  assertKnownFields,
  assertKnownParams,
  ErrorCode,
  KvError,
  PublicRoutes,
  isNodeId,
  nodeUrlProblem,
  parseJsonBody,
  type ClusterChangePlan,
  type ClusterChangeRequest,
  type ClusterChangeStarted,
  type ClusterResponse,
  type RepairStarted,
  type RepairStatus,
  parseKeyRange,
  type HealthResponse,
  type ReadyResponse,
} from '@kv/protocol';
import {
  HttpMetrics,
  TokenCheck,
  type TokenList,
  createServerShell,
  errorHandler,
  metricsHandler,
  notFoundHandler,
  readBody,
  sendJson,
  sendText,
  type FastRoute,
  type InFlight,
  type Logger,
  type RequestContext,
} from '@kv/service';
import type { Registry } from 'prom-client';
import type { PublicApi } from './public-api';
import { RequestDeadlines } from './request-deadline';
import { RouteStats } from './ui/route-stats';
import { pagePolicy } from './ui/status-page';
import { uiState, type UiSources } from './ui/ui-state';

/** Where the status page and its data are served. */
export const UiRoutes = { page: '/ui', state: '/ui/state' } as const;

/** The status page (`GET /ui`) and its data (`GET /ui/state`). */
export interface ProxyUi {
  /** The page, one HTML document with its script and styles inline; undefined when this build has none. */
  page: () => string | undefined;
  /** What the page shows beside `GET /cluster` (the route stats are kept by the app). */
  sources: Omit<UiSources, 'stats'>;
  /** The ring buffer of the requests answered (default: the last 5 minutes in 2 s buckets). */
  stats?: RouteStats;
}

/** What the proxy's HTTP app needs. */
export interface ProxyAppDeps {
  api: PublicApi;
  /** The cluster's membership, health and quorum settings, for `GET /cluster`. */
  cluster: () => ClusterResponse;
  /** Plans or starts a membership change (`POST /cluster/changes`), from a checked request. */
  changeCluster?: (request: { add: { id: string; url: string }[]; remove: string[]; dryRun: boolean }) => Promise<ClusterChangePlan | ClusterChangeStarted>;
  /** Starts (or joins) an anti-entropy round (`POST /cluster/repair`); with `wait`, resolves once it is over. */
  repair?: (request: { keyRange?: { start: number; end: number }; keyRangeText?: string; wait: boolean }) => Promise<RepairStarted>;
  /** The round running or the last one (`GET /cluster/repair`). */
  repairStatus?: () => RepairStatus;
  /** Whether this proxy can serve (joined, at least W data nodes reachable), for `GET /health/ready`. */
  ready: () => ReadyResponse & { ready: boolean };
  /** The text of `GET /metrics` (default: `registry`'s; a worker serves every worker's, aggregated). */
  metricsText?: () => Promise<string>;
  /**
   * When set, `/kv`, `/batch` and `/cluster/changes` requests must carry `Authorization: Bearer <token>`, for any token
   * of a list (a rotation); `GET /cluster` then shows node URLs only to requests carrying the cluster token.
   */
  authToken?: TokenList;
  /** The cluster's tokens (`CLUSTER_TOKEN`): with `authToken` set, a `GET /cluster` carrying one of them sees node URLs. */
  clusterToken?: TokenList;
  /** The process's bounds on requests and bytes in flight (none: unbounded). */
  inFlight?: InFlight;
  /** The deadline of each data request (`REQUEST_TIMEOUT_MS`; default 10 s). */
  deadlines?: RequestDeadlines;
  logger: Logger;
  registry: Registry;
  /**
   * Serve the data routes through Express's router instead of the fast routes in front of it (default false): the
   * same handlers, for measuring what the router costs (docs/ARCHITECTURE.md, Data path).
   */
  expressDataRoutes?: boolean;
  /** The status page; without it `/ui` and `/ui/state` are unknown routes. */
  ui?: ProxyUi;
}

/** The proxy's request handling: fast routes for the data routes in front of the Express app. */
export interface ProxyApp {
  listener: http.RequestListener;
  express: express.Express;
}

/** Largest body of `POST /cluster/changes`. */
const CHANGE_BODY_BYTES_MAX = 64 * 1024;
/** Largest body of `POST /cluster/repair`. */
const REPAIR_BODY_BYTES_MAX = 1024;
/** Most nodes one change may add or remove. */
const CHANGE_NODES_MAX = 64;

const CHANGE_FIELDS = ['add', 'remove', 'dryRun'] as const;
const CHANGE_NODE_FIELDS = ['id', 'url'] as const;

/**
 * Checks a `POST /cluster/changes` body: `add` (ids and http(s) URLs), `remove` (ids), `dryRun`; no other field.
 * @throws KvError `KV_BAD_REQUEST` naming what is wrong.
 */
export function parseChangeRequest(body: unknown): { add: { id: string; url: string }[]; remove: string[]; dryRun: boolean } {
  const bad = (message: string): KvError => new KvError(ErrorCode.BadRequest, message);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body must be {"add": [{"id", "url"}], "remove": ["id"], "dryRun": bool}');
  const raw = body as Record<string, unknown> & ClusterChangeRequest;
  assertKnownFields(raw, CHANGE_FIELDS, 'the request body');
  const idOk = isNodeId;
  const add = raw.add ?? [];
  const remove = raw.remove ?? [];
  if (!Array.isArray(add) || add.length > CHANGE_NODES_MAX) throw bad(`add must be an array of at most ${CHANGE_NODES_MAX} {"id", "url"}`);
  if (!Array.isArray(remove) || remove.length > CHANGE_NODES_MAX) throw bad(`remove must be an array of at most ${CHANGE_NODES_MAX} ids`);
  const added = add.map((entry: unknown, i: number) => {
    const node = entry as { id?: unknown; url?: unknown } | null;
    if (typeof node === 'object' && node !== null) assertKnownFields(node, CHANGE_NODE_FIELDS, `add[${i}]`);
    if (typeof node !== 'object' || node === null || !idOk(node.id)) throw bad(`add[${i}].id must be 1..64 of letters, digits, "_", "." or "-"`);
    if (typeof node.url !== 'string') throw bad(`add[${i}].url must be an http(s) URL`);
    const problem = nodeUrlProblem(node.url);
    if (problem !== undefined) throw bad(`add[${i}].url: ${problem}`);
    return { id: node.id, url: node.url.replace(/\/+$/, '') };
  });
  remove.forEach((id: unknown, i: number) => {
    if (!idOk(id)) throw bad(`remove[${i}] must be a node id`);
  });
  if (raw.dryRun !== undefined && typeof raw.dryRun !== 'boolean') throw bad('dryRun must be true or false');
  return { add: added, remove: remove as string[], dryRun: raw.dryRun === true };
}

const KV_PREFIX = '/kv/';
const KV_ROUTE = '/kv/:key';
const BATCH_PATH = PublicRoutes.batch;

/**
 * Builds the proxy's app on the shared server shell. The data routes (`GET/PUT/DELETE /kv/{key}`, `POST /batch`) are
 * fast routes on Node's request and response: Express costs more per request than everything else the proxy does for
 * a key (see docs/ARCHITECTURE.md). Health, cluster, metrics, unknown routes and errors go through Express. Both paths
 * apply the same limits, token check and error bodies (docs/protocol/http.md).
 */
export function createApp(deps: ProxyAppDeps): ProxyApp {
  const { api, logger } = deps;
  const token = new TokenCheck(deps.authToken, 'missing or wrong token: send Authorization: Bearer <AUTH_TOKEN>');
  const clusterToken = new TokenCheck(deps.clusterToken, 'missing or wrong cluster token');
  const deadlines = deps.deadlines ?? new RequestDeadlines();

  const kvRoute: FastRoute = {
    route: KV_ROUTE,
    matches: (_method, url) => url.startsWith(KV_PREFIX),
    serve: async (req, res, { url, requestId }: RequestContext) => {
      const method = req.method ?? '';
      const queryAt = url.indexOf('?');
      const rawKey = queryAt < 0 ? url.slice(KV_PREFIX.length) : url.slice(KV_PREFIX.length, queryAt);
      if (rawKey.includes('/')) throw new KvError(ErrorCode.NotFound, 'no such route: a key is one path segment (send "/" as %2F)');
      if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') throw new KvError(ErrorCode.NotFound, `no route ${method} ${KV_ROUTE}`);
      token.require(req);
      const query = queryAt < 0 ? undefined : new URLSearchParams(url.slice(queryAt + 1));
      if (method === 'GET') return deadlines.run((scope) => api.get(rawKey, query, requestId, scope), res, api.writeQuorum);
      const body = method === 'PUT' ? await readBody(req, api.singleBodyBytesMax) : undefined;
      return deadlines.run(
        (scope) => (body === undefined ? api.delete(rawKey, query, requestId, scope) : api.put(rawKey, body, query, requestId, scope)),
        res,
        api.writeQuorum,
      );
    },
  };

  const batchRoute: FastRoute = {
    route: BATCH_PATH,
    matches: (method, url) => method === 'POST' && (url === BATCH_PATH || url.startsWith(`${BATCH_PATH}?`)),
    serve: async (req, res, { url, requestId, ticket }: RequestContext) => {
      token.require(req);
      const queryAt = url.indexOf('?');
      const query = queryAt < 0 ? undefined : new URLSearchParams(url.slice(queryAt + 1));
      const body = await readBody(req, api.batchBodyBytesMax);
      return deadlines.run((scope) => api.batch(body, query, requestId, ticket, scope), res, api.writeQuorum);
    },
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  const ui = deps.ui;
  const stats = ui === undefined ? undefined : (ui.stats ?? new RouteStats());
  // The page's own requests are left out of the charts it draws.
  const metrics = new HttpMetrics(
    deps.registry,
    stats === undefined
      ? undefined
      : (route, method, status, seconds) => {
          if (route !== UiRoutes.page && route !== UiRoutes.state) stats.record(route, method, status, seconds);
        },
  );
  const fastRoutes = [kvRoute, batchRoute];
  if (deps.expressDataRoutes === true) {
    // The same handlers behind Express's router (for the benchmark that measures what the router costs).
    const viaRouter = createServerShell({ fastRoutes, fallback: notFoundListener, routeOf, metrics, logger });
    app.all(/^\/kv\//, (req: Request, res: Response) => viaRouter(req, res));
    app.post(PublicRoutes.batch, (req: Request, res: Response) => viaRouter(req, res));
  }

  // Health, readiness, the cluster, changes and metrics take no query parameters: any is refused, not ignored (after the
  // token check where there is one, so a caller without the token still gets 401).
  const noParams = (req: Request): void => assertKnownParams(req.query, [], `${req.method} ${routeOf(req.originalUrl)}`);

  app.get(PublicRoutes.health, (req, res) => {
    noParams(req);
    const body: HealthResponse = { status: 'ok' };
    sendJson(res, 200, JSON.stringify(body));
  });
  app.get(PublicRoutes.ready, (req, res) => {
    noParams(req);
    const { ready, ...counts } = deps.ready();
    if (ready) {
      sendJson(res, 200, JSON.stringify(counts));
      return;
    }
    const why = counts.joined
      ? `this proxy reaches ${counts.nodesUp} of ${counts.nodes} data nodes, fewer than W=${counts.writeQuorum}: it cannot serve writes`
      : 'this proxy has not joined the cluster yet';
    sendJson(res, 503, JSON.stringify({ error: { code: ErrorCode.NotReady, message: why }, nodesUp: counts.nodesUp, nodes: counts.nodes, required: counts.writeQuorum }));
  });
  app.get(PublicRoutes.cluster, (req, res) => {
    noParams(req);
    const view = deps.cluster();
    // The URLs of the data nodes are where the cluster token is sent: with AUTH_TOKEN set, only holders of the
    // cluster token see them (docs/protocol/http.md#get-cluster).
    const shown = token.enabled && !clusterToken.carries(req) ? { ...view, nodes: view.nodes.map(({ url: _url, ...node }) => node) } : view;
    sendJson(res, 200, JSON.stringify(shown));
  });
  app.post(PublicRoutes.clusterChanges, async (req: Request, res: Response) => {
    token.require(req);
    noParams(req);
    const change = deps.changeCluster;
    if (change === undefined) throw new KvError(ErrorCode.ChangeRefused, 'this proxy runs with fixed members');
    const request = parseChangeRequest(parseJsonBody(await readBody(req, CHANGE_BODY_BYTES_MAX), CHANGE_BODY_BYTES_MAX));
    const answer = await change(request);
    sendJson(res, answer.dryRun ? 200 : 202, JSON.stringify(answer));
  });
  app.post(PublicRoutes.clusterRepair, async (req: Request, res: Response) => {
    token.require(req);
    noParams(req);
    const repair = deps.repair;
    if (repair === undefined) throw new KvError(ErrorCode.ChangeRefused, 'this proxy runs without anti-entropy');
    const raw = await readBody(req, REPAIR_BODY_BYTES_MAX);
    const body = raw.length === 0 ? {} : (parseJsonBody(raw, REPAIR_BODY_BYTES_MAX) as unknown);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new KvError(ErrorCode.BadRequest, 'body must be {"keyRange": "<start>:<end>", "wait": bool}');
    assertKnownFields(body, ['keyRange', 'wait'], 'the request body');
    const { keyRange, wait } = body as { keyRange?: unknown; wait?: unknown };
    if (keyRange !== undefined && typeof keyRange !== 'string') throw new KvError(ErrorCode.BadRequest, 'keyRange must be a string "<start>:<end>"');
    if (wait !== undefined && typeof wait !== 'boolean') throw new KvError(ErrorCode.BadRequest, 'wait must be true or false');
    const answer = await repair({ ...(keyRange === undefined ? {} : { keyRange: parseKeyRange(keyRange), keyRangeText: keyRange }), wait: wait === true });
    sendJson(res, wait === true ? 200 : 202, JSON.stringify(answer));
  });
  app.get(PublicRoutes.clusterRepair, (req: Request, res: Response) => {
    token.require(req);
    noParams(req);
    const status = deps.repairStatus;
    if (status === undefined) throw new KvError(ErrorCode.ChangeRefused, 'this proxy runs without anti-entropy');
    sendJson(res, 200, JSON.stringify(status()));
  });
  if (ui !== undefined && stats !== undefined) {
    // The page holds no data, so it loads without the token; it asks for it and sends it with its data requests.
    let policyOf: { page: string; policy: string } | undefined;
    app.get(UiRoutes.page, (req, res) => {
      noParams(req);
      const page = ui.page();
      if (page === undefined) throw new KvError(ErrorCode.NotFound, 'this build has no status page: build the proxy with `npx nx build proxy`, which bundles it');
      res.setHeader('cache-control', 'no-store');
      if (page !== policyOf?.page) policyOf = { page, policy: pagePolicy(page) };
      res.setHeader('content-security-policy', policyOf.policy);
      res.setHeader('x-content-type-options', 'nosniff');
      sendText(res, 200, 'text/html; charset=utf-8', page);
    });
    app.get(UiRoutes.state, (req, res) => {
      token.require(req);
      noParams(req);
      res.setHeader('cache-control', 'no-store');
      sendJson(res, 200, JSON.stringify(uiState(deps.cluster(), { ...ui.sources, stats: () => stats.snapshot() })));
    });
  }
  const metricsText = deps.metricsText;
  const registryMetrics = metricsText === undefined ? metricsHandler(deps.registry) : undefined;
  app.get(PublicRoutes.metrics, (req: Request, res: Response, next: (error?: unknown) => void) => {
    noParams(req);
    if (registryMetrics !== undefined) registryMetrics(req, res, next);
    else metricsText?.().then((text) => sendText(res, 200, deps.registry.contentType, text), next);
  });
  app.use(notFoundHandler());
  app.use(errorHandler(logger, routeOf));

  const listener = createServerShell({
    fastRoutes: deps.expressDataRoutes === true ? [] : fastRoutes,
    fallback: app,
    routeOf,
    inFlight: deps.inFlight,
    unbounded: [PublicRoutes.health, PublicRoutes.ready, PublicRoutes.metrics],
    metrics,
    logger,
  });
  return { listener, express: app };
}

/** Never reached: the router sends only data routes to the shell it wraps. */
const notFoundListener: http.RequestListener = (_req, res) => {
  sendJson(res, 404, JSON.stringify({ error: { code: ErrorCode.NotFound, message: 'no such route' } }));
};

/** The route pattern of a path, for metrics labels. */
function routeOf(url: string): string {
  const path = url.split('?', 1)[0];
  const known: readonly string[] = [
    PublicRoutes.health,
    PublicRoutes.ready,
    PublicRoutes.cluster,
    PublicRoutes.clusterChanges,
    PublicRoutes.clusterRepair,
    PublicRoutes.metrics,
    UiRoutes.page,
    UiRoutes.state,
  ];
  return known.includes(path) ? path : 'unmatched';
}
