// What the benchmarks share: wrk's output parsed, loading keys through POST /batch, numbers formatted for the report.
import { request } from '@kv/testkit';

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Requests completed in the run. */
  requests: number;
}

function parseLatencyMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (match === null) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** wrk's figures from its output (run with `--latency`). */
export function parseWrk(text: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in /.exec(text)?.[1] ?? NaN);
  const p50 = parseLatencyMs(/\s50%\s+(\S+)/.exec(text)?.[1] ?? '');
  const p99 = parseLatencyMs(/\s99%\s+(\S+)/.exec(text)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = non2xx + (socketErrors === null ? 0 : socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0));
  return { rps, p50Ms: p50, p99Ms: p99, errors, requests };
}

/** Attempts of each operation of a preload before it fails. */
const PRELOAD_ATTEMPTS = 5;

/**
 * Writes `<prefix>1`..`<prefix><count>` with values of `valueBytes` (of `fill`) through POST /batch, 4 requests in
 * flight; by default key1..key100000 with 100 bytes, the key space of the wrk scripts, so that every GET finds its key.
 */
export async function preload(server: string, count = 100_000, valueBytes = 100, prefix = 'key', fill = 'x'): Promise<void> {
  const value = fill.repeat(valueBytes);
  const perBatch = Math.max(1, Math.min(1000, Math.floor(4_000_000 / (valueBytes + 32))));
  let next = 1;
  const worker = async (): Promise<void> => {
    while (next <= count) {
      const first = next;
      next += perBatch;
      let ops = Array.from({ length: Math.min(perBatch, count - first + 1) }, (_, i) => ({ op: 'set', key: `${prefix}${first + i}`, value }));
      // The operations refused as overloaded (503) or that timed out are sent again, a few times, after a pause.
      for (let attempt = 1; ops.length > 0; attempt++) {
        const res = await request(server, 'POST', '/batch', JSON.stringify({ ops }), { 'content-type': 'application/json' }, 60_000);
        const results: { status: number; error?: { code?: string } }[] = res.status === 200 ? res.body.results : [];
        const failed = res.status === 200 ? ops.filter((_, i) => results[i].status !== 200) : ops;
        if (failed.length === 0) break;
        const retriable = res.status === 503 || results.every((r) => r.status === 200 || r.status === 503 || r.status === 504);
        if (!retriable || attempt >= PRELOAD_ATTEMPTS) {
          const first = results.find((r) => r.status !== 200);
          throw new Error(`preload failed: ${res.status}${first === undefined ? '' : ` (${first.status} ${first.error?.code ?? ''})`} after ${attempt} attempts`);
        }
        ops = failed;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** A number for the report: thousands separated, `digits` decimals; `-` when there is none. */
export const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
