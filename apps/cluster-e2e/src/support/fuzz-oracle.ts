import { ERROR_STATUS, ErrorCode, REQUEST_ID_HEADER } from '@kv/protocol';
import { headerOf, type FuzzOutcome, type FuzzResponse } from './fuzz-http';

/**
 * The fuzz oracle: what every answer of a kv server must look like (docs/protocol/http.md, docs/errors.md), whatever
 * was asked. It returns the problems it finds as sentences, so that a failing property
 * shows all of them next to the request fast-check found.
 */

/** Which server answered. */
export type FuzzApi = 'public' | 'internal';

/** What the oracle knows about the request behind an answer. */
export interface OracleContext {
  api: FuzzApi;
  /** Method and path as sent; undefined for pipelined raw bytes, whose answers cannot be matched to one request. */
  method?: string;
  path?: string;
  /** N: the most acknowledgements a write can report. */
  replicas: number;
  /** The server requires a token, and whether the request carried the right one (as the server reads headers). */
  tokenRequired: boolean;
  authorized: boolean;
  /**
   * Why Node's HTTP layer may refuse the request before kv's handler sees it (not valid HTTP/1.1, over Node's header
   * limit, an `Expect` it does not meet); undefined when the request is valid HTTP/1.1 within the limits.
   */
  nodeRefusal?: string;
  /** Node's HTTP layer must refuse the request (a kv answer would mean a Node limit is not in force). */
  nodeMustRefuse?: boolean;
  /** The body exceeds the route's byte limit: the server may answer 413 and close while the client still sends. */
  bodyOverLimit?: boolean;
  /** The number of operations of a batch body that has the `{"ops": [...]}` shape within the operation limit. */
  batchOps?: number;
}

/** Statuses Node's own HTTP layer answers with (no kv body) to requests it refuses before any handler runs. */
const NODE_REFUSAL_STATUSES = new Set([400, 408, 413, 417, 431, 505]);

/**
 * The error statuses a kv server may answer with, and the codes each allows: the registry's table
 * (docs/errors.md#codes), without `KV_INTERNAL` (a bug, which the fuzzer exists to find) and `KV_UNAVAILABLE`
 * (client side only).
 */
const CODES_OF_STATUS: ReadonlyMap<number, readonly string[]> = (() => {
  const table = new Map<number, string[]>();
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    if (code === ErrorCode.Internal || code === ErrorCode.Unavailable) continue;
    table.set(status, [...(table.get(status) ?? []), code]);
  }
  return table;
})();

const VERSION_PATTERN = /^[0-9a-f]{12}-[0-9a-f]{4}-[a-z0-9_-]{1,16}$/;
/** A version string (`RegExp.test` alone would accept `["0192f1a2b3c4-0000-proxy"]`, which it turns into a string). */
const isVersion = (value: unknown): boolean => typeof value === 'string' && VERSION_PATTERN.test(value);
/** What a leaked exception looks like in a body: a stack frame, a source path, an HTML error page. */
const LEAK = /\n\s+at |\bat [\w.<>]+ \(|\/work\/|node_modules|\.(?:ts|js):\d+|<html|<!DOCTYPE|<pre>/i;

// Answers are arbitrary JSON; each check below narrows what it reads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The problems of one outcome (empty when it is a correct answer to the request described by `ctx`). */
export function checkOutcome(outcome: FuzzOutcome, ctx: OracleContext): string[] {
  if (outcome.kind === 'closed') {
    if (ctx.nodeRefusal !== undefined || ctx.bodyOverLimit === true) return [];
    return [`the connection closed without an answer (${outcome.reason})`];
  }
  return checkResponse(outcome.response, ctx);
}

/** The problems of one response. */
export function checkResponse(res: FuzzResponse, ctx: OracleContext): string[] {
  const problems: string[] = [];
  const text = res.body.toString('utf8');
  if (LEAK.test(text)) problems.push('the body leaks an exception, a source path or an HTML page');
  if (res.status >= 500 && res.status !== 503) problems.push(`status ${res.status}: a server error`);

  if (res.headers[REQUEST_ID_HEADER] === undefined) {
    // Only kv's handlers set x-request-id, first thing: an answer without it comes from Node's HTTP parser, which refuses
    // requests that are not valid HTTP/1.1 (unknown method, bad framing, missing Host, headers over 16 KiB, a slow
    // sender) with a bare status and no kv body. Accepted for such requests only.
    if (ctx.nodeRefusal === undefined) problems.push(`status ${res.status} from Node's HTTP layer (no ${REQUEST_ID_HEADER}) to a valid request`);
    else if (!NODE_REFUSAL_STATUSES.has(res.status)) problems.push(`Node's HTTP layer answered ${res.status}`);
    return problems;
  }
  if (ctx.nodeMustRefuse === true) problems.push(`kv answered ${res.status} to a request Node's HTTP layer must refuse (${ctx.nodeRefusal})`);

  const isHead = ctx.method === 'HEAD';
  const contentType = headerOf(res, 'content-type') ?? '';
  const route = ctx.path === undefined ? undefined : routeOf(ctx.api, ctx.method ?? '', ctx.path);

  if (res.status >= 200 && res.status < 300) {
    if (res.status !== 200) problems.push(`success status ${res.status} (kv answers 200)`);
    if (route === 'metrics' || (route === undefined && contentType.startsWith('text/plain'))) {
      if (!contentType.startsWith('text/plain')) problems.push(`metrics with content-type ${contentType}`);
      if (!isHead && !text.includes('process_resident_memory_bytes')) problems.push('metrics without process metrics');
      return problems;
    }
    if (ctx.api === 'internal' && contentType.startsWith('application/x-ndjson')) {
      // GET /internal/entries streams one [key, version, value or null] per line, and [key, version, value, expiresAt]
      // for a value that expires.
      if (route !== undefined && route !== 'internal-other') problems.push(`entries streamed on ${route}`);
      const lines = text.split('\n').filter((line) => line.length > 0);
      const wrong = lines.find((line) => {
        const entry = parse(line);
        if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !isVersion(entry[1])) return true;
        if (entry.length === 4) return !(typeof entry[2] === 'string' && isExpiresAt(entry[3]));
        return !(entry.length === 3 && (entry[2] === null || typeof entry[2] === 'string'));
      });
      if (wrong !== undefined) problems.push(`an entry line of no entry shape: ${snippet(wrong)}`);
      return problems;
    }
    if (!contentType.startsWith('application/json')) problems.push(`200 with content-type ${JSON.stringify(contentType)}`);
    if (isHead) return problems;
    const body = parse(text);
    if (body === undefined) return [...problems, `200 with a body that is not JSON: ${snippet(text)}`];
    const shapeProblem = checkSuccess(ctx, route, body);
    if (shapeProblem !== undefined) problems.push(shapeProblem);
  } else if (CODES_OF_STATUS.has(res.status)) {
    if (!contentType.startsWith('application/json')) problems.push(`${res.status} with content-type ${JSON.stringify(contentType)}`);
    if (!isHead) {
      const body = parse(text);
      const shapeProblem = body === undefined ? `${res.status} with a body that is not JSON: ${snippet(text)}` : checkErrorBody(res.status, body);
      if (shapeProblem !== undefined) problems.push(shapeProblem);
      else if (res.status === 503 && (ctx.api === 'internal' || (route !== 'kv' && route !== 'batch' && route !== undefined))) {
        // Only the proxy's data routes wait for replicas; nothing else has a quorum to miss.
        problems.push(`503 on ${route ?? ctx.api}, which involves no replica`);
      }
    }
  } else if (res.status < 500) {
    problems.push(`status ${res.status}, not one of the contract's (${[...CODES_OF_STATUS.keys()].join(', ')})`);
  }

  if (ctx.tokenRequired && route !== undefined && route !== 'unrouted') {
    const needsToken = ctx.api === 'public' ? route === 'kv' || route === 'batch' : route.startsWith('internal');
    if (needsToken && !ctx.authorized && res.status !== 401) problems.push(`${res.status} to a request without the right token (expected 401)`);
  }
  if (ctx.authorized && res.status === 401) problems.push('401 to a request with the right token');
  return problems;
}

/** The route a request reaches, as the servers route it (app.ts of the proxy and of the data node): lean handlers first, then Express. */
export type FuzzRoute = 'kv' | 'batch' | 'health' | 'cluster' | 'metrics' | 'internal-kv' | 'internal-batch' | 'internal-other' | 'unrouted';

/** The route of `method path` on the `api`'s server (only the routes whose answers have a shape to check). */
export function routeOf(api: FuzzApi, method: string, path: string): FuzzRoute {
  // The lean handlers read the raw request target; Express routes on its path, without query or fragment, matched
  // case-insensitively and with an optional trailing slash.
  const pathOnly = path.split('?', 1)[0];
  const expressPath = path.split(/[?#]/, 1)[0];
  const express = expressPath.toLowerCase().replace(/(.)\/$/, '$1');
  const get = method === 'GET' || method === 'HEAD';
  if (api === 'public') {
    if (path.startsWith('/kv/')) return pathOnly.slice(4).includes('/') || !['GET', 'PUT', 'DELETE'].includes(method) ? 'unrouted' : 'kv';
    if (method === 'POST' && pathOnly === '/batch' && (path === '/batch' || path.startsWith('/batch?'))) return 'batch';
  } else {
    if (method === 'POST' && path === '/internal/batch') return 'internal-batch';
    if (/^\/internal\/kv\/[^/]*$/.test(expressPath) && (get || method === 'PUT' || method === 'DELETE')) return 'internal-kv';
    if (express === '/internal' || express.startsWith('/internal/')) return 'internal-other';
  }
  if (get && express === '/health') return 'health';
  if (get && express === '/metrics') return 'metrics';
  if (api === 'public' && get && express === '/cluster') return 'cluster';
  return 'unrouted';
}

function checkSuccess(ctx: OracleContext, route: FuzzRoute | undefined, body: Json): string | undefined {
  const shapes = route === undefined ? shapesOf(ctx.api) : [route];
  for (const shape of shapes) {
    const problem = checkShape(shape, ctx, body);
    if (problem === undefined) return undefined;
    if (shapes.length === 1) return problem;
  }
  return `200 with a body of no success shape of the ${ctx.api} API: ${snippet(JSON.stringify(body))}`;
}

function shapesOf(api: FuzzApi): FuzzRoute[] {
  return api === 'public' ? ['kv', 'batch', 'health', 'cluster'] : ['internal-kv', 'internal-batch', 'health'];
}

function checkShape(route: FuzzRoute, ctx: OracleContext, body: Json): string | undefined {
  const bad = (what: string): string => `200 on ${route} with ${what}: ${snippet(JSON.stringify(body))}`;
  switch (route) {
    case 'kv':
      return isKvSuccess(body, ctx.replicas, ctx.method) ? undefined : bad('no key answer shape');
    case 'batch': {
      if (!isObject(body) || !Array.isArray(body.results) || Object.keys(body).length !== 1) return bad('no {"results": [...]}');
      if (ctx.batchOps !== undefined && body.results.length !== ctx.batchOps) return bad(`${body.results.length} results for ${ctx.batchOps} operations`);
      const wrong = body.results.find((result: Json) => !isBatchResult(result, ctx.replicas));
      return wrong === undefined ? undefined : bad(`the result ${snippet(JSON.stringify(wrong))}`);
    }
    case 'health':
      return isObject(body) && body.status === 'ok' && (ctx.api === 'public' || (typeof body.nodeId === 'string' && Number.isInteger(body.keys)))
        ? undefined
        : bad('no health shape');
    case 'cluster':
      return isObject(body) && Array.isArray(body.nodes) && body.nodes.length > 0 && Number.isInteger(body.replicas) && Number.isInteger(body.vnodes)
        ? undefined
        : bad('no cluster shape');
    case 'internal-kv':
      if (ctx.method === 'GET' || ctx.method === undefined) {
        const isEntry = isObject(body) && typeof body.key === 'string' && isVersion(body.version) && typeof body.tombstone === 'boolean';
        const expiry = !isEntry || body.expiresAt === undefined || (!body.tombstone && isExpiresAt(body.expiresAt));
        if (isEntry && expiry && (body.tombstone ? body.value === null : typeof body.value === 'string')) return undefined;
        if (ctx.method === 'GET') return bad('no entry shape');
      }
      if (isObject(body) && typeof body.key === 'string' && typeof body.applied === 'boolean' && isVersion(body.version)) return undefined;
      return bad('no write answer shape');
    case 'internal-batch': {
      if (!isObject(body) || !Array.isArray(body.results) || Object.keys(body).length !== 1) return bad('no {"results": [...]}');
      if (ctx.batchOps !== undefined && body.results.length !== ctx.batchOps) return bad(`${body.results.length} results for ${ctx.batchOps} operations`);
      const wrong = body.results.find((result: Json) => !isInternalResult(result));
      return wrong === undefined ? undefined : bad(`the result ${snippet(JSON.stringify(wrong))}`);
    }
    case 'internal-other':
      // The coordinators' routes (status, registration, refill records) answer a node's status.
      return isObject(body) && body.status === 'ok' && typeof body.incarnation === 'string' && typeof body.filled === 'boolean'
        ? undefined
        : bad('no node status shape');
    default:
      return bad(`a success where none is possible (${route})`);
  }
}

/** An expiry time: whole ms since the epoch. */
function isExpiresAt(value: Json): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isKvSuccess(body: Json, replicas: number, method: string | undefined): boolean {
  if (!isObject(body) || typeof body.key !== 'string' || !isVersion(body.version)) return false;
  // Writes with a ttl, and reads of keys that expire, carry expiresAt.
  if (body.expiresAt !== undefined && !isExpiresAt(body.expiresAt)) return false;
  const read = typeof body.value === 'string' && body.acks === undefined;
  const write = body.value === undefined && Number.isInteger(body.acks) && body.acks >= 1 && body.acks <= replicas;
  if (method === 'GET') return read;
  if (method === 'PUT' || method === 'DELETE') return write;
  return read || write;
}

function isBatchResult(result: Json, replicas: number): boolean {
  if (!isObject(result) || !Number.isInteger(result.status)) return false;
  if (result.status === 200) {
    const { status: _status, ...rest } = result;
    return isKvSuccess(rest, replicas, undefined);
  }
  const { status, ...rest } = result;
  return checkErrorBody(status, rest) === undefined;
}

function isInternalResult(result: Json): boolean {
  if (result === null) return true;
  if (Array.isArray(result)) {
    // A read of a value that expires: [version, value, expiresAt].
    if (result.length === 3) return isVersion(result[0]) && typeof result[1] === 'string' && isExpiresAt(result[2]);
    if (result.length !== 2) return false;
    const [first, second] = result;
    if (first === 0 || first === 1) return isVersion(second);
    return isVersion(first) && (second === null || typeof second === 'string');
  }
  const opCodes: string[] = [ErrorCode.BadRequest, ErrorCode.InvalidKey, ErrorCode.TooLarge, ErrorCode.VersionTooNew];
  return checkErrorBody(undefined, result) === undefined && opCodes.includes(result.error.code);
}

/**
 * Checks an error body: exactly `{"error": {"code", "message"}}` (plus `acks` and `required` for `KV_QUORUM_FAILED`), a
 * code of the contract whose status is `status` (when given), and a message for people.
 */
export function checkErrorBody(status: number | undefined, body: Json): string | undefined {
  const shown = snippet(JSON.stringify(body));
  if (!isObject(body) || !isObject(body.error)) return `${status} without an error body: ${shown}`;
  const { code, message } = body.error;
  const codes = status === undefined ? [...CODES_OF_STATUS.values()].flat() : CODES_OF_STATUS.get(status) ?? [];
  if (!codes.includes(code)) return `${status} with the code ${JSON.stringify(code)}: ${shown}`;
  if (typeof message !== 'string' || message.length === 0) return `${status} without a message: ${shown}`;
  if (Object.keys(body.error).length !== 2) return `an error with fields besides code and message: ${shown}`;
  const extra = Object.keys(body).filter((k) => k !== 'error');
  if (code === ErrorCode.QuorumFailed) {
    if (!Number.isInteger(body.acks) || !Number.isInteger(body.required) || body.acks >= body.required) {
      return `a quorum failure without consistent acks and required: ${shown}`;
    }
  } else if (extra.length > 0) {
    return `an error body with fields besides "error" (${extra.join(', ')}): ${shown}`;
  }
  return undefined;
}

function isObject(value: Json): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parse(text: string): Json | undefined {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short, printable excerpt of a body for a failure message. */
export function snippet(text: string, length = 300): string {
  return JSON.stringify(text.length > length ? `${text.slice(0, length)}...` : text);
}
