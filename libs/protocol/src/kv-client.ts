import { ErrorCode } from './errors';
import { FailoverEndpoint } from './failover-endpoint';
import { markOutcomeUnknown } from './failover-errors';
import { HttpEndpoint } from './http-endpoint';
import { ClientOptions, RequestOptions, requestOptions } from './request-options';
import { encodeKey, validateKey } from './key';
import { validateTtl } from './ttl';
import { KvError } from './kv-error';
import { BATCH_OPS_MAX, RESPONSE_BYTES_MAX_DEFAULT, SOCKET_IDLE_MS_DEFAULT } from './limits';
import {
  BatchOp,
  BatchResponse,
  ClusterChangePlan,
  ClusterChangeRequest,
  ClusterChangeStarted,
  ClusterResponse,
  RepairRequest,
  RepairStarted,
  RepairStatus,
  DeleteResponse,
  GetResponse,
  HealthResponse,
  PublicQuery,
  PublicRoutes,
  PutResponse,
  ReadyResponse,
} from './public-messages';

/**
 * Default deadline of one request to the proxy: a write or read may wait for a node timeout (1000 ms by default), fail over
 * to another replica and repair stale ones, so several node timeouts must fit.
 */
export const CLIENT_TIMEOUT_MS_DEFAULT = 5000;

/**
 * Default most concurrent connections of a {@link KvClient}: enough for an application's concurrency, bounded so a runaway
 * caller queues instead of opening thousands of sockets (a load generator sets it to its connection count).
 */
export const CLIENT_SOCKETS_MAX_DEFAULT = 16;

/**
 * Most proxies one {@link KvClient} knows: a client names the proxies of one cluster, which are few; a longer list is a
 * configuration mistake, and each proxy costs a connection pool and, when it hangs, one timeout per call.
 */
export const CLIENT_SERVERS_MAX = 16;

/**
 * Options of {@link KvClient}: `baseUrl`, the proxy's URL (e.g. `http://localhost:8000`) or several proxies of one cluster
 * (a comma-separated string or an array, at most {@link CLIENT_SERVERS_MAX}, each once), `token` (the proxies'
 * `AUTH_TOKEN`), `timeoutMs` (default {@link CLIENT_TIMEOUT_MS_DEFAULT}, per proxy tried), `maxSockets` (default
 * {@link CLIENT_SOCKETS_MAX_DEFAULT}, per proxy), `socketIdleMs`, `responseBytesMax`.
 */
export interface KvClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /**
   * The proxy's URL, or the proxies' URLs: `'http://a:8000,http://b:8000'` or `['http://a:8000', 'http://b:8000']`
   * (spaces around commas are ignored). The first is tried first.
   */
  baseUrl: string | readonly string[];
}

/** How one proxy answered {@link KvClient.probeServers}. */
export type ProxyProbe =
  | {
      /** The proxy's URL, as in {@link KvClient.urls}. */
      readonly url: string;
      /** True for the proxy that is current after the probe. */
      readonly current: boolean;
      readonly answered: true;
      /** Its `GET /health` answer. */
      readonly health: HealthResponse;
    }
  | {
      readonly url: string;
      readonly current: boolean;
      readonly answered: false;
      /** Why it did not answer (`KV_UNAVAILABLE`), or its error answer. */
      readonly error: KvError;
    };

/** Options of {@link KvClient.set} and {@link KvClient.delete}. */
export interface KvWriteOptions extends RequestOptions {
  /** Write quorum for this request (`?w=`), 1..N. */
  w?: number;
}

/** Options of {@link KvClient.set}. */
export interface KvSetOptions extends KvWriteOptions {
  /**
   * Seconds until the key expires (`"ttl"`), 1..`TTL_SECONDS_MAX` (10 years); the answer then carries `expiresAt`.
   * Without it the key does not expire (and a set clears an earlier expiry).
   */
  ttl?: number;
}

/** Options of {@link KvClient.get}. */
export interface KvReadOptions extends RequestOptions {
  /** Read quorum for this request (`?r=`), 1..N. */
  r?: number;
}

/** Options of {@link KvClient.batch}. */
export interface KvBatchOptions extends RequestOptions {
  /** Write quorum of every write of the batch (`?w=`). */
  w?: number;
  /** Read quorum of every read of the batch (`?r=`). */
  r?: number;
}

/**
 * The client of kv's public API: one proxy, or several proxies of one cluster (each a full coordinator) between which it
 * fails over. Each proxy has its own keep-alive connection pool.
 *
 * Every error answer is thrown as a {@link KvError} with the server's code, message, status and, for `KV_QUORUM_FAILED`,
 * `details` (`acks`, `required`) — including `KV_NOT_FOUND` from {@link get}: match on `err.code`. When the proxy cannot be
 * reached, does not answer within the deadline, or the request is cancelled, the error is `KV_UNAVAILABLE` and its
 * message names the server and the reason (`cannot reach http://localhost:8000: connect ECONNREFUSED 127.0.0.1:8000`).
 *
 * With several proxies a call goes to the current proxy first, then to the next ones in the order given, one attempt each:
 * - a read (`get`, `cluster`, `health`, `ready`, a batch of gets only) moves on when a proxy cannot be reached or does
 *   not answer in time, and on a 502, 503 or 504 answer; never on a 4xx, which is the answer;
 * - a write (`set`, `delete`, a batch with a write) moves on only when it provably never reached the proxy: the
 *   connection was refused, the name did not resolve, the host or network was unreachable, the connection was never
 *   made (decided on the socket, not on the error code) or the request was still waiting for a pooled socket. A write
 *   that may have reached a proxy is never resent: it fails with that proxy's error (a timeout, a reset, its answer),
 *   marked so that {@link isOutcomeUnknown} is true when the write may have been carried out.
 * The proxy whose answer ends a call becomes current, so later calls go there first. When every proxy fails, the error is
 * that of the last proxy that answered, or `KV_UNAVAILABLE` naming each proxy when none did; {@link proxyErrorsOf} gives
 * each proxy's error. With a single proxy, errors are that proxy's own, as they always were.
 *
 * Keys are validated before sending (`KV_INVALID_KEY`) and sent percent-encoded as one path segment, so `/`, `?`, `#`,
 * spaces and any Unicode travel intact. Concurrent calls are fine; call {@link close} when done.
 */
export class KvClient {
  private readonly endpoint: FailoverEndpoint;

  /**
   * @throws TypeError when `baseUrl` names no proxy, more than {@link CLIENT_SERVERS_MAX}, one twice (after
   * normalization: `http://a:80/` is `http://a`), or something that is not an http(s) URL; or when a number option is not
   * a positive integer.
   */
  constructor(options: KvClientOptions) {
    const urls = proxyUrlsOf(options.baseUrl);
    const endpoints: HttpEndpoint[] = [];
    try {
      for (const baseUrl of urls) {
        const endpoint = new HttpEndpoint({
          baseUrl,
          token: options.token,
          timeoutMs: options.timeoutMs ?? CLIENT_TIMEOUT_MS_DEFAULT,
          maxSockets: options.maxSockets ?? CLIENT_SOCKETS_MAX_DEFAULT,
          socketIdleMs: options.socketIdleMs ?? SOCKET_IDLE_MS_DEFAULT,
          responseBytesMax: options.responseBytesMax ?? RESPONSE_BYTES_MAX_DEFAULT,
          tls: options.tls,
        });
        endpoints.push(endpoint);
        if (endpoints.some((other) => other !== endpoint && other.url === endpoint.url)) {
          throw new TypeError(`baseUrl names ${endpoint.url} twice`);
        }
      }
    } catch (err) {
      for (const endpoint of endpoints) endpoint.close();
      throw err;
    }
    this.endpoint = new FailoverEndpoint(endpoints);
  }

  /** The current proxy's URL, as named in error messages: where the next call goes first. */
  get url(): string {
    return this.endpoint.url;
  }

  /** Every proxy's URL (origin and path, no trailing slash), in the order given. */
  get urls(): readonly string[] {
    return this.endpoint.urls;
  }

  /**
   * Reads a key (`GET /kv/{key}`).
   * @returns the server's answer `{key, value, version}`.
   * @throws KvError `KV_NOT_FOUND` when the key has no value; `KV_INVALID_KEY` (before sending) for a bad key; the other
   * codes as the server answers them; `KV_UNAVAILABLE`. TypeError when `r` is not a positive integer.
   */
  async get(key: string, options: KvReadOptions = {}): Promise<GetResponse> {
    const path = PublicRoutes.entry(encodeKey(validateKey(key))) + queryString({ [PublicQuery.readQuorum]: options.r });
    return (await this.endpoint.call({ ...requestOptions(options), method: 'GET', path })) as GetResponse;
  }

  /**
   * Stores a value (`PUT /kv/{key}`).
   * @returns `{key, version, acks}`, and `expiresAt` (ms since the epoch) with `ttl`.
   * @throws KvError `KV_INVALID_KEY` (before sending) for a bad key; `KV_BAD_REQUEST` (before sending) for a `ttl` that
   * is not a whole number of seconds from 1 to 10 years; `KV_TOO_LARGE`, `KV_QUORUM_FAILED` (outcome unknown) and the
   * other codes as the server answers them; `KV_UNAVAILABLE`. TypeError when `value` is not a string or `w` not a
   * positive integer.
   */
  async set(key: string, value: string, options: KvSetOptions = {}): Promise<PutResponse> {
    if (typeof value !== 'string') throw new TypeError(`value must be a string, got ${typeof value}`);
    const path = PublicRoutes.entry(encodeKey(validateKey(key))) + queryString({ [PublicQuery.writeQuorum]: options.w });
    const body = JSON.stringify(options.ttl === undefined ? { value } : { value, ttl: validateTtl(options.ttl) });
    return (await this.endpoint.call({ ...requestOptions(options), method: 'PUT', path, body })) as PutResponse;
  }

  /**
   * Deletes a key (`DELETE /kv/{key}`); idempotent: deleting a missing key succeeds.
   * @returns `{key, version, acks}`, the version of the tombstone.
   * @throws as {@link set}.
   */
  async delete(key: string, options: KvWriteOptions = {}): Promise<DeleteResponse> {
    const path = PublicRoutes.entry(encodeKey(validateKey(key))) + queryString({ [PublicQuery.writeQuorum]: options.w });
    return (await this.endpoint.call({ ...requestOptions(options), method: 'DELETE', path })) as DeleteResponse;
  }

  /**
   * Runs many operations in one request (`POST /batch`). No atomicity across keys: each result has its own `status`,
   * and an entry with `error` is a failed operation (see `isBatchErrorResult`); the call itself succeeds. A batch of gets
   * only fails over as a read, any other as a write.
   * @returns the server's answer: one result per operation, in order.
   * @throws KvError `KV_BAD_REQUEST` (before sending) for more than {@link BATCH_OPS_MAX} operations; the whole-request
   * errors as the server answers them; `KV_INTERNAL` when the answer does not have one result per operation;
   * `KV_UNAVAILABLE`. TypeError when `ops` is not an array or `w`/`r` not positive integers.
   */
  async batch(ops: readonly BatchOp[], options: KvBatchOptions = {}): Promise<BatchResponse> {
    if (!Array.isArray(ops)) throw new TypeError('ops must be an array');
    if (ops.length > BATCH_OPS_MAX) {
      throw new KvError(ErrorCode.BadRequest, `a batch has at most ${BATCH_OPS_MAX} operations, got ${ops.length}`);
    }
    const path =
      PublicRoutes.batch + queryString({ [PublicQuery.writeQuorum]: options.w, [PublicQuery.readQuorum]: options.r });
    const body = JSON.stringify({ ops });
    const kind = ops.every((op) => op.op === 'get') ? 'read' : 'write';
    const answer = await this.endpoint.call({ ...requestOptions(options), method: 'POST', path, body, kind });
    const results = (answer as { results?: unknown }).results;
    if (!Array.isArray(results) || results.length !== ops.length) {
      const err = this.endpoint.malformed(`a batch of ${ops.length} operations without one result per operation`);
      throw kind === 'write' ? markOutcomeUnknown(err) : err;
    }
    return answer as BatchResponse;
  }

  /**
   * The cluster as the proxy sees it (`GET /cluster`): nodes with their health, N, W, R and vnodes.
   * @throws KvError as the server answers; `KV_UNAVAILABLE`.
   */
  async cluster(options: RequestOptions = {}): Promise<ClusterResponse> {
    return (await this.endpoint.call({ ...requestOptions(options), method: 'GET', path: PublicRoutes.cluster })) as ClusterResponse;
  }

  /**
   * Starts an anti-entropy round now (`POST /cluster/repair`), over the whole ring or `keyRange`; with `wait`, answers
   * once it is over. Needs the token when the proxy has `AUTH_TOKEN`. Fails over like a read: a round sent twice joins
   * the one running, and repairs are versioned writes.
   * @returns the round's status, and whether this request started it.
   * @throws KvError `KV_CHANGE_IN_PROGRESS` (a membership change runs), `KV_NOT_READY`, `KV_BAD_REQUEST`, and the
   *   other codes as the server answers them; `KV_UNAVAILABLE`.
   */
  async repair(request: RepairRequest = {}, options: RequestOptions = {}): Promise<RepairStarted> {
    const body = JSON.stringify(request);
    return (await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: PublicRoutes.clusterRepair, body, kind: 'read' })) as RepairStarted;
  }

  /**
   * The anti-entropy round running on the proxy, or its last one (`GET /cluster/repair`).
   * @throws KvError as the server answers; `KV_UNAVAILABLE`.
   */
  async repairStatus(options: RequestOptions = {}): Promise<RepairStatus> {
    return (await this.endpoint.call({ ...requestOptions(options), method: 'GET', path: PublicRoutes.clusterRepair })) as RepairStatus;
  }

  /**
   * The proxy's liveness (`GET /health`): `{status: "ok"}` while it serves.
   * @throws KvError as the server answers; `KV_UNAVAILABLE`.
   */
  async health(options: RequestOptions = {}): Promise<HealthResponse> {
    return (await this.endpoint.call({ ...requestOptions(options), method: 'GET', path: PublicRoutes.health })) as HealthResponse;
  }

  /**
   * The proxy's readiness (`GET /health/ready`): whether it has joined the cluster and reaches at least W data nodes.
   * Fails over like a read, so it answers from the first proxy that is ready.
   * @returns the ready proxy's counts `{status: "ready", nodesUp, nodes, writeQuorum, joined}`.
   * @throws KvError `KV_NOT_READY` (503) when no proxy is ready and the last one that answered is not; `KV_UNAVAILABLE`.
   */
  async ready(options: RequestOptions = {}): Promise<ReadyResponse> {
    return (await this.endpoint.call({ ...requestOptions(options), method: 'GET', path: PublicRoutes.ready })) as ReadyResponse;
  }

  /**
   * Asks every proxy's liveness (`GET /health`) at once, without failover: which proxies are up now. When the current
   * proxy did not answer, the first one (in the order given) that did becomes current.
   * @returns one entry per proxy, in the order given; it never throws for a proxy that does not answer.
   * @throws TypeError for an invalid `requestId` or `timeoutMs`.
   */
  async probeServers(options: RequestOptions = {}): Promise<ProxyProbe[]> {
    const outcomes = await this.endpoint.probe(PublicRoutes.health, requestOptions(options));
    const current = this.endpoint.url;
    return outcomes.map((outcome) =>
      outcome.answered
        ? { url: outcome.url, current: outcome.url === current, answered: true, health: outcome.body as HealthResponse }
        : { url: outcome.url, current: outcome.url === current, answered: false, error: outcome.error },
    );
  }

  /** Closes the pooled connections of every proxy; later calls fail with `KV_UNAVAILABLE`. Idempotent. */
  close(): void {
    this.endpoint.close();
  }

  /**
   * Plans or starts a membership change (`POST /cluster/changes`): nodes to add (`{id, url}`) and ids of members to
   * remove, in one change. With `dryRun: true` nothing changes and the answer is the plan (ranges that would move, from
   * whom to whom, with estimated keys and bytes); otherwise the change starts and runs in the background: the answer
   * names it and the epoch it started at, and `GET /cluster` ({@link cluster}) shows it under `change` until it is done.
   * Needs the token when the proxy has `AUTH_TOKEN`. With several proxies a dry run fails over like a read (it changes
   * nothing), and starting a change like a write: never resent once it may have reached a proxy; after such a failure
   * ({@link isOutcomeUnknown}) the change may have started, which {@link cluster} tells.
   * @returns the plan (dry run, 200), or the change started (202).
   * @throws KvError `KV_CHANGE_REFUSED` (fewer members than N, an unknown or duplicate id, a node that does not answer,
   * nothing to do), `KV_CHANGE_IN_PROGRESS` (another change runs), `KV_BAD_REQUEST` (a malformed id or URL),
   * `KV_UNAUTHORIZED` and the other codes as the server answers them; `KV_INTERNAL` when the answer is not the one asked
   * for; `KV_UNAVAILABLE`. TypeError when `request` is not a {@link ClusterChangeRequest}.
   */
  async changeCluster(request: ClusterChangeRequest & { dryRun: true }, options?: RequestOptions): Promise<ClusterChangePlan>;
  async changeCluster(request: ClusterChangeRequest & { dryRun?: false }, options?: RequestOptions): Promise<ClusterChangeStarted>;
  async changeCluster(request: ClusterChangeRequest, options?: RequestOptions): Promise<ClusterChangePlan | ClusterChangeStarted>;
  async changeCluster(request: ClusterChangeRequest, options: RequestOptions = {}): Promise<ClusterChangePlan | ClusterChangeStarted> {
    const body = JSON.stringify(clusterChangeBody(request));
    const dryRun = request.dryRun === true;
    const kind = dryRun ? 'read' : 'write';
    const answer = (await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: PublicRoutes.clusterChanges, body, kind })) as Partial<
      ClusterChangePlan & Omit<ClusterChangeStarted, 'dryRun'>
    >;
    const malformed = (what: string): KvError => {
      // Whatever the answer was, it came after the proxy had the request: a change may have started.
      const err = this.endpoint.malformed(what);
      return kind === 'write' ? markOutcomeUnknown(err) : err;
    };
    // A proxy that ignored dryRun would have started a change the caller only wanted planned: say so, never hide it.
    if (answer.dryRun !== dryRun || !Number.isSafeInteger(answer.epoch)) {
      throw markOutcomeUnknown(malformed(`a cluster change without "dryRun": ${dryRun} and an epoch`));
    }
    if (dryRun ? !Array.isArray(answer.ranges) : typeof answer.change !== 'string') {
      throw malformed(dryRun ? 'a plan without ranges' : 'a started change without its id');
    }
    return answer as ClusterChangePlan | ClusterChangeStarted;
  }
}

function queryString(params: Record<string, number | undefined>): string {
  let query = '';
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${value}`);
    query += `${query === '' ? '?' : '&'}${name}=${value}`;
  }
  return query;
}

// The proxies named by `baseUrl`, as given: a string is split at its commas.
function proxyUrlsOf(baseUrl: string | readonly string[]): string[] {
  let urls: string[];
  if (typeof baseUrl === 'string') urls = baseUrl.split(',').map((url) => url.trim());
  else if (Array.isArray(baseUrl)) urls = [...(baseUrl as readonly unknown[])] as string[];
  else throw new TypeError(`baseUrl must be a string or an array of strings, got ${typeof baseUrl}`);
  if (urls.length > CLIENT_SERVERS_MAX) {
    throw new TypeError(`baseUrl names at most ${CLIENT_SERVERS_MAX} proxies, got ${urls.length}`);
  }
  if (urls.length === 0) throw new TypeError('baseUrl names no proxy');
  for (const url of urls) {
    if (typeof url !== 'string') {
      throw new TypeError(`baseUrl must be a string or an array of strings, got an entry of type ${typeof url}`);
    }
    if (url === '') throw new TypeError(`baseUrl has an empty entry: ${JSON.stringify(baseUrl)}`);
    if (typeof baseUrl !== 'string' && url.includes(',')) {
      throw new TypeError(`each entry of baseUrl is one URL, got ${JSON.stringify(url)}`);
    }
  }
  return urls;
}

/** The body of `POST /cluster/changes`: only the fields of a {@link ClusterChangeRequest}, checked for their types. */
function clusterChangeBody(request: ClusterChangeRequest): ClusterChangeRequest {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new TypeError('request must be {add?: {id, url}[], remove?: string[], dryRun?: boolean}');
  }
  const { add, remove, dryRun } = request;
  if (add !== undefined && (!Array.isArray(add) || !add.every((node) => typeof node?.id === 'string' && typeof node.url === 'string'))) {
    throw new TypeError('add must be an array of {id: string, url: string}');
  }
  if (remove !== undefined && (!Array.isArray(remove) || !remove.every((id) => typeof id === 'string'))) {
    throw new TypeError('remove must be an array of node ids');
  }
  if (dryRun !== undefined && typeof dryRun !== 'boolean') throw new TypeError(`dryRun must be a boolean, got ${typeof dryRun}`);
  return {
    ...(add === undefined ? {} : { add: add.map(({ id, url }) => ({ id, url })) }),
    ...(remove === undefined ? {} : { remove: [...remove] }),
    ...(dryRun === undefined ? {} : { dryRun }),
  };
}
