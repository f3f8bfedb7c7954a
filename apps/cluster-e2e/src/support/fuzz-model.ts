import { isUtf8 } from 'node:buffer';
import querystring from 'node:querystring';
import { BATCH_OPS_MAX, INTERNAL_BATCH_OPS_MAX, KEY_BYTES_MAX } from '@kv/protocol';
import type { FuzzTarget, GeneratedRequest } from './fuzz-arbitraries';
import type { FuzzResponse } from './fuzz-http';

/**
 * A model of what the servers must accept and refuse, written from docs/protocol/http.md rather than from the servers'
 * code: which keys, values, versions, quorum parameters and operations are valid. The fuzz suite compares each answer
 * with it: a valid request must not be refused (the fuzzer would otherwise only exercise error paths), an accepted one
 * must have been valid, and every batch result must match its operation.
 */

// Answers are arbitrary JSON; the checks narrow what they read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The model's verdict on one input: valid (with its value), or the code the server must refuse it with. */
type Verdict<T> = { ok: true; value: T } | { ok: false; code: string };

const ok = <T>(value: T): Verdict<T> => ({ ok: true, value });
const refuse = <T>(code: string): Verdict<T> => ({ ok: false, code });

const VERSION_PATTERN = /^[0-9a-f]{12}-[0-9a-f]{4}-[a-z0-9_-]{1,16}$/;
/** A version string (`RegExp.test` alone would accept `["0192f1a2b3c4-0000-proxy"]`, which it turns into a string). */
const isVersion = (value: unknown): boolean => typeof value === 'string' && VERSION_PATTERN.test(value);

/** A key decoded from one raw path segment: percent-decoded once, 1 to 1024 bytes of well-formed UTF-8. */
export function modelKeyFromSegment(segment: string): Verdict<string> {
  let key: string;
  try {
    key = decodeURIComponent(segment);
  } catch {
    return refuse('KV_INVALID_KEY');
  }
  return modelKey(key);
}

/** A key as a JSON string (batch bodies): a non-empty string of at most 1024 bytes of UTF-8 without lone surrogates. */
export function modelKey(key: unknown): Verdict<string> {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > KEY_BYTES_MAX || !isWellFormed(key)) return refuse('KV_INVALID_KEY');
  return ok(key);
}

/** The `ttl` of a write: absent, or a whole number of seconds from 1 to 10 years. */
export function modelTtl(ttl: unknown): Verdict<number | undefined> {
  if (ttl === undefined) return ok(undefined);
  return typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 1 && ttl <= 315_360_000 ? ok(ttl) : refuse('KV_BAD_REQUEST');
}

/** The expiry of an internal set: an integer number of ms since the epoch, 0 to 2^53 - 1. */
function isExpiresAt(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A `PUT /kv/{key}` body's value and `ttl`, checked in the server's order (the value first). */
function modelPutBody(body: Json, maxValueBytes: number): Verdict<string> {
  const value = modelValue(body.value, maxValueBytes);
  if (!value.ok) return value;
  const ttl = modelTtl(body.ttl);
  return ttl.ok ? value : refuse(ttl.code);
}

/** A value: a string of at most `maxValueBytes` bytes of UTF-8 (else too large) without lone surrogates. */
export function modelValue(value: unknown, maxValueBytes: number): Verdict<string> {
  if (typeof value !== 'string') return refuse('KV_BAD_REQUEST');
  if (Buffer.byteLength(value) > maxValueBytes) return refuse('KV_TOO_LARGE');
  if (!isWellFormed(value)) return refuse('KV_BAD_REQUEST');
  return ok(value);
}

/** True when `s` has no lone surrogate: it survives a round trip through UTF-8 unchanged. */
function isWellFormed(s: string): boolean {
  return Buffer.from(s, 'utf8').toString('utf8') === s;
}

/** `?w=` / `?r=`: absent, or given once as a decimal integer from 1 to N without sign or leading zeros. */
function modelQuorum(query: URLSearchParams, name: string, replicas: number): boolean {
  const values = query.getAll(name);
  return values.length === 0 || (values.length === 1 && /^[1-9][0-9]{0,8}$/.test(values[0]) && Number(values[0]) <= replicas);
}

/** A JSON body as the servers read it: bytes that must be UTF-8, parsed. */
function modelJson(body: Buffer | undefined): Verdict<Json> {
  const bytes = body ?? Buffer.alloc(0);
  if (!isUtf8(bytes)) return refuse('KV_BAD_REQUEST');
  try {
    return ok(JSON.parse(bytes.toString('utf8')));
  } catch {
    return refuse('KV_BAD_REQUEST');
  }
}

function isObject(value: Json): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every field of an object is one the request takes: any other is refused (`KV_BAD_REQUEST`), never ignored. */
function onlyFields(value: Json, allowed: readonly string[]): boolean {
  return Object.keys(value as object).every((name) => allowed.includes(name));
}

/** Every query parameter is one the route takes. */
function onlyParams(names: Iterable<string>, allowed: readonly string[]): boolean {
  for (const name of names) if (!allowed.includes(name)) return false;
  return true;
}

/** A public batch operation: the status of its result when valid, or the code of its error. */
function modelPublicOp(op: Json, maxValueBytes: number): Verdict<'set' | 'get' | 'del'> {
  if (!isObject(op) || !['set', 'get', 'del'].includes(op.op)) return refuse('KV_BAD_REQUEST');
  if (!onlyFields(op, op.op === 'set' ? ['op', 'key', 'value', 'ttl'] : ['op', 'key'])) return refuse('KV_BAD_REQUEST');
  const key = modelKey(op.key);
  if (!key.ok) return refuse(key.code);
  if (op.op === 'set') {
    const value = modelValue(op.value, maxValueBytes);
    if (!value.ok) return refuse(value.code);
    const ttl = modelTtl(op.ttl);
    if (!ttl.ok) return refuse(ttl.code);
  }
  return ok(op.op);
}

/** An internal batch operation: its kind when valid, or the code of its error. */
function modelInternalOp(op: Json, maxValueBytes: number): Verdict<'write' | 'read'> {
  if (!Array.isArray(op) || !['s', 'd', 'g'].includes(op[0])) return refuse('KV_BAD_REQUEST');
  // A set has 4 elements, or 5 with the expiry of a value that expires.
  const lengthOk = op[0] === 's' ? op.length === 4 || op.length === 5 : op.length === { d: 3, g: 2 }[op[0] as 'd' | 'g'];
  if (!lengthOk) return refuse('KV_BAD_REQUEST');
  const key = modelKey(op[1]);
  if (!key.ok) return refuse(key.code);
  if (op[0] === 'g') return ok('read');
  if (op[0] === 's') {
    const value = modelValue(op[2], maxValueBytes);
    if (!value.ok) return refuse(value.code);
  }
  const version = versionOfInternalOp(op);
  if (!isVersion(version)) return refuse('KV_BAD_REQUEST');
  if (op[0] === 's' && op.length === 5 && !isExpiresAt(op[4])) return refuse('KV_BAD_REQUEST');
  return versionFromTheFuture(version) === 'yes' ? refuse('KV_VERSION_TOO_NEW') : ok('write');
}

/** The version an internal write sends: `["s", key, value, version, expiresAt?]`, `["d", key, version]`. */
function versionOfInternalOp(op: Json[]): string {
  return op[0] === 's' ? op[3] : op[2];
}

/**
 * Whether a data node refuses a version as too far ahead of its clock (`MAX_CLOCK_SKEW_MS`, the default 60 s): `yes`
 * or `no` when it is clear, `maybe` within a second of the bound (the node read its clock at another instant).
 */
export function versionFromTheFuture(version: string): 'yes' | 'no' | 'maybe' {
  const aheadMs = Number.parseInt(version.slice(0, 12), 16) - Date.now();
  if (aheadMs > MAX_CLOCK_SKEW_MS + CLOCK_READ_SLACK_MS) return 'yes';
  return aheadMs > MAX_CLOCK_SKEW_MS - CLOCK_READ_SLACK_MS ? 'maybe' : 'no';
}

/** The data nodes' default bound on versions ahead of their clock. */
const MAX_CLOCK_SKEW_MS = 60_000;
/** How far apart the model's and the node's readings of the clock may be. */
const CLOCK_READ_SLACK_MS = 1000;

/** A batch body `{"ops": [...]}` within the operation limit, or the code of the whole request's refusal. */
function modelOps(body: Buffer | undefined, opsMax: number): Verdict<Json[]> {
  const parsed = modelJson(body);
  if (!parsed.ok) return refuse(parsed.code);
  if (!isObject(parsed.value) || !onlyFields(parsed.value, ['ops']) || !Array.isArray(parsed.value.ops) || parsed.value.ops.length > opsMax) {
    return refuse('KV_BAD_REQUEST');
  }
  return ok(parsed.value.ops);
}

/**
 * The problems of an answer by the model (empty when it agrees). Applies only to requests that reach kv's handlers on
 * the data routes with the right token; the oracle (fuzz-oracle.ts) checks the shape of every answer.
 */
export function checkSemantics(target: FuzzTarget, generated: GeneratedRequest, res: FuzzResponse): string[] {
  const { request } = generated;
  if (!generated.authorized || generated.nodeRefusal !== undefined || generated.bodyOverLimit) return [];
  const method = request.method.toUpperCase();
  const queryAt = request.path.indexOf('?');
  const pathOnly = queryAt < 0 ? request.path : request.path.slice(0, queryAt);
  const queryText = queryAt < 0 ? '' : request.path.slice(queryAt + 1);
  const body = parseAnswer(res);
  if (target.api === 'public') {
    const query = new URLSearchParams(queryText);
    if (pathOnly.startsWith('/kv/') && ['GET', 'PUT', 'DELETE'].includes(method) && !pathOnly.slice(4).includes('/')) {
      return checkPublicKv(target, method, pathOnly.slice(4), query, request.body, res, body);
    }
    if (method === 'POST' && pathOnly === '/batch') return checkPublicBatch(target, query, request.body, res, body);
    return [];
  }
  if (method === 'POST' && request.path === '/internal/batch') return checkInternalBatch(target, request.body, res, body);
  const segment = pathOnly.startsWith('/internal/kv/') ? pathOnly.slice('/internal/kv/'.length) : undefined;
  // Express routes on the path without its fragment: a "#" before the key's end leaves it to the raw-key parsing.
  if (segment !== undefined && !segment.includes('/') && !segment.includes('#') && ['GET', 'PUT', 'DELETE'].includes(method)) {
    return checkInternalKv(target, method, segment, queryText, request.body, res, body);
  }
  return [];
}

function checkPublicKv(
  target: FuzzTarget,
  method: string,
  segment: string,
  query: URLSearchParams,
  requestBody: Buffer | undefined,
  res: FuzzResponse,
  answer: Json,
): string[] {
  const key = modelKeyFromSegment(segment);
  const quorumName = method === 'GET' ? 'r' : 'w';
  const quorum = onlyParams(query.keys(), [quorumName]) && modelQuorum(query, quorumName, target.replicas);
  let value: Verdict<string> | undefined;
  if (method === 'PUT') {
    const parsed = modelJson(requestBody);
    value = !parsed.ok
      ? refuse(parsed.code)
      : isObject(parsed.value) && onlyFields(parsed.value, ['value', 'ttl'])
        ? modelPutBody(parsed.value, target.maxValueBytes)
        : refuse('KV_BAD_REQUEST');
  }
  const valid = key.ok && quorum && (value === undefined || value.ok);
  if (res.status === 200) {
    if (!valid) {
      const valueVerdict = value === undefined || value.ok ? 'valid' : value.code;
      return [`200 to a request the model refuses (key ${key.ok ? 'valid' : 'invalid'}, quorum ${quorum ? 'valid' : 'invalid'}, value ${valueVerdict})`];
    }
    if (answer?.key !== key.value) return [`200 for the key ${JSON.stringify(answer?.key)}, not the decoded ${JSON.stringify(key.value)}`];
    return [];
  }
  if (valid && ![404, 503].includes(res.status)) return [`${res.status} to a valid ${method} of ${JSON.stringify(key.ok ? key.value : segment)}`];
  if (valid && res.status === 404 && method !== 'GET') return [`404 to a valid ${method}`];
  return [];
}

function checkPublicBatch(target: FuzzTarget, query: URLSearchParams, requestBody: Buffer | undefined, res: FuzzResponse, answer: Json): string[] {
  const quorums = onlyParams(query.keys(), ['w', 'r']) && modelQuorum(query, 'w', target.replicas) && modelQuorum(query, 'r', target.replicas);
  const ops = modelOps(requestBody, BATCH_OPS_MAX);
  if (!quorums || !ops.ok) return res.status === 200 ? ['200 to a batch the model refuses as a whole (its quorum parameters or its body)'] : [];
  if (res.status !== 200) return res.status === 503 ? [] : [`${res.status} to a valid batch`];
  const problems: string[] = [];
  ops.value.forEach((op, i) => {
    const verdict = modelPublicOp(op, target.maxValueBytes);
    const result = answer?.results?.[i];
    const shown = (): string => `operation ${i} ${JSON.stringify(op)?.slice(0, 120)}: got ${JSON.stringify(result)?.slice(0, 200)}`;
    if (!verdict.ok) {
      if (result?.error?.code !== verdict.code) problems.push(`${shown()}, expected ${verdict.code}`);
    } else if (result?.status === 200) {
      if (result.key !== op.key) problems.push(`operation ${i}: the result names the key ${JSON.stringify(result.key)}, not ${JSON.stringify(op.key)}`);
      const readShaped = result.acks === undefined;
      if (readShaped !== (verdict.value === 'get')) problems.push(`operation ${i} (${verdict.value}): a result of another operation`);
    } else if (!(result?.status === 503 || (result?.status === 404 && verdict.value === 'get'))) {
      problems.push(`${shown()}, but the operation is valid`);
    }
  });
  return problems;
}

function checkInternalBatch(target: FuzzTarget, requestBody: Buffer | undefined, res: FuzzResponse, answer: Json): string[] {
  const ops = modelOps(requestBody, INTERNAL_BATCH_OPS_MAX);
  if (!ops.ok) return res.status === 200 ? ['200 to an internal batch the model refuses as a whole'] : [];
  if (res.status !== 200) return [`${res.status} to a valid internal batch`];
  const problems: string[] = [];
  ops.value.forEach((op, i) => {
    const verdict = modelInternalOp(op, target.maxValueBytes);
    const result = answer?.results?.[i];
    const shown = (): string => `operation ${i} ${JSON.stringify(op)?.slice(0, 120)}: got ${JSON.stringify(result)?.slice(0, 200)}`;
    if (!verdict.ok) {
      if (result?.error?.code !== verdict.code) problems.push(`${shown()}, expected ${verdict.code}`);
    } else if (verdict.value === 'write' && result?.error?.code === 'KV_VERSION_TOO_NEW' && versionFromTheFuture(versionOfInternalOp(op)) === 'maybe') {
      // At the bound: either answer is right.
    } else if (verdict.value === 'read') {
      if (!(result === null || (Array.isArray(result) && isVersion(result[0])))) problems.push(`${shown()}, expected an entry or null`);
    } else {
      const sent = versionOfInternalOp(op);
      const applied = Array.isArray(result) && result[0] === 1 && result[1] === sent;
      const ignored = Array.isArray(result) && result[0] === 0 && typeof result[1] === 'string' && result[1] >= sent;
      if (!applied && !ignored) problems.push(`${shown()}, expected [1, the version sent] or [0, a version at least as new]`);
    }
  });
  return problems;
}

function checkInternalKv(
  target: FuzzTarget,
  method: string,
  segment: string,
  queryText: string,
  requestBody: Buffer | undefined,
  res: FuzzResponse,
  answer: Json,
): string[] {
  const key = modelKeyFromSegment(segment);
  let version: string | undefined;
  let rest: Verdict<unknown> = ok(undefined);
  // Express's "simple" query parser: node:querystring on the query without its fragment; a repeated parameter
  // becomes an array.
  const params = querystring.parse(queryText.split('#', 1)[0]);
  if (!onlyParams(Object.keys(params), method === 'DELETE' ? ['version'] : [])) rest = refuse('KV_BAD_REQUEST');
  else if (method === 'PUT') {
    const parsed = modelJson(requestBody);
    if (!parsed.ok || !isObject(parsed.value) || !onlyFields(parsed.value, ['value', 'version'])) rest = refuse('KV_BAD_REQUEST');
    else {
      const value = modelValue(parsed.value.value, target.maxValueBytes);
      version = parsed.value.version;
      rest = !value.ok ? value : isVersion(parsed.value.version) ? ok(undefined) : refuse('KV_BAD_REQUEST');
    }
  } else if (method === 'DELETE') {
    const raw = params.version;
    version = typeof raw === 'string' ? raw : undefined;
    rest = version !== undefined && isVersion(version) ? ok(undefined) : refuse('KV_BAD_REQUEST');
  }
  const future = method !== 'GET' && rest.ok && version !== undefined ? versionFromTheFuture(version) : 'no';
  if (future === 'yes' || (future === 'maybe' && res.status === 409)) {
    return key.ok && !(res.status === 409 && answer?.error?.code === 'KV_VERSION_TOO_NEW') ? [`${res.status} to a version from the future, expected 409 KV_VERSION_TOO_NEW`] : [];
  }
  const valid = key.ok && rest.ok;
  if (res.status === 200) {
    if (!valid) return ['200 to an internal request the model refuses'];
    if (answer?.key !== key.value) return [`200 for the key ${JSON.stringify(answer?.key)}, not the decoded ${JSON.stringify(key.value)}`];
    if (method !== 'GET' && answer.applied === true && answer.version !== version) {
      return [`applied, but reports the version ${answer.version}, not the one sent (${version})`];
    }
    if (method !== 'GET' && answer.applied === false && !(answer.version >= (version ?? ''))) {
      return [`not applied, but reports an older version ${answer.version} than the one sent (${version})`];
    }
    return [];
  }
  if (valid && !(res.status === 404 && method === 'GET')) return [`${res.status} to a valid internal ${method}`];
  return [];
}

function parseAnswer(res: FuzzResponse): Json {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    return undefined;
  }
}
