import type http from 'node:http';
import { ErrorCode, KvError, REQUEST_ID_HEADER } from '@kv/protocol';
import type { Registry } from 'prom-client';
import { acceptRequestId, bearerMatches, sendError, sendJson, sendText } from './http';
import { attachTicket, type InFlight, type InFlightTicket } from './in-flight';
import type { Logger } from './logger';
import { HttpMetrics, secondsSince } from './metrics';

/** What a fast route's handler gets besides the request and the response. */
export interface RequestContext {
  /** The raw request target (path and query, still percent-encoded). */
  readonly url: string;
  /** The request id: the client's `X-Request-Id` when acceptable, else a new one; echoed in the response. */
  readonly requestId: string;
  /** Its share of the process's in-flight bounds, when the server has them: an answer reserves its bytes there. */
  readonly ticket?: InFlightTicket;
}

/** A 200 answer already encoded (e.g. by the internal codec), sent as it is. */
export class EncodedBody {
  constructor(
    readonly contentType: string,
    readonly body: Buffer | string,
  ) {}
}

/**
 * A hot route served on Node's request and response, in front of the framework: the handler returns the JSON body of
 * a 200 answer (or an {@link EncodedBody}), or throws (a `KvError` is answered with its status and body; anything else as `KV_INTERNAL`).
 */
export interface FastRoute {
  /** The route pattern, for metrics and logs (`/kv/:key`), never the raw path. */
  readonly route: string;
  /** Whether this route serves the request. */
  matches(method: string, url: string): boolean;
  /** Serves it: resolves with the body of the 200 answer (JSON-serialized by the shell). */
  serve(req: http.IncomingMessage, res: http.ServerResponse, context: RequestContext): Promise<unknown>;
}

/** Options of {@link createServerShell}. */
export interface ServerShellOptions {
  /** The hot routes, tried in order. */
  fastRoutes: readonly FastRoute[];
  /** Everything else: the app's router (an Express app is such a listener). */
  fallback: http.RequestListener;
  /** The route pattern of a request the fallback serves, for metrics labels (never the raw path). */
  routeOf(url: string): string;
  metrics: HttpMetrics;
  logger: Logger;
  /** The process's bounds on requests and bytes in flight; requests beyond them are refused with 503 `KV_OVERLOADED`. */
  inFlight?: InFlight;
  /**
   * Routes served whatever the load (health, readiness, metrics: cheap, and a probe that fails under load would get
   * a busy process restarted): route patterns as `routeOf` names them.
   */
  unbounded?: readonly string[];
}

/**
 * The request listener both servers use: request ids, the fast routes in front of the app's router, metrics by route,
 * and the same error bodies and logs on both paths. Failures are logged by kind: a bug (`KV_INTERNAL`) as an error,
 * a missed quorum as a warning, a refusal (bad input, auth, overload) at debug level only.
 */
export function createServerShell(options: ServerShellOptions): http.RequestListener {
  const { fastRoutes, fallback, metrics, logger } = options;
  const serveFast = async (fast: FastRoute, req: http.IncomingMessage, res: http.ServerResponse, context: RequestContext, start: bigint): Promise<void> => {
    const method = req.method ?? '';
    try {
      const body = await fast.serve(req, res, context);
      if (body instanceof EncodedBody) sendText(res, 200, body.contentType, body.body);
      else sendJson(res, 200, JSON.stringify(body));
      metrics.observe(fast.route, method, 200, secondsSince(start));
    } catch (thrown) {
      const error = sendError(res, thrown);
      metrics.observe(fast.route, method, error.status, secondsSince(start));
      logFailure(logger, error, { route: fast.route, method, requestId: context.requestId });
    }
  };
  const { inFlight } = options;
  const unbounded = new Set(options.unbounded ?? []);
  /** Admits the request into the in-flight bounds, or answers 503 and returns undefined. */
  const admit = (req: http.IncomingMessage, res: http.ServerResponse, route: string, method: string, requestId: string, start: bigint): InFlightTicket | false => {
    const declared = Number(req.headers['content-length'] ?? 0);
    try {
      const ticket = (inFlight as InFlight).admit(Number.isSafeInteger(declared) && declared > 0 ? declared : 0);
      attachTicket(req, ticket);
      res.once('close', () => ticket.release());
      return ticket;
    } catch (thrown) {
      const error = sendError(res, thrown);
      metrics.observe(route, method, error.status, secondsSince(start));
      logFailure(logger, error, { route, method, requestId });
      return false;
    }
  };
  return (req, res) => {
    const start = process.hrtime.bigint();
    const requestId = acceptRequestId(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const url = req.url ?? '/';
    const method = req.method ?? '';
    for (const fast of fastRoutes) {
      if (fast.matches(method, url)) {
        let ticket: InFlightTicket | undefined;
        if (inFlight !== undefined) {
          const admitted = admit(req, res, fast.route, method, requestId, start);
          if (admitted === false) return;
          ticket = admitted;
        }
        void serveFast(fast, req, res, { url, requestId, ticket }, start);
        return;
      }
    }
    if (inFlight !== undefined) {
      const route = options.routeOf(url);
      if (!unbounded.has(route) && admit(req, res, route, method, requestId, start) === false) return;
    }
    res.once('finish', () => metrics.observe(options.routeOf(url), method, res.statusCode, secondsSince(start)));
    fallback(req, res);
  };
}

/** Logs a failed request by kind (see {@link createServerShell}). */
export function logFailure(logger: Logger, error: KvError, fields: Record<string, unknown>): void {
  if (error.code === ErrorCode.Internal) {
    logger.error('request failed', { ...fields, err: error.cause ?? error });
  } else if (error.code === ErrorCode.QuorumFailed) {
    logger.warn('quorum not reached', { ...fields, acks: error.details?.acks, required: error.details?.required });
  } else {
    logger.debug('request refused', { ...fields, status: error.status, code: error.code });
  }
}

/** A request as the framework-neutral handlers below see it (Express's request is one). */
type RoutedRequest = http.IncomingMessage & { path?: string };

/** The app router's last handler: every request that no route served is `404 KV_NOT_FOUND`. */
export function notFoundHandler(): (req: RoutedRequest) => never {
  return (req) => {
    throw new KvError(ErrorCode.NotFound, `no route ${req.method} ${req.path ?? (req.url ?? '').split('?', 1)[0]}`);
  };
}

/** The app router's error handler: the error body of any thrown value, logged by kind. */
export function errorHandler(
  logger: Logger,
  routeOf: (url: string) => string,
): (thrown: unknown, req: RoutedRequest, res: http.ServerResponse, next: (error?: unknown) => void) => void {
  // Four parameters: that is how a router tells an error handler from a request handler.
  return (thrown, req, res, _next) => {
    logFailure(logger, sendError(res, thrown), { route: routeOf(req.url ?? ''), method: req.method });
  };
}

/** `GET /metrics`: the registry in Prometheus text format. */
export function metricsHandler(registry: Registry): (req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void) => void {
  return (_req, res, next) => {
    registry.metrics().then(
      (text) => sendText(res, 200, registry.contentType, text),
      (error: unknown) => next(error),
    );
  };
}

/**
 * The bearer-token check of an API: with no token configured every request passes; otherwise the request must carry
 * `Authorization: Bearer <token>` (compared in constant time).
 */
export class TokenCheck {
  constructor(
    private readonly token: string | undefined,
    private readonly refusal: string,
  ) {}

  /** Whether a token is required at all. */
  get enabled(): boolean {
    return this.token !== undefined;
  }

  /** Whether the request carries the token (always true when none is required). */
  passes(req: http.IncomingMessage): boolean {
    return this.token === undefined || bearerMatches(req.headers.authorization, this.token);
  }

  /** @throws KvError `KV_UNAUTHORIZED` unless the request carries the token. */
  require(req: http.IncomingMessage): void {
    if (!this.passes(req)) throw new KvError(ErrorCode.Unauthorized, this.refusal);
  }
}
