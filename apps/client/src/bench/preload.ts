import { BATCH_OPS_MAX, PublicQuery, PublicRoutes } from '@kv/protocol';
import { batchResults, entryErrorCode, entryStatus, errorCodeOf } from '../answer-codes';
import { HttpSender, transportErrorCode } from './http-sender';
import { BENCH_KEY_PREFIX, benchValue } from './load-generator';

/** What to preload. */
export interface PreloadSpec {
  /** Every key from `bench:0` to `bench:<keys - 1>` is written once. */
  keys: number;
  valueBytes: number;
  /** Concurrent `/batch` requests. */
  connections: number;
  /** `?w=` of the writes, when set. */
  w: number | undefined;
}

/** What a preload did. */
export interface PreloadResult {
  /** Keys written. */
  written: number;
  /** Keys not written, by code. */
  errors: Map<string, number>;
}

/**
 * Writes the whole key space of a benchmark through `POST /batch` ({@link BATCH_OPS_MAX} keys per request,
 * `connections` requests at a time), so that reads of the benchmark find values. Not measured.
 * @param onProgress called after each request with the keys done so far.
 */
export async function preloadKeys(
  sender: HttpSender,
  spec: PreloadSpec,
  onProgress: (keysDone: number) => void = () => undefined,
): Promise<PreloadResult> {
  const valueJson = JSON.stringify(benchValue(spec.valueBytes));
  const path = PublicRoutes.batch + (spec.w === undefined ? '' : `?${PublicQuery.writeQuorum}=${spec.w}`);
  const result: PreloadResult = { written: 0, errors: new Map() };
  const fail = (code: string, n: number): void => {
    result.errors.set(code, (result.errors.get(code) ?? 0) + n);
  };
  let next = 0;
  let done = 0;
  const loop = async (): Promise<void> => {
    while (next < spec.keys) {
      const first = next;
      const n = Math.min(BATCH_OPS_MAX, spec.keys - first);
      next += n;
      const ops: string[] = [];
      for (let i = first; i < first + n; i++) {
        ops.push(`{"op":"set","key":"${BENCH_KEY_PREFIX}${i}","value":${valueJson}}`);
      }
      const body = `{"ops":[${ops.join(',')}]}`;
      try {
        const answer = await sender.request('POST', path, sender.headers(Buffer.byteLength(body)), body, true);
        const results = answer.status === 200 ? batchResults(answer.body, n) : undefined;
        if (results === undefined) {
          fail(answer.status === 200 ? 'KV_INTERNAL' : errorCodeOf(answer.status, answer.body), n);
        } else {
          for (const entry of results) {
            if (entryStatus(entry) === 200) result.written += 1;
            else fail(entryErrorCode(entry), 1);
          }
        }
      } catch (err) {
        fail(transportErrorCode(err), n);
      }
      done += n;
      onProgress(done);
    }
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < Math.min(spec.connections, Math.ceil(spec.keys / BATCH_OPS_MAX)); i++) loops.push(loop());
  await Promise.all(loops);
  return result;
}
