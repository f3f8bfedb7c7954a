import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  batchBodyBytesMax,
  BatchResult,
  ClusterNode,
  decodeKey,
  ErrorCode,
  errorResponse,
  HybridClock,
  isInvalidOp,
  KvError,
  parseJsonBody,
  parsePublicBatch,
  parsePutBody,
  parsePutTtl,
  parseQuorumParam,
  singleBodyBytesMax,
} from '@kv/protocol';
import type { FakeMembership } from './fake-membership';

/** A request as the fake proxy received it. */

/** The time a fake proxy counts `ttl` from, for stable answers: 2030-01-01T00:00:00Z. */
export const FAKE_EXPIRY_BASE_MS = Date.UTC(2030, 0, 1);

export interface RecordedRequest {
  method: string;
  /** The raw request target, still percent-encoded. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Options of {@link startFakeProxy}. */
export interface FakeProxyOptions {
  /** Like the proxy's `AUTH_TOKEN`: `/kv` and `/batch` then need `Authorization: Bearer <token>`. */
  token?: string;
  /** The nodes `GET /cluster` reports; three healthy ones by default. */
  nodes?: ClusterNode[];
  /** Largest value accepted, in bytes (the proxy's `MAX_VALUE_BYTES`); small values make `KV_TOO_LARGE` easy to hit. */
  valueBytesMax?: number;
  /**
   * A cluster map with membership changes: `GET /cluster` then answers from it (with `epoch` and `change`, instead of
   * `nodes`), and `POST /cluster/changes` works (with the token, when one is set).
   */
  membership?: FakeMembership;
}

/** A started fake proxy. */
export interface FakeProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The stored values by key. */
  readonly store: Map<string, { value: string; version: string }>;
  /** Every request, in order of arrival. */
  readonly requests: RecordedRequest[];
  /** Keys whose reads and writes fail with `503 KV_QUORUM_FAILED` (1 of the required replicas answered). */
  readonly quorumFailures: Set<string>;
  /** Keys whose requests answer `500 KV_INTERNAL`. */
  readonly internalFailures: Set<string>;
  /** Keys whose requests are read whole, then the connection is destroyed without an answer. */
  readonly droppedConnections: Set<string>;
  /**
   * False makes it a proxy that reaches too few data nodes: everything but `GET /health` answers `503 KV_NOT_READY`.
   * True by default.
   */
  ready: boolean;
  /** Closes the server and every connection. */
  close(): Promise<void>;
}

const REPLICAS = 3;
const WRITE_QUORUM = 2;
const READ_QUORUM = 2;
const VNODES = 128;
const FAKE_VALUE_BYTES_MAX_DEFAULT = 1_048_576;
const CHANGE_BODY_BYTES_MAX = 64 * 1024;

/**
 * Starts an in-memory stand-in for the kv proxy on 127.0.0.1, port 0: the public API of the contract (`/kv/{key}` with
 * `?w=`/`?r=`, `/batch`, `/health`, `/health/ready`, `/cluster`), its validation and its exact error bodies, with
 * injectable quorum failures, server bugs, dropped connections and a proxy that is not ready. One replica set, no
 * persistence: for testing clients.
 */
export async function startFakeProxy(options: FakeProxyOptions = {}): Promise<FakeProxy> {
  const store = new Map<string, { value: string; version: string; expiresAt?: number }>();
  const requests: RecordedRequest[] = [];
  const quorumFailures = new Set<string>();
  const internalFailures = new Set<string>();
  const droppedConnections = new Set<string>();
  const state = { ready: true };
  const clock = new HybridClock({ clock: Date, clockId: 'fake' });
  const valueBytesMax = options.valueBytesMax ?? FAKE_VALUE_BYTES_MAX_DEFAULT;
  const nodes: ClusterNode[] = options.nodes ?? [
    { id: 'node1', url: 'http://127.0.0.1:8001', status: 'up' },
    { id: 'node2', url: 'http://127.0.0.1:8002', status: 'up' },
    { id: 'node3', url: 'http://127.0.0.1:8003', status: 'up' },
  ];

  const checkFaults = (key: string, kind: 'write' | 'read', required: number): void => {
    if (quorumFailures.has(key)) throw KvError.quorumFailed(kind, { acks: 1, required });
    if (internalFailures.has(key)) throw new Error('a bug in the fake proxy');
  };
  /** A write; with `ttl`, it expires `ttl` s after {@link FAKE_EXPIRY_BASE_MS} (a fixed time, so answers are stable). */
  const set = (key: string, value: string, w: number, ttl?: number): { key: string; version: string; acks: number; expiresAt?: number } => {
    checkFaults(key, 'write', w);
    const version = clock.next();
    if (ttl === undefined) {
      store.set(key, { value, version });
      return { key, version, acks: w };
    }
    const expiresAt = FAKE_EXPIRY_BASE_MS + ttl * 1000;
    store.set(key, { value, version, expiresAt });
    return { key, version, acks: w, expiresAt };
  };
  const get = (key: string, r: number): { key: string; value: string; version: string } => {
    checkFaults(key, 'read', r);
    const entry = store.get(key);
    if (entry === undefined) throw new KvError(ErrorCode.NotFound, 'key not found');
    return { key, ...entry };
  };
  const del = (key: string, w: number): { key: string; version: string; acks: number } => {
    checkFaults(key, 'write', w);
    store.delete(key);
    return { key, version: clock.next(), acks: w };
  };

  const answer = (req: RecordedRequest): { status: number; body: unknown } => {
    const [path, queryText = ''] = req.url.split('?');
    const query = new URLSearchParams(queryText);
    const param = (name: string): string | string[] | undefined => {
      const values = query.getAll(name);
      return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
    };
    if (req.method === 'GET' && path === '/health') return { status: 200, body: { status: 'ok' } };
    if (!state.ready) {
      const why = `this proxy reaches 1 of ${nodes.length} data nodes, fewer than W=${WRITE_QUORUM}`;
      throw new KvError(ErrorCode.NotReady, why);
    }
    if (req.method === 'GET' && path === '/health/ready') {
      const counts = { nodesUp: nodes.length, nodes: nodes.length, writeQuorum: WRITE_QUORUM, joined: true };
      return { status: 200, body: { status: 'ready', ...counts } };
    }
    const membership = options.membership;
    const settings = { replicas: REPLICAS, writeQuorum: WRITE_QUORUM, readQuorum: READ_QUORUM, vnodes: VNODES };
    if (req.method === 'GET' && path === '/cluster' && membership !== undefined) return { status: 200, body: membership.view(settings) };
    if (req.method === 'POST' && path === '/cluster/changes' && membership !== undefined) {
      if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
        throw new KvError(ErrorCode.Unauthorized, 'missing or wrong token');
      }
      return membership.request(parseJsonBody(req.body, CHANGE_BODY_BYTES_MAX));
    }
    if (req.method === 'GET' && path === '/cluster') {
      return {
        status: 200,
        body: { nodes, replicas: REPLICAS, writeQuorum: WRITE_QUORUM, readQuorum: READ_QUORUM, vnodes: VNODES },
      };
    }
    const isKv = path.startsWith('/kv/');
    if (!isKv && !(path === '/batch' && req.method === 'POST')) throw new KvError(ErrorCode.NotFound, 'no such route');
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      throw new KvError(ErrorCode.Unauthorized, 'missing or wrong token');
    }
    const w = parseQuorumParam(param('w'), REPLICAS, 'w') ?? WRITE_QUORUM;
    const r = parseQuorumParam(param('r'), REPLICAS, 'r') ?? READ_QUORUM;
    if (!isKv) {
      const ops = parsePublicBatch(parseJsonBody(req.body, batchBodyBytesMax(valueBytesMax)), { valueBytesMax });
      const results: BatchResult[] = ops.map((op) => {
        try {
          if (isInvalidOp(op)) throw op.error;
          if (op.op === 'set') return { status: 200, ...set(op.key, op.value, w, op.ttl) };
          if (op.op === 'get') return { status: 200, ...get(op.key, r) };
          return { status: 200, ...del(op.key, w) };
        } catch (err) {
          const { status, body } = errorResponse(err);
          return { status, ...body };
        }
      });
      return { status: 200, body: { results } };
    }
    const key = decodeKey(path.slice('/kv/'.length));
    if (req.method === 'PUT') {
      const parsed = parseJsonBody(req.body, singleBodyBytesMax(valueBytesMax));
      const value = parsePutBody(parsed, valueBytesMax);
      return { status: 200, body: set(key, value, w, parsePutTtl(parsed)) };
    }
    if (req.method === 'GET') return { status: 200, body: get(key, r) };
    if (req.method === 'DELETE') return { status: 200, body: del(key, w) };
    throw new KvError(ErrorCode.NotFound, 'no such route');
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const path = recorded.url.split('?')[0];
      const key = path.startsWith('/kv/') ? safeDecodeKey(path.slice('/kv/'.length)) : undefined;
      if (key !== undefined && droppedConnections.has(key)) {
        res.destroy();
        return;
      }
      let reply: { status: number; body: unknown };
      try {
        reply = answer(recorded);
      } catch (err) {
        reply = errorResponse(err);
      }
      const text = JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    requests,
    quorumFailures,
    internalFailures,
    droppedConnections,
    get ready() {
      return state.ready;
    },
    set ready(value: boolean) {
      state.ready = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeDecodeKey(segment: string): string | undefined {
  try {
    return decodeKey(segment);
  } catch {
    return undefined;
  }
}

/** A port on 127.0.0.1 that nothing listens on (a server was started there and closed). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
