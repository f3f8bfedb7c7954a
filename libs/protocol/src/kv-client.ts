import { ErrorCode } from './errors';
import { HttpEndpoint } from './http-endpoint';
import { ClientOptions, RequestOptions, requestOptions } from './request-options';
import { encodeKey, validateKey } from './key';
import { KvError } from './kv-error';
import { BATCH_OPS_MAX, RESPONSE_BYTES_MAX_DEFAULT, SOCKET_IDLE_MS_DEFAULT } from './limits';
import {
  BatchOp,
  BatchResponse,
  ClusterResponse,
  DeleteResponse,
  GetResponse,
  HealthResponse,
  PublicQuery,
  PublicRoutes,
  PutResponse,
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
 * Options of {@link KvClient}: `baseUrl` (e.g. `http://localhost:8000`), `token` (the proxy's `AUTH_TOKEN`), `timeoutMs` (default
 * {@link CLIENT_TIMEOUT_MS_DEFAULT}), `maxSockets` (default {@link CLIENT_SOCKETS_MAX_DEFAULT}), `socketIdleMs`, `responseBytesMax`.
 */
export type KvClientOptions = ClientOptions;

/** Options of {@link KvClient.set} and {@link KvClient.delete}. */
export interface KvWriteOptions extends RequestOptions {
  /** Write quorum for this request (`?w=`), 1..N. */
  w?: number;
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
 * The client of kv's public API (the proxy), over one keep-alive connection pool.
 *
 * Every error answer is thrown as a {@link KvError} with the server's code, message, status and, for `KV_QUORUM_FAILED`,
 * `details` (`acks`, `required`) — including `KV_NOT_FOUND` from {@link get}: match on `err.code`. When the proxy cannot be
 * reached, does not answer within the deadline, or the request is cancelled, the error is `KV_UNAVAILABLE` and its
 * message names the server and the reason (`cannot reach http://localhost:8000: connect ECONNREFUSED 127.0.0.1:8000`).
 * For a write, `KV_QUORUM_FAILED` and a timeout leave the outcome unknown.
 *
 * Keys are validated before sending (`KV_INVALID_KEY`) and sent percent-encoded as one path segment, so `/`, `?`, `#`,
 * spaces and any Unicode travel intact. Concurrent calls are fine; call {@link close} when done.
 */
export class KvClient {
  /** The proxy's URL as named in error messages. */
  readonly url: string;
  private readonly endpoint: HttpEndpoint;

  /** @throws TypeError when `baseUrl` is not an http(s) URL, or a number option is not a positive integer. */
  constructor(options: KvClientOptions) {
    this.endpoint = new HttpEndpoint({
      baseUrl: options.baseUrl,
      token: options.token,
      timeoutMs: options.timeoutMs ?? CLIENT_TIMEOUT_MS_DEFAULT,
      maxSockets: options.maxSockets ?? CLIENT_SOCKETS_MAX_DEFAULT,
      socketIdleMs: options.socketIdleMs ?? SOCKET_IDLE_MS_DEFAULT,
      responseBytesMax: options.responseBytesMax ?? RESPONSE_BYTES_MAX_DEFAULT,
    });
    this.url = this.endpoint.url;
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
   * @returns `{key, version, acks}`.
   * @throws KvError `KV_INVALID_KEY` (before sending) for a bad key; `KV_TOO_LARGE`, `KV_QUORUM_FAILED` (outcome
   * unknown) and the other codes as the server answers them; `KV_UNAVAILABLE`. TypeError when `value` is not a string or
   * `w` not a positive integer.
   */
  async set(key: string, value: string, options: KvWriteOptions = {}): Promise<PutResponse> {
    if (typeof value !== 'string') throw new TypeError(`value must be a string, got ${typeof value}`);
    const path = PublicRoutes.entry(encodeKey(validateKey(key))) + queryString({ [PublicQuery.writeQuorum]: options.w });
    const body = JSON.stringify({ value });
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
   * and an entry with `error` is a failed operation (see `isBatchErrorResult`); the call itself succeeds.
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
    const answer = await this.endpoint.call({ ...requestOptions(options), method: 'POST', path, body });
    const results = (answer as { results?: unknown }).results;
    if (!Array.isArray(results) || results.length !== ops.length) {
      throw this.endpoint.malformed(`a batch of ${ops.length} operations without one result per operation`);
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
   * The proxy's liveness (`GET /health`): `{status: "ok"}` while it serves.
   * @throws KvError as the server answers; `KV_UNAVAILABLE`.
   */
  async health(options: RequestOptions = {}): Promise<HealthResponse> {
    return (await this.endpoint.call({ ...requestOptions(options), method: 'GET', path: PublicRoutes.health })) as HealthResponse;
  }

  /** Closes the pooled connections; later calls fail with `KV_UNAVAILABLE`. Idempotent. */
  close(): void {
    this.endpoint.close();
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
