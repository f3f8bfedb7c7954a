import { ErrorCode, KvError, type ClusterResponse, validateExpiresAt, validateKey, validateValue } from '@kv/protocol';
import type { Replicator } from '@kv/quorum';
import type { RespBackend, RespCallOptions, RespClusterInfo, RespEntry } from '@kv/resp';
import { KV_VERSION, overloadedBytes, type InFlight, type InFlightTicket } from '@kv/service';
import type { CoordinatorVersions, RequestScope } from '@kv/quorum';
import { BatchAnswer } from './batch-answer';
import { RequestDeadlines } from './request-deadline';

/** What the RESP backend needs from the proxy. */
export interface ProxyRespBackendDeps {
  replicator: Replicator;
  versions: CoordinatorVersions;
  /** The cluster's membership, health and quorum settings (what `GET /cluster` answers). */
  cluster: () => ClusterResponse;
  /** Largest value accepted, in bytes (`MAX_VALUE_BYTES`). */
  maxValueBytes: number;
  proxyId: string;
  /** kv's version, for `INFO` and `HELLO` (default {@link KV_VERSION}). */
  version?: string;
  /** ms since the epoch (the coordinator's clock), for `TIME` and relative expiries. */
  now: () => number;
  /** The deadline of each command (`REQUEST_TIMEOUT_MS`; default 10 s). */
  deadlines?: RequestDeadlines;
  /**
   * The process's bounds on requests and bytes in flight, shared with the HTTP API (`MAX_REQUESTS_IN_FLIGHT`,
   * `MAX_BYTES_IN_FLIGHT`): each command counts as a request holding its values; default: unbounded.
   */
  inFlight?: InFlight;
  /** Bytes of values one `MGET` answer carries at most (`MAX_BATCH_RESPONSE_BYTES`; default: unbounded). */
  batchResponseBytesMax?: number;
}

/**
 * The RESP commands' view of the proxy: each method is the replicator call the matching HTTP request makes, with the
 * same checks (key rule, `MAX_VALUE_BYTES`), the same wait for the clock floor before a write, and the same errors
 * (`KV_QUORUM_FAILED` with acks and required). Expiring keys are supported (an absolute `expiresAtMs` travels with the
 * write, see docs/ARCHITECTURE.md, Expiring keys); compare-and-set is not, so `KEEPTTL` (which would keep the expiry
 * of the value held: a read-modify-write) is refused. Each command has the deadline of an HTTP request
 * (`REQUEST_TIMEOUT_MS`).
 */
export class ProxyRespBackend implements RespBackend {
  readonly capabilities = { ttl: true, compareAndSet: false };
  private readonly deps: ProxyRespBackendDeps;
  private readonly clock: () => number;
  private readonly deadlines: RequestDeadlines;

  constructor(deps: ProxyRespBackendDeps) {
    this.deps = deps;
    this.clock = deps.now;
    this.deadlines = deps.deadlines ?? new RequestDeadlines();
  }

  get(key: string, options: { r?: number } & RespCallOptions): Promise<RespEntry | undefined> {
    return this.admitted(0, (ticket) =>
      this.deadlines.run(
        async (scope) => {
          const found = await this.read(key, options.r, scope);
          if (found !== undefined && ticket !== undefined && !ticket.reserve(found.value.length)) throw overloadedBytes(ticket.limits);
          return found;
        },
        options.clientGone,
        this.deps.replicator.writeQuorum,
      ),
    );
  }

  /**
   * Runs a command as one request of the process's in-flight bounds, holding `bytes` (its values) and what its answer
   * reserves until it ends. @throws KvError `KV_OVERLOADED` (`-TRYAGAIN`) beyond a bound.
   */
  private async admitted<T>(bytes: number, command: (ticket: InFlightTicket | undefined) => Promise<T>): Promise<T> {
    const ticket = this.deps.inFlight?.admit(bytes);
    try {
      return await command(ticket);
    } finally {
      ticket?.release();
    }
  }

  private async read(key: string, r: number | undefined, scope: RequestScope): Promise<RespEntry | undefined> {
    validateKey(key);
    const found = await this.deps.replicator.get(key, { r, scope });
    if (found === undefined) return undefined;
    return found.expiresAt === undefined ? { value: found.value, version: found.version } : { value: found.value, version: found.version, expiresAtMs: found.expiresAt };
  }

  async set(
    key: string,
    value: string,
    options: { w?: number; expiresAtMs?: number; keepTtl?: boolean } & RespCallOptions,
  ): Promise<{ version: string; expiresAtMs?: number }> {
    validateKey(key);
    validateValue(value, this.deps.maxValueBytes);
    if (options.keepTtl === true) throw noKeepTtl();
    const expiresAt = options.expiresAtMs;
    if (expiresAt !== undefined) validateExpiresAt(expiresAt);
    return this.admitted(value.length, () =>
      this.deadlines.run(async (scope) => {
        await this.versionsReady();
        const result = await this.deps.replicator.set(key, value, expiresAt === undefined ? { w: options.w, scope } : { w: options.w, scope, expiresAt });
        return result.expiresAt === undefined ? { version: result.version } : { version: result.version, expiresAtMs: result.expiresAt };
      }, options.clientGone, this.deps.replicator.writeQuorum),
    );
  }

  async del(key: string, options: { w?: number } & RespCallOptions): Promise<{ version: string }> {
    validateKey(key);
    return this.admitted(0, () =>
      this.deadlines.run(async (scope) => {
        await this.versionsReady();
        const result = await this.deps.replicator.delete(key, { w: options.w, scope });
        return { version: result.version };
      }, options.clientGone, this.deps.replicator.writeQuorum),
    );
  }

  /**
   * One deadline for the whole command: keys whose reads were not sent by then fail, the others keep their answers.
   * The answer is bounded like a `POST /batch` answer: a value past `MAX_BATCH_RESPONSE_BYTES` or the process's
   * `MAX_BYTES_IN_FLIGHT` fails alone (an error in its place), and few reads of large values are in flight at once.
   */
  mget(keys: string[], options: { r?: number } & RespCallOptions): Promise<(RespEntry | undefined | Error)[]> {
    return this.admitted(0, (ticket) => {
      const answer = new BatchAnswer(this.deps.batchResponseBytesMax ?? Number.MAX_SAFE_INTEGER, ticket);
      return this.deadlines.run(
        (scope) => Promise.all(keys.map((key) => answer.read(() => this.read(key, options.r, scope)).catch((error: unknown) => asError(error)))),
        options.clientGone,
        this.deps.replicator.writeQuorum,
      );
    });
  }

  /** One bulk write (one group per node, as `POST /batch` sends distinct keys); each key with its own quorum. */
  async mset(entries: { key: string; value: string }[], options: { w?: number } & RespCallOptions): Promise<({ version: string } | Error)[]> {
    for (const { key, value } of entries) {
      validateKey(key);
      validateValue(value, this.deps.maxValueBytes);
    }
    try {
      const bytes = entries.reduce((sum, entry) => sum + entry.value.length, 0);
      const outcomes = await this.admitted(bytes, () =>
        this.deadlines.run(async (scope) => {
          await this.versionsReady();
          return this.deps.replicator.writeMany(entries, { w: options.w, scope });
        }, options.clientGone, this.deps.replicator.writeQuorum),
      );
      return outcomes.map((outcome) => (outcome instanceof Error ? outcome : { version: outcome.version }));
    } catch (error) {
      const failed = asError(error);
      return entries.map(() => failed);
    }
  }

  info(): RespClusterInfo {
    const cluster = this.deps.cluster();
    return {
      replicas: cluster.replicas,
      writeQuorum: cluster.writeQuorum,
      readQuorum: cluster.readQuorum,
      nodes: cluster.nodes.map((node) => ({ id: node.id, status: node.state === 'refilling' ? `${node.status},refilling` : node.status })),
      version: this.deps.version ?? KV_VERSION,
      proxyId: this.deps.proxyId,
    };
  }

  now(): number {
    return this.clock();
  }

  private async versionsReady(): Promise<void> {
    const ready = this.deps.versions.ready();
    if (ready !== undefined) await ready;
  }
}

function noKeepTtl(): KvError {
  return new KvError(
    ErrorCode.BadRequest,
    'KEEPTTL would keep the expiry of the value held, a read-modify-write that needs compare-and-set, which this kv cluster does not support',
  );
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
