import { encodeKey } from '@kv/protocol';
import { request } from '@kv/testkit';

/** Pause of a writer after a request that failed without an answer. */
const ERROR_PAUSE_MS = 20;

/**
 * What the writers know of one key: every value written, in order (the writes of a key are sequential), and the
 * index of the last acknowledged one.
 */
interface KeyState {
  values: string[];
  /** Index in `values` of the last acknowledged write, -1 before any. */
  ackedIndex: number;
  ackedVersion: string | undefined;
}

/** Counts of write outcomes. */
export interface WriteCounts {
  ok: number;
  quorumFailed: number;
  otherErrors: number;
}

/**
 * Concurrent writers of unique values, each owning its keys (so the writes of one key are sequential), that remember
 * for every key what was written and what was acknowledged. A read of a key must return the value acknowledged last
 * before the read started, or a value written after it (of unknown outcome, or acknowledged meanwhile).
 */
export class Writers {
  private readonly keys = new Map<string, KeyState>();
  private running = false;
  private loops: Promise<void>[] = [];
  private sequence = 0;
  /** Writes in flight, by proxy URL. */
  private readonly inFlight = new Map<string, number>();
  counts: WriteCounts = { ok: 0, quorumFailed: 0, otherErrors: 0 };

  constructor(
    private proxyUrl: string,
    private readonly writers: number,
    private readonly keysPerWriter: number,
    private readonly prefix = 'key',
  ) {}

  /** Starts the writer loops; {@link stopAllWriters} stops them if a test ends before it does. */
  start(): void {
    this.running = true;
    active.add(this);
    this.loops = Array.from({ length: this.writers }, (_, w) => this.loop(w));
  }

  /** Stops the loops and waits for their last requests. */
  async stop(): Promise<void> {
    this.running = false;
    active.delete(this);
    await Promise.all(this.loops);
  }

  /**
   * Sends the next writes to another proxy, and resolves once no write is in flight to the previous one (so that it
   * can be stopped without failing a request).
   */
  async retarget(proxyUrl: string): Promise<void> {
    const previous = this.proxyUrl;
    this.proxyUrl = proxyUrl;
    while (previous !== proxyUrl && (this.inFlight.get(previous) ?? 0) > 0) await sleep(5);
  }

  /** Resets the outcome counts (e.g. at the start of a phase). */
  resetCounts(): WriteCounts {
    const before = this.counts;
    this.counts = { ok: 0, quorumFailed: 0, otherErrors: 0 };
    return before;
  }

  /** Every key written so far. */
  writtenKeys(): string[] {
    return [...this.keys.keys()];
  }

  /** Keys with an acknowledged write. */
  acknowledgedKeys(): string[] {
    return [...this.keys.entries()].filter(([, state]) => state.ackedIndex >= 0).map(([key]) => key);
  }

  /** Where a key stands now: call it when a read of the key starts, and pass the result to {@link explainRead}. */
  mark(key: string): number {
    return this.keys.get(key)?.ackedIndex ?? -1;
  }

  /**
   * Checks a value read for `key` by a read that started at `mark`: not found only if nothing was acknowledged by then;
   * otherwise the value acknowledged last by then, or one written after it. Returns the problem, or undefined.
   */
  explainRead(key: string, mark: number, value: string | undefined): string | undefined {
    const state = this.keys.get(key);
    const values = state?.values ?? [];
    if (value === undefined) {
      return mark < 0 ? undefined : `${key}: read nothing, but ${values[mark]} was acknowledged (version ${state?.ackedVersion})`;
    }
    const index = values.indexOf(value);
    if (index < 0) return `${key}: read ${value}, which nobody wrote`;
    if (index >= mark) return undefined;
    return `${key}: read ${value}, but ${values[mark]} was acknowledged before the read started`;
  }

  private async loop(writer: number): Promise<void> {
    for (let i = 0; this.running; i++) {
      const key = `${this.prefix}-${writer}-${i % this.keysPerWriter}`;
      const value = `${key}@${++this.sequence}`;
      let state = this.keys.get(key);
      if (state === undefined) {
        state = { values: [], ackedIndex: -1, ackedVersion: undefined };
        this.keys.set(key, state);
      }
      state.values.push(value);
      const index = state.values.length - 1;
      const target = this.proxyUrl;
      this.inFlight.set(target, (this.inFlight.get(target) ?? 0) + 1);
      try {
        const res = await request(target, 'PUT', `/kv/${encodeKey(key)}`, { value }, {}, 5000);
        if (res.status === 200) {
          state.ackedIndex = index;
          state.ackedVersion = res.body.version;
          this.counts.ok += 1;
        } else if (res.status === 503) {
          this.counts.quorumFailed += 1;
        } else {
          this.counts.otherErrors += 1;
        }
      } catch {
        this.counts.otherErrors += 1;
        // An unreachable proxy fails at once: pause so the loop does not spin.
        await sleep(ERROR_PAUSE_MS);
      } finally {
        this.inFlight.set(target, (this.inFlight.get(target) ?? 1) - 1);
      }
    }
  }
}

const active = new Set<Writers>();

/** Stops every writer still running (call it in `afterEach`, so a failed test leaves no loop behind). */
export async function stopAllWriters(): Promise<void> {
  await Promise.all([...active].map((writers) => writers.stop()));
}

/**
 * Reads every key through the proxy and returns the problems found (empty when every read is explained). With
 * `inspect`, each problem is followed by what `inspect` tells of the key (e.g. every replica's entry).
 */
export async function verifyReads(proxyUrl: string, writers: Writers, inspect?: (key: string) => Promise<string>): Promise<string[]> {
  const problems: string[] = [];
  for (const key of writers.writtenKeys()) {
    const mark = writers.mark(key);
    const res = await request(proxyUrl, 'GET', `/kv/${encodeKey(key)}`);
    if (res.status !== 200 && res.status !== 404) {
      problems.push(`${key}: GET answered ${res.status} ${JSON.stringify(res.body)}`);
      continue;
    }
    const problem = writers.explainRead(key, mark, res.status === 200 ? res.body.value : undefined);
    if (problem !== undefined) problems.push(inspect === undefined ? problem : `${problem}; ${await inspect(key)}`);
  }
  return problems;
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
