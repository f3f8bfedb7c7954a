import { performance } from 'node:perf_hooks';
import { encodeKey } from '@kv/protocol';
import Redis from 'ioredis';
import type { DeletedKey } from '../checker/check-deletes';
import type { TtlOperation } from '../checker/check-ttl';
import type { Operation } from '../checker/history';
import { request } from '../http/request';
import type { Random } from './random';

/** Deadline of one client request in the workloads: past it the operation's outcome is unknown. */
/**
 * The final reads of a run ask every replica (N=3): a write whose proxy was killed while it was in flight may have
 * reached only some replicas and left no hint; until the cluster compares replicas by itself, a read of every replica
 * (which repairs the stale ones before it answers) is what brings it to the others before convergence is checked.
 */
export const FINAL_READ_QUERY = '?r=3';

export const WORKLOAD_REQUEST_TIMEOUT_MS = 3000;
/** Pause after a request that got no answer, so that a client does not spin against a dead proxy. */
const ERROR_PAUSE_MS = 20;

/** What stops a workload: set `stopped` to true. */
export interface StopSignal {
  stopped: boolean;
}

/** Options of {@link runRegisterWorkload}. */
export interface RegisterWorkloadOptions {
  proxyUrl: string;
  /**
   * Every proxy's URL, read at each operation (ports may move when a proxy restarts): each HTTP operation goes to one
   * of them at random, so that the history mixes all the coordinators. Default: `proxyUrl` only.
   */
  proxyUrls?: () => readonly string[];
  /**
   * How clients reach the proxy (default `http`): `resp` sends GET, SET and DEL over the Redis protocol, one
   * connection per client (ioredis), with `CLIENT KV-QUORUM` for `readQuorum`/`writeQuorum`.
   */
  protocol?: 'http' | 'resp';
  /** The proxy's RESP port, read at every (re)connection (it may move when the proxy restarts); for `resp`. */
  respPort?: () => number | undefined;
  random: Random;
  /** Concurrent clients (processes of the history). */
  clients: number;
  /** Keys the clients share; few keys mean much concurrency per key. */
  keys: number;
  /** Share of writes among operations (the rest are reads); a tenth of the writes are deletes. */
  writeRatio: number;
  /** `?r=` of the reads (default: the proxy's R). */
  readQuorum?: number;
  /** `?w=` of the writes (default: the proxy's W). */
  writeQuorum?: number;
  /** Headers of every request (e.g. the proxy's `AUTH_TOKEN`). */
  headers?: Record<string, string>;
  stop: StopSignal;
  /** Key prefix, to keep workloads of one cluster apart. */
  prefix?: string;
}

/** Statuses that mean a write may or may not have happened. */
function unknownOutcome(status: number): boolean {
  return status === 503 || status >= 500;
}

/** One operation's answer, whatever the protocol: a status as HTTP would give it, and the body. */
interface Answer {
  status: number;
  body: { value?: string | null; version?: string };
}

/** A client of the register workload: one operation at a time. */
interface RegisterClient {
  read(key: string): Promise<Answer>;
  write(key: string, value: string | null): Promise<Answer>;
  close(): void;
}

function httpClient(options: RegisterWorkloadOptions, random: Random): RegisterClient {
  const query = (name: 'r' | 'w', value: number | undefined): string => (value === undefined ? '' : `?${name}=${value}`);
  const path = (key: string): string => `/kv/${encodeKey(key)}`;
  const proxy = (): string => {
    const urls = options.proxyUrls?.() ?? [];
    return urls.length === 0 ? options.proxyUrl : random.pick(urls);
  };
  return {
    read: (key) => request(proxy(), 'GET', path(key) + query('r', options.readQuorum), undefined, options.headers, WORKLOAD_REQUEST_TIMEOUT_MS),
    write: (key, value) =>
      value === null
        ? request(proxy(), 'DELETE', path(key) + query('w', options.writeQuorum), undefined, options.headers, WORKLOAD_REQUEST_TIMEOUT_MS)
        : request(proxy(), 'PUT', path(key) + query('w', options.writeQuorum), { value }, options.headers, WORKLOAD_REQUEST_TIMEOUT_MS),
    close: () => undefined,
  };
}

/**
 * A RESP client for the workload. Its answers are mapped to HTTP statuses so that one classification serves both:
 * `-TRYAGAIN` (quorum missed) and internal errors are 503 (unknown outcome), other error replies 400 (refused), a nil
 * GET 404. A command without an answer in time, or cut by a lost connection, rejects (unknown outcome). Commands are
 * never resent after a reconnection, and none waits for a connection: each one is sent once or not at all.
 */
function respClient(options: RegisterWorkloadOptions): RegisterClient {
  const port = options.respPort?.();
  if (port === undefined) throw new TypeError('the resp protocol needs respPort');
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    commandTimeout: WORKLOAD_REQUEST_TIMEOUT_MS,
    connectTimeout: WORKLOAD_REQUEST_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: () => 50,
  });
  redis.on('error', () => undefined);
  // The port may move when the proxy restarts: read it again before each reconnection.
  redis.on('reconnecting', () => {
    const latest = options.respPort?.();
    if (latest !== undefined) redis.options.port = latest;
  });
  if (options.writeQuorum !== undefined || options.readQuorum !== undefined) {
    redis.on('ready', () => {
      redis.call('CLIENT', 'KV-QUORUM', String(options.writeQuorum ?? 0), String(options.readQuorum ?? 0)).catch(() => undefined);
    });
  }
  const answer = async (run: () => Promise<unknown>, ok: (result: unknown) => Answer): Promise<Answer> => {
    try {
      return ok(await run());
    } catch (error) {
      // An error reply from the server (ioredis names them ReplyError); anything else is a timeout or a lost connection.
      if (!(error instanceof Error) || error.name !== 'ReplyError') throw error;
      const unknown = error.message.startsWith('TRYAGAIN') || error.message.includes('internal error');
      return { status: unknown ? 503 : 400, body: {} };
    }
  };
  return {
    read: (key) => answer(() => redis.get(key), (value) => (value === null ? { status: 404, body: {} } : { status: 200, body: { value: value as string } })),
    write: (key, value) => answer(() => (value === null ? redis.del(key) : redis.set(key, value)), () => ({ status: 200, body: {} })),
    close: () => redis.disconnect(),
  };
}

/**
 * The register workload: clients read and write (unique values) a few shared keys until stopped, recording every
 * operation with its invocation and completion time and its outcome. A timed-out, reset or 503 write is `unknown`:
 * it may have happened, at any time after its invocation. A read without an answer is `unknown` and is dropped by
 * the checker. Over HTTP (default) or RESP (`protocol`).
 */
export async function runRegisterWorkload(options: RegisterWorkloadOptions): Promise<Operation[]> {
  const history: Operation[] = [];
  const keys = Array.from({ length: options.keys }, (_, i) => `${options.prefix ?? 'reg'}-${i}`);
  let nextId = 0;

  const client = async (process: number, random: Random): Promise<void> => {
    const connection = options.protocol === 'resp' ? respClient(options) : httpClient(options, random.fork());
    try {
      await runClient(process, random, connection);
    } finally {
      connection.close();
    }
  };
  const runClient = async (process: number, random: Random, connection: RegisterClient): Promise<void> => {
    for (let seq = 0; !options.stop.stopped; seq++) {
      const key = random.pick(keys);
      const isWrite = random.chance(options.writeRatio);
      const isDelete = isWrite && random.chance(0.1);
      const value = isWrite && !isDelete ? `c${process}-${seq}` : null;
      const op: Operation = {
        id: nextId++,
        process,
        key,
        kind: isWrite ? 'write' : 'read',
        value,
        outcome: 'unknown',
        invokedAt: performance.now(),
        completedAt: Infinity,
      };
      let answered = true;
      try {
        const res = isWrite ? await connection.write(key, value) : await connection.read(key);
        op.completedAt = performance.now();
        if (res.status === 200) {
          op.outcome = 'ok';
          op.version = res.body.version;
          if (!isWrite) op.value = res.body.value ?? null;
        } else if (!isWrite && res.status === 404) {
          op.outcome = 'ok';
          op.value = null;
        } else if (unknownOutcome(res.status)) {
          op.outcome = 'unknown';
        } else {
          op.outcome = 'fail';
        }
      } catch {
        answered = false;
        op.completedAt = performance.now();
        op.outcome = 'unknown';
      }
      history.push(op);
      if (!answered) await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i, options.random.fork())));
  return history;
}

/** Options of {@link runSetWorkload}. */
export interface SetWorkloadOptions {
  proxyUrl: string;
  /** Every proxy's URL, read at each insert: each goes to one of them at random (default: `proxyUrl` only). */
  proxyUrls?: () => readonly string[];
  random: Random;
  clients: number;
  headers?: Record<string, string>;
  stop: StopSignal;
  prefix?: string;
}

/** What a set workload did: every insert (a write of a unique element) with its outcome. */
export interface SetWorkloadResult {
  inserts: Operation[];
  /** Reads back every element whose insert was attempted; returns those present. */
  finalRead(): Promise<Set<string>>;
}

/**
 * The set workload: clients insert unique elements (each one a key of its own) until stopped; afterwards every
 * attempted element is read back. An acknowledged insert must be present; nothing that was not inserted may be.
 */
export async function runSetWorkload(options: SetWorkloadOptions): Promise<SetWorkloadResult> {
  const inserts: Operation[] = [];
  const prefix = options.prefix ?? 'set';
  let nextId = 0;
  const client = async (process: number, random: Random): Promise<void> => {
    for (let seq = 0; !options.stop.stopped; seq++) {
      const element = `${prefix}-${process}-${seq}`;
      const urls = options.proxyUrls?.() ?? [];
      const proxyUrl = urls.length === 0 ? options.proxyUrl : random.pick(urls);
      const op: Operation = {
        id: nextId++,
        process,
        key: element,
        kind: 'write',
        value: element,
        outcome: 'unknown',
        invokedAt: performance.now(),
        completedAt: Infinity,
      };
      let answered = true;
      try {
        const res = await request(proxyUrl, 'PUT', `/kv/${encodeKey(element)}`, { value: element }, options.headers, WORKLOAD_REQUEST_TIMEOUT_MS);
        op.completedAt = performance.now();
        op.outcome = res.status === 200 ? 'ok' : unknownOutcome(res.status) ? 'unknown' : 'fail';
        if (res.status === 200) op.version = res.body.version;
      } catch {
        answered = false;
        op.completedAt = performance.now();
      }
      inserts.push(op);
      if (!answered) await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i, options.random.fork())));
  return {
    inserts,
    finalRead: async () => {
      const present = new Set<string>();
      const elements = inserts.map((op) => op.key);
      // POST /batch reads a thousand elements per request, from every replica (see FINAL_READ_QUERY).
      for (let i = 0; i < elements.length; i += 1000) {
        const chunk = elements.slice(i, i + 1000);
        const res = await request(options.proxyUrl, 'POST', `/batch${FINAL_READ_QUERY}`, { ops: chunk.map((key) => ({ op: 'get', key })) }, options.headers, 30_000);
        if (res.status !== 200) throw new Error(`final read failed: ${res.status} ${JSON.stringify(res.body)}`);
        res.body.results.forEach((result: { status: number; value?: string }, j: number) => {
          if (result.status === 200) {
            if (result.value !== chunk[j]) throw new Error(`element ${chunk[j]} reads back as ${result.value}`);
            present.add(chunk[j]);
          } else if (result.status !== 404) {
            throw new Error(`final read of ${chunk[j]} failed: ${JSON.stringify(result)}`);
          }
        });
      }
      return present;
    },
  };
}

/** Options of {@link runDeleteWorkload}: those of the set workload (each operation goes to a random proxy). */
export type DeleteWorkloadOptions = SetWorkloadOptions;

/** What a delete workload did: each key written and deleted, the reads made after acknowledged deletes. */
export interface DeleteWorkloadResult {
  keys: DeletedKey[];
  readsAfterDelete: { key: string; value: string | undefined }[];
  /** Reads every key back from every replica (`FINAL_READ_QUERY`); undefined for not found. */
  finalRead(): Promise<Map<string, string | undefined>>;
}

/**
 * The delete workload, delete-heavy: each client writes a key of its own once, deletes it, and reads it back, over and
 * over, so that the cluster holds many tombstones. An acknowledged delete must never be undone (a "zombie"): neither
 * the read right after it nor the final read may find the value.
 */
export async function runDeleteWorkload(options: DeleteWorkloadOptions): Promise<DeleteWorkloadResult> {
  const keys: DeletedKey[] = [];
  const readsAfterDelete: { key: string; value: string | undefined }[] = [];
  const prefix = options.prefix ?? 'del';
  const outcome = (status: number): 'ok' | 'fail' | 'unknown' => (status === 200 ? 'ok' : unknownOutcome(status) ? 'unknown' : 'fail');
  const client = async (process: number, random: Random): Promise<void> => {
    const call = async (method: string, key: string, body?: unknown): Promise<{ status: number; body: { value?: string } } | undefined> => {
      const urls = options.proxyUrls?.() ?? [];
      const proxyUrl = urls.length === 0 ? options.proxyUrl : random.pick(urls);
      try {
        return await request(proxyUrl, method, `/kv/${encodeKey(key)}`, body, options.headers, WORKLOAD_REQUEST_TIMEOUT_MS);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
        return undefined;
      }
    };
    for (let seq = 0; !options.stop.stopped; seq++) {
      const key = `${prefix}-${process}-${seq}`;
      const value = `v-${process}-${seq}`;
      const written = await call('PUT', key, { value });
      const entry: DeletedKey = { key, value, write: written === undefined ? 'unknown' : outcome(written.status), delete: 'fail' };
      keys.push(entry);
      if (entry.write === 'fail') continue;
      const deleted = await call('DELETE', key);
      entry.delete = deleted === undefined ? 'unknown' : outcome(deleted.status);
      if (entry.delete !== 'ok') continue;
      const read = await call('GET', key);
      if (read !== undefined && (read.status === 200 || read.status === 404)) readsAfterDelete.push({ key, value: read.status === 200 ? read.body.value : undefined });
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i, options.random.fork())));
  return {
    keys,
    readsAfterDelete,
    finalRead: async () => {
      const present = new Map<string, string | undefined>();
      const names = keys.map((key) => key.key);
      for (let i = 0; i < names.length; i += 1000) {
        const chunk = names.slice(i, i + 1000);
        const res = await request(options.proxyUrl, 'POST', `/batch${FINAL_READ_QUERY}`, { ops: chunk.map((key) => ({ op: 'get', key })) }, options.headers, 30_000);
        if (res.status !== 200) throw new Error(`final read failed: ${res.status} ${JSON.stringify(res.body)}`);
        res.body.results.forEach((result: { status: number; value?: string }, j: number) => {
          if (result.status === 200) present.set(chunk[j], result.value);
          else if (result.status === 404) present.set(chunk[j], undefined);
          else throw new Error(`final read of ${chunk[j]} failed: ${JSON.stringify(result)}`);
        });
      }
      return present;
    },
  };
}

/** Options of {@link runTtlWorkload}: those of the set workload, and the keys the clients share. */
export interface TtlWorkloadOptions extends SetWorkloadOptions {
  /** Keys the clients share (default 40): few enough that keys are overwritten, enough that many expire first. */
  keys?: number;
  /** The ttls drawn for sets that expire, in whole seconds: [min, max] (default [1, 3]). */
  ttlSeconds?: [number, number];
}

/** What a TTL workload did: its history (wall-clock times), and a final read of every key to add to it. */
export interface TtlWorkloadResult {
  history: TtlOperation[];
  keys: string[];
  /** Reads every key from every replica (`FINAL_READ_QUERY`), as process `process`, and adds the reads to `history`. */
  finalRead(process: number): Promise<void>;
}

/** The body of a read or write answer of `/kv/{key}` that the TTL workload looks at. */
interface TtlAnswerBody {
  value?: string;
  version?: string;
  expiresAt?: number;
}

/**
 * The TTL workload: clients set values with a short ttl (`ttlSeconds`), set values without one, delete and read, over
 * a few shared keys; each client also reads back, once its expiry has passed, every key it set with a ttl (whatever
 * was written since). Values are unique. Every operation is recorded with wall-clock invocation and completion times
 * (`Date.now()`, the clock `expiresAt` is compared with), acknowledged versions and expiries, and what reads returned;
 * `checkTtl` checks the history.
 */
export async function runTtlWorkload(options: TtlWorkloadOptions): Promise<TtlWorkloadResult> {
  const history: TtlOperation[] = [];
  const prefix = options.prefix ?? 'ttl';
  const keys = Array.from({ length: options.keys ?? 40 }, (_, i) => `${prefix}-${i}`);
  const [ttlMin, ttlMax] = options.ttlSeconds ?? [1, 3];
  let nextId = 0;
  const run = async (proxyUrl: string, op: TtlOperation, method: string, body?: unknown, query = ''): Promise<boolean> => {
    try {
      const res = await request(proxyUrl, method, `/kv/${encodeKey(op.key)}${query}`, body, options.headers, WORKLOAD_REQUEST_TIMEOUT_MS);
      op.completedAt = Date.now();
      const answer = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as TtlAnswerBody;
      if (op.kind === 'read') {
        if (res.status === 200 || res.status === 404) {
          op.outcome = 'ok';
          op.value = res.status === 200 ? (answer.value ?? null) : null;
          if (res.status === 200 && answer.version !== undefined) op.version = answer.version;
          if (res.status === 200 && answer.expiresAt !== undefined) op.expiresAt = answer.expiresAt;
        } else {
          op.outcome = 'fail';
        }
      } else {
        op.outcome = res.status === 200 ? 'ok' : unknownOutcome(res.status) ? 'unknown' : 'fail';
        if (res.status === 200) {
          if (answer.version !== undefined) op.version = answer.version;
          if (answer.expiresAt !== undefined) op.expiresAt = answer.expiresAt;
        }
      }
      if (op.outcome === 'unknown') op.completedAt = Infinity;
      return true;
    } catch {
      op.completedAt = op.kind === 'read' ? Date.now() : Infinity;
      if (op.kind === 'read') op.outcome = 'fail';
      return false;
    }
  };
  const client = async (process: number, random: Random): Promise<void> => {
    // This client's acknowledged ttl sets, by expiry: each key is read once its expiry has passed.
    const due: { key: string; expiresAt: number }[] = [];
    for (let seq = 0; !options.stop.stopped; seq++) {
      const urls = options.proxyUrls?.() ?? [];
      const proxyUrl = urls.length === 0 ? options.proxyUrl : random.pick(urls);
      const probe = due.length > 0 && due[0].expiresAt < Date.now() ? due.shift() : undefined;
      const draw = random.next();
      const kind: TtlOperation['kind'] = probe !== undefined || draw >= 0.6 ? 'read' : draw >= 0.45 ? 'delete' : 'set';
      const key = probe?.key ?? random.pick(keys);
      const op: TtlOperation = { id: nextId++, process, key, kind, value: null, outcome: 'unknown', invokedAt: Date.now(), completedAt: Infinity };
      let answered: boolean;
      if (kind === 'set') {
        op.value = `t${process}-${seq}`;
        const ttl = draw < 0.3 ? ttlMin + random.int(ttlMax - ttlMin + 1) : undefined;
        if (ttl !== undefined) op.ttlMs = ttl * 1000;
        answered = await run(proxyUrl, op, 'PUT', ttl === undefined ? { value: op.value } : { value: op.value, ttl });
        if (op.outcome === 'ok' && op.expiresAt !== undefined) {
          due.push({ key, expiresAt: op.expiresAt });
          due.sort((a, b) => a.expiresAt - b.expiresAt);
        }
      } else {
        answered = await run(proxyUrl, op, kind === 'delete' ? 'DELETE' : 'GET');
      }
      history.push(op);
      if (!answered) await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i, options.random.fork())));
  return {
    history,
    keys,
    finalRead: async (process) => {
      for (const key of keys) {
        const op: TtlOperation = { id: nextId++, process, key, kind: 'read', value: null, outcome: 'unknown', invokedAt: Date.now(), completedAt: Infinity };
        await run(options.proxyUrl, op, 'GET', undefined, FINAL_READ_QUERY);
        if (op.outcome !== 'ok') throw new Error(`final read of ${key} failed`);
        history.push(op);
      }
    },
  };
}
