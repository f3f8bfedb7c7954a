import { ErrorCode } from './errors';
import { KvError } from './kv-error';
import { HttpEndpoint } from './http-endpoint';
import { ClientOptions, RequestOptions, requestOptions } from './request-options';
import { decodeEntryLine, decodeInternalResults, encodeInternalBatch } from './internal-codec';
import {
  COORDINATOR_HEADER,
  EPOCH_HEADER,
  type StreamProgress,
  INCARNATION_HEADER,
  type InternalEntryLine,
  InternalEntry,
  InternalOp,
  InternalOpResult,
  InternalQuery,
  InternalRoutes,
  InternalWriteResponse,
  NodeHealthResponse,
  NodeStatusResponse,
  type DigestsRequest,
  type DigestsResponse,
  type PurgeResponse,
  type VersionsRequest,
  type VersionsResponse,
  type WireRangeDigest,
} from './internal-messages';
import { encodeKey, validateKey } from './key';
import { isErrorBody } from './error-body';
import { RESPONSE_BYTES_MAX_DEFAULT, SOCKET_IDLE_MS_DEFAULT } from './limits';
import { validateVersion } from './version';
import {
  formatRanges,
  validateClusterMap,
  type AcceptRequest,
  type Ballot,
  type ClusterMap,
  type MapResponse,
  type PaxosReply,
  type PrepareRequest,
  type WireRange,
} from './cluster-map';

/** Default deadline of one request to a data node: the proxy's `NODE_TIMEOUT_MS` (docs/configuration.md#proxy). */
export const NODE_TIMEOUT_MS_DEFAULT = 1000;

/**
 * Default most concurrent connections to one data node: the coordinator batches operations, so few requests are in flight
 * per node; a small pool keeps every connection warm and reused instead of opening new ones under load.
 */
export const NODE_CLIENT_SOCKETS_MAX_DEFAULT = 4;

/**
 * Options of {@link NodeClient}: `baseUrl` (e.g. `http://127.0.0.1:8001`), `token` (the cluster's `CLUSTER_TOKEN`), `timeoutMs` (default
 * {@link NODE_TIMEOUT_MS_DEFAULT}), `maxSockets` (default {@link NODE_CLIENT_SOCKETS_MAX_DEFAULT}), `socketIdleMs`, `responseBytesMax`.
 */
export type NodeClientOptions = ClientOptions;

/**
 * The client of a data node's internal API, used by the coordinator: the hot path is {@link batch} /
 * {@link batchSerialized}, one request carrying many operations.
 *
 * Errors: an error answer of the node is a {@link KvError} with the node's code, message and status; a node that cannot be
 * reached, does not answer within the deadline, or a cancelled request is `KV_UNAVAILABLE` naming the node's URL, with
 * the axios error as `cause`; an answer that breaks the protocol is `KV_INTERNAL`. Writes are versioned, so resending one
 * after any failure is safe. Concurrent calls are fine; call {@link close} when done.
 */
export class NodeClient {
  /** The node's URL as named in error messages. */
  readonly url: string;
  private readonly endpoint: HttpEndpoint;
  private readonly timeoutMs: number;

  /** @throws TypeError when `baseUrl` is not an http(s) URL, or a number option is not a positive integer. */
  constructor(options: NodeClientOptions) {
    this.endpoint = new HttpEndpoint({
      baseUrl: options.baseUrl,
      token: options.token,
      timeoutMs: options.timeoutMs ?? NODE_TIMEOUT_MS_DEFAULT,
      maxSockets: options.maxSockets ?? NODE_CLIENT_SOCKETS_MAX_DEFAULT,
      socketIdleMs: options.socketIdleMs ?? SOCKET_IDLE_MS_DEFAULT,
      responseBytesMax: options.responseBytesMax ?? RESPONSE_BYTES_MAX_DEFAULT,
      tls: options.tls,
    });
    this.url = this.endpoint.url;
    this.timeoutMs = options.timeoutMs ?? NODE_TIMEOUT_MS_DEFAULT;
  }

  /**
   * Sends operations as one `POST /internal/batch`. The operations are not validated here (the coordinator built them).
   * @returns one result per operation, in order: `[applied, version]` for writes, `[version, value|null]` or `null` for
   * reads, `{error}` for an operation that failed alone (see `isInternalOpError`).
   * @throws KvError for a whole-request error answer, `KV_UNAVAILABLE`, or `KV_INTERNAL` when the answer does not have
   * one result per operation.
   */
  batch(ops: readonly InternalOp[], options: RequestOptions = {}): Promise<InternalOpResult[]> {
    return this.batchSerialized(encodeInternalBatch(ops), ops.length, options);
  }

  /**
   * Sends an already encoded batch body (`encodeInternalBatch`): the coordinator serializes a batch once and sends
   * the same string to every replica of it.
   * @param count the number of operations in `body`, to check the answer against.
   * @returns and throws as {@link batch}.
   */
  async batchSerialized(body: string | Uint8Array, count: number, options: RequestOptions = {}): Promise<InternalOpResult[]> {
    const reply = await this.endpoint.sendDirect({
      timeoutMs: options.timeoutMs,
      requestId: options.requestId,
      signal: options.signal,
      method: 'POST',
      path: InternalRoutes.batch,
      body,
      // The node skips a batch whose answer would come after this client stopped waiting.
      sendDeadline: true,
    });
    const answer = this.endpoint.bodyOf(reply);
    try {
      return decodeInternalResults(answer, count);
    } catch (error) {
      throw this.endpoint.malformed((error as Error).message);
    }
  }

  /**
   * Reads what the node holds for a key, tombstones included (`GET /internal/kv/{key}`).
   * @returns the entry, or `undefined` when the node has no entry at all (a `KV_NOT_FOUND` answer).
   * @throws KvError `KV_INVALID_KEY` (before sending) for a bad key; other error answers; `KV_UNAVAILABLE`;
   * `KV_INTERNAL` for an answer that is not an entry.
   */
  async get(key: string, options: RequestOptions = {}): Promise<InternalEntry | undefined> {
    const reply = await this.endpoint.send({
      ...requestOptions(options),
      method: 'GET',
      path: InternalRoutes.entry(encodeKey(validateKey(key))),
    });
    if (reply.status === 404) {
      if (isErrorBody(reply.body) && reply.body.error.code === ErrorCode.NotFound) return undefined;
      // Not a kv node's answer (a wrong URL?): never mistake it for a missing key.
      throw this.endpoint.malformed('404 without a kv error body');
    }
    if (reply.status < 200 || reply.status >= 300) throw this.endpoint.errorOf(reply);
    const entry = reply.body as Partial<InternalEntry> | undefined;
    if (typeof entry !== 'object' || entry === null || typeof entry.version !== 'string') {
      throw this.endpoint.malformed(`${reply.status} without an entry`);
    }
    return entry as InternalEntry;
  }

  /**
   * Writes a value at a version (`PUT /internal/kv/{key}`): applied only if `version` is newer than what the node holds.
   * @returns `{key, applied, version}`; `applied: false` when the node already held a version >= `version`.
   * @throws KvError `KV_INVALID_KEY` / `KV_BAD_REQUEST` (before sending) for a bad key or version; error answers;
   * `KV_UNAVAILABLE`. TypeError when `value` is not a string.
   */
  async set(key: string, value: string, version: string, options: RequestOptions = {}): Promise<InternalWriteResponse> {
    if (typeof value !== 'string') throw new TypeError(`value must be a string, got ${typeof value}`);
    const body = JSON.stringify({ value, version: validateVersion(version) });
    return (await this.endpoint.call({
      ...requestOptions(options),
      method: 'PUT',
      path: InternalRoutes.entry(encodeKey(validateKey(key))),
      body,
    })) as InternalWriteResponse;
  }

  /**
   * Writes a tombstone at a version (`DELETE /internal/kv/{key}?version=`), applied only if `version` is newer.
   * @returns and throws as {@link set}.
   */
  async delete(key: string, version: string, options: RequestOptions = {}): Promise<InternalWriteResponse> {
    const path = `${InternalRoutes.entry(encodeKey(validateKey(key)))}?${InternalQuery.version}=${validateVersion(version)}`;
    return (await this.endpoint.call({ ...requestOptions(options), method: 'DELETE', path })) as InternalWriteResponse;
  }

  /**
   * Names the incarnation the node must have (see `INCARNATION_HEADER`): every later request carries it, and a node
   * with another incarnation (its disk was replaced) refuses them with `KV_NODE_CHANGED`. `undefined` stops sending it.
   * @throws TypeError when `incarnation` is not 1 to 64 visible ASCII characters.
   */
  expectIncarnation(incarnation: string | undefined): void {
    if (incarnation !== undefined && !/^[\x21-\x7e]{1,64}$/.test(incarnation)) {
      throw new TypeError('incarnation must be 1 to 64 visible ASCII characters');
    }
    this.endpoint.setHeader(INCARNATION_HEADER, incarnation);
  }

  /**
   * Every entry the node holds, tombstones included (`GET /internal/entries`, newline-delimited JSON), as they stream
   * in; for refilling a node that lost its disk. `idleMs` bounds the time without data (default: the client's
   * deadline).
   * @throws KvError for an error answer or a line that is not an entry (`KV_INTERNAL`), `KV_UNAVAILABLE`.
   */
  async *entries(options: { idleMs?: number; ranges?: readonly WireRange[] } = {}): AsyncGenerator<InternalEntryLine> {
    const path = options.ranges === undefined ? InternalRoutes.entries : `${InternalRoutes.entries}?${InternalQuery.ranges}=${formatRanges(options.ranges)}`;
    const stream = await this.endpoint.stream(path, options.idleMs ?? this.timeoutMs);
    let rest = '';
    const chunks = stream[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<string | Buffer>;
      try {
        next = (await chunks.next()) as IteratorResult<string | Buffer>;
      } catch (cause) {
        throw new KvError(ErrorCode.Unavailable, `${this.url} stopped sending its entries: ${(cause as Error).message}`, { cause });
      }
      if (next.done === true) break;
      const chunk = next.value;
      const lines = (rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'))).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line !== '') yield this.entryLine(line);
    }
    if (rest !== '') yield this.entryLine(rest);
  }

  private entryLine(line: string): InternalEntryLine {
    try {
      return decodeEntryLine(line);
    } catch (error) {
      throw this.endpoint.malformed((error as Error).message);
    }
  }

  /**
   * Sends the epoch of the caller's cluster map with every later request (`x-kv-epoch`): a node with a newer map
   * refuses them with `KV_STALE_EPOCH`. `undefined` stops sending it.
   */
  useEpoch(epoch: number | undefined): void {
    if (epoch !== undefined && (!Number.isSafeInteger(epoch) || epoch < 0)) throw new TypeError('epoch must be a non-negative integer');
    this.endpoint.setHeader(EPOCH_HEADER, epoch === undefined ? undefined : String(epoch));
  }

  /** The cluster map the node stores (`GET /internal/map`), null before the cluster was seeded. */
  async readMap(options: RequestOptions = {}): Promise<ClusterMap | null> {
    const answer = (await this.endpoint.call({ ...requestOptions(options), method: 'GET', path: InternalRoutes.map })) as Partial<MapResponse>;
    if (answer === null || typeof answer !== 'object' || !('map' in answer)) throw this.endpoint.malformed('a map answer without "map"');
    try {
      return answer.map === null || answer.map === undefined ? null : validateClusterMap(answer.map);
    } catch (error) {
      throw this.endpoint.malformed((error as Error).message);
    }
  }

  /** Paxos phase one for the map of `epoch` (`POST /internal/map/prepare`). */
  async prepare(epoch: number, ballot: Ballot, options: RequestOptions = {}): Promise<PaxosReply> {
    const body: PrepareRequest = { epoch, ballot };
    return (await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: InternalRoutes.mapPrepare, body: JSON.stringify(body) })) as PaxosReply;
  }

  /** Paxos phase two (`POST /internal/map/accept`). */
  async accept(ballot: Ballot, map: ClusterMap, options: RequestOptions = {}): Promise<PaxosReply> {
    const body: AcceptRequest = { ballot, map };
    return (await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: InternalRoutes.mapAccept, body: JSON.stringify(body) })) as PaxosReply;
  }

  /** A chosen map (`POST /internal/map/commit`); resolves with the epoch the node stores afterwards. */
  async commitMap(map: ClusterMap, options: RequestOptions = {}): Promise<number> {
    const answer = (await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: InternalRoutes.mapCommit, body: JSON.stringify({ map }) })) as { epoch?: unknown };
    if (typeof answer?.epoch !== 'number') throw this.endpoint.malformed('a commit answer without "epoch"');
    return answer.epoch;
  }

  /** The ranges of membership change `change` the node received in full (`GET /internal/stream`). */
  async streamProgress(change: string, options: RequestOptions = {}): Promise<StreamProgress> {
    const path = `${InternalRoutes.stream}?${InternalQuery.change}=${encodeURIComponent(change)}`;
    const answer = (await this.endpoint.call({ ...requestOptions(options), method: 'GET', path })) as Partial<StreamProgress>;
    if (!Array.isArray(answer?.ranges)) throw this.endpoint.malformed('a stream answer without "ranges"');
    return { change, ranges: answer.ranges, keys: typeof answer.keys === 'number' ? answer.keys : 0, bytes: typeof answer.bytes === 'number' ? answer.bytes : 0 };
  }

  /** The digests of hash ranges, with their buckets' when `buckets` (`POST /internal/digests`), one per range. */
  async digests(ranges: readonly WireRange[], buckets: boolean, options: RequestOptions = {}): Promise<WireRangeDigest[]> {
    const body: DigestsRequest = { ranges: formatRanges(ranges), buckets };
    const answer = (await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: InternalRoutes.digests, body: JSON.stringify(body) })) as Partial<DigestsResponse>;
    if (!Array.isArray(answer?.ranges) || answer.ranges.length !== ranges.length) throw this.endpoint.malformed('a digests answer without one digest per range');
    return answer.ranges;
  }

  /**
   * The keys the node holds in hash ranges with their versions (`POST /internal/versions`); with
   * `tombstonesBeforeMs`, only the tombstones older than it.
   */
  async versions(ranges: readonly WireRange[], tombstonesBeforeMs?: number, options: RequestOptions = {}): Promise<VersionsResponse> {
    const body: VersionsRequest = { ranges: formatRanges(ranges), ...(tombstonesBeforeMs === undefined ? {} : { tombstonesBeforeMs }) };
    const answer = (await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: InternalRoutes.versions, body: JSON.stringify(body) })) as Partial<VersionsResponse>;
    if (!Array.isArray(answer?.keys)) throw this.endpoint.malformed('a versions answer without "keys"');
    return { keys: answer.keys, truncated: answer.truncated === true };
  }

  /** Purges tombstones confirmed on every replica, under the settled map of `epoch` (`POST /internal/purge`). */
  async purge(epoch: number, entries: readonly (readonly [string, string])[], options: RequestOptions = {}): Promise<number> {
    const body = JSON.stringify({ epoch, entries });
    const answer = (await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: InternalRoutes.purge, body })) as Partial<PurgeResponse>;
    return typeof answer?.purged === 'number' ? answer.purged : 0;
  }

  /**
   * Records on the node that it received ranges `ranges` of `change` in full (`POST /internal/stream`), with the
   * entries and bytes written to it for them.
   */
  async recordStream(change: string, ranges: readonly number[], counts: { keys: number; bytes: number } = { keys: 0, bytes: 0 }, options: RequestOptions = {}): Promise<void> {
    const body = JSON.stringify({ change, ranges, keys: counts.keys, bytes: counts.bytes });
    await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: InternalRoutes.stream, body });
  }

  /**
   * Presents every later request as the coordinator's (`x-kv-coordinator: <clock id>;<incarnation>;<lease ms>`): data
   * nodes keep their registry of coordinators and leases from it. `undefined` stops sending it.
   * @throws TypeError when the value is not 1 to 80 visible ASCII characters.
   */
  presentAs(coordinator: string | undefined): void {
    if (coordinator !== undefined && !/^[\x21-\x7e]{1,80}$/.test(coordinator)) {
      throw new TypeError('the coordinator header must be 1 to 80 visible ASCII characters');
    }
    this.endpoint.setHeader(COORDINATOR_HEADER, coordinator);
  }

  /**
   * A coordinator's probe (`GET /internal/status`): the node's incarnation, whether it was refilled, the live
   * coordinators it hears from; renews the caller's lease there.
   * @throws KvError for an error answer (`KV_COORDINATOR_LAPSED`, `KV_DUPLICATE_COORDINATOR`, ...), `KV_UNAVAILABLE`.
   */
  async status(options: RequestOptions = {}): Promise<NodeStatusResponse> {
    const answer = await this.endpoint.call({ ...requestOptions(options), method: 'GET', path: InternalRoutes.status });
    return checkStatus(answer, this.endpoint.malformed.bind(this.endpoint));
  }

  /**
   * Registers the coordinator presented by {@link presentAs} (`POST /internal/coordinators`); resolves with the node's
   * status, the live coordinators included.
   * @throws KvError `KV_DUPLICATE_COORDINATOR` when another live incarnation uses the clock id; `KV_UNAVAILABLE`.
   */
  async register(options: RequestOptions = {}): Promise<NodeStatusResponse> {
    const answer = await this.endpoint.call({ ...requestOptions(options), method: 'POST', path: InternalRoutes.coordinators, body: '{}' });
    return checkStatus(answer, this.endpoint.malformed.bind(this.endpoint));
  }

  /**
   * Tells the node that a refill of `incarnation` completed (`POST /internal/filled`): it records it durably and
   * counts toward quorums again.
   * @throws KvError `KV_NODE_CHANGED` when the node has another incarnation; `KV_UNAVAILABLE`.
   */
  async markFilled(incarnation: string, options: RequestOptions = {}): Promise<void> {
    await this.endpoint.call({
      ...requestOptions(options),
      method: 'POST',
      path: InternalRoutes.filled,
      body: JSON.stringify({ incarnation }),
    });
  }

  /**
   * The node's health (`GET /health`): `{status: "ok", nodeId, keys, incarnation, filled}`.
   * @throws KvError for an error answer, `KV_UNAVAILABLE`, or `KV_INTERNAL` when the answer is not `status: "ok"`.
   */
  async health(options: RequestOptions = {}): Promise<NodeHealthResponse> {
    const answer = await this.endpoint.call({ ...requestOptions(options), method: 'GET', path: InternalRoutes.health });
    if ((answer as { status?: unknown }).status !== 'ok') throw this.endpoint.malformed('a health answer without status "ok"');
    return answer as NodeHealthResponse;
  }

  /** Closes the pooled connections; later calls fail with `KV_UNAVAILABLE`. Idempotent. */
  close(): void {
    this.endpoint.close();
  }
}

function checkStatus(answer: unknown, malformed: (what: string) => Error): NodeStatusResponse {
  const status = answer as Partial<NodeStatusResponse>;
  if (
    status?.status !== 'ok' ||
    typeof status.incarnation !== 'string' ||
    typeof status.filled !== 'boolean' ||
    !Array.isArray(status.coordinators)
  ) {
    throw malformed('a status answer without status "ok", incarnation, filled and coordinators');
  }
  return status as NodeStatusResponse;
}
