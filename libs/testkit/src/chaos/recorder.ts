import { performance } from 'node:perf_hooks';
import { encodeKey } from '@kv/protocol';
import type { Operation } from '../checker/history';
import { request } from '../http/request';

/**
 * Records operations against a proxy into a history for the checkers, one call at a time: for scripted scenarios
 * where the test decides the order of operations and faults.
 */
export class HistoryRecorder {
  readonly history: Operation[] = [];
  private nextId = 0;

  constructor(
    private readonly proxyUrl: string,
    private readonly process = 0,
    private readonly timeoutMs = 5000,
  ) {}

  /** Writes `value` to `key` (`?w=` when given); returns the HTTP status (0 when no answer came). */
  write(key: string, value: string, w?: number): Promise<number> {
    return this.run('write', key, value, w === undefined ? '' : `?w=${w}`);
  }

  /** Reads `key` (`?r=` when given); returns the value (`null` when not found, `undefined` without an answer). */
  async read(key: string, r?: number): Promise<string | null | undefined> {
    await this.run('read', key, null, r === undefined ? '' : `?r=${r}`);
    const op = this.history[this.history.length - 1];
    return op.outcome === 'ok' ? op.value : undefined;
  }

  private async run(kind: 'write' | 'read', key: string, value: string | null, query: string): Promise<number> {
    const op: Operation = {
      id: this.nextId++,
      process: this.process,
      key,
      kind,
      value,
      outcome: 'unknown',
      invokedAt: performance.now(),
      completedAt: Infinity,
    };
    const path = `/kv/${encodeKey(key)}${query}`;
    let status = 0;
    try {
      const res =
        kind === 'write'
          ? await request(this.proxyUrl, 'PUT', path, { value }, {}, this.timeoutMs)
          : await request(this.proxyUrl, 'GET', path, undefined, {}, this.timeoutMs);
      status = res.status;
      op.completedAt = performance.now();
      if (res.status === 200) {
        op.outcome = 'ok';
        op.version = res.body.version;
        if (kind === 'read') op.value = res.body.value;
      } else if (kind === 'read' && res.status === 404) {
        op.outcome = 'ok';
        op.value = null;
      } else if (res.status < 500) {
        op.outcome = 'fail';
      }
    } catch {
      op.completedAt = performance.now();
    }
    this.history.push(op);
    return status;
  }
}
