import type { RespBackend, RespClusterInfo, RespEntry } from '../backend';

/**
 * A {@link RespBackend} over a map, for tests: versions from a counter, a settable clock, optional delays per key
 * (to make commands finish out of order) and failures injected per key.
 */
export class MemoryBackend implements RespBackend {
  readonly capabilities: { ttl: boolean; compareAndSet: boolean };
  readonly entries = new Map<string, RespEntry>();
  /** Delay of every operation on a key, in ms. */
  readonly delays = new Map<string, number>();
  /** Error thrown by every operation on a key. */
  readonly failures = new Map<string, Error>();
  /** Every call, in order, for assertions: `get k`, `set k`, `del k`. */
  readonly calls: string[] = [];
  /** Quorum options seen. */
  readonly quorums: { w?: number; r?: number }[] = [];
  clockMs = 1_700_000_000_123;
  private counter = 0;

  constructor(capabilities: Partial<{ ttl: boolean; compareAndSet: boolean }> = {}) {
    this.capabilities = { ttl: false, compareAndSet: false, ...capabilities };
  }

  private async op<T>(key: string, run: () => T): Promise<T> {
    const delay = this.delays.get(key);
    if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
    const failure = this.failures.get(key);
    if (failure !== undefined) throw failure;
    return run();
  }

  private live(key: string): RespEntry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAtMs !== undefined && entry.expiresAtMs <= this.clockMs) return undefined;
    return entry;
  }

  get(key: string, options: { r?: number }): Promise<RespEntry | undefined> {
    this.calls.push(`get ${key}`);
    this.quorums.push(options.r === undefined ? {} : { r: options.r });
    return this.op(key, () => this.live(key));
  }

  set(key: string, value: string, options: { w?: number; expiresAtMs?: number; keepTtl?: boolean }): Promise<{ version: string; expiresAtMs?: number }> {
    this.calls.push(`set ${key}`);
    this.quorums.push({ w: options.w });
    return this.op(key, () => {
      const version = String(++this.counter).padStart(8, '0');
      const expiresAtMs = options.keepTtl === true ? this.live(key)?.expiresAtMs : options.expiresAtMs;
      this.entries.set(key, expiresAtMs === undefined ? { value, version } : { value, version, expiresAtMs });
      return expiresAtMs === undefined ? { version } : { version, expiresAtMs };
    });
  }

  del(key: string, options: { w?: number }): Promise<{ version: string }> {
    this.calls.push(`del ${key}`);
    this.quorums.push(options.w === undefined ? {} : { w: options.w });
    return this.op(key, () => {
      this.entries.delete(key);
      return { version: String(++this.counter).padStart(8, '0') };
    });
  }

  mget(keys: string[], options: { r?: number }): Promise<(RespEntry | undefined | Error)[]> {
    return Promise.all(keys.map((key) => this.get(key, options).catch((error: Error) => error)));
  }

  mset(entries: { key: string; value: string }[], options: { w?: number }): Promise<({ version: string } | Error)[]> {
    return Promise.all(entries.map(({ key, value }) => this.set(key, value, options).catch((error: Error) => error)));
  }

  info(): RespClusterInfo {
    return {
      replicas: 3,
      writeQuorum: 2,
      readQuorum: 2,
      nodes: [
        { id: 'node1', status: 'up' },
        { id: 'node2', status: 'up' },
        { id: 'node3', status: 'down' },
      ],
      version: '0.1.0',
      proxyId: 'proxy',
    };
  }

  now(): number {
    return this.clockMs;
  }
}
