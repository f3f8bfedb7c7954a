import { codeForStatus, isErrorBody } from '@kv/protocol';

/**
 * Reading the proxy's answers in the load generator: only as much as counting needs, and never throwing on a malformed
 * answer (it is counted as an error instead).
 */

/** The code of an error answer: the one in its body, else the one its status stands for (`codeForStatus`). */
export function errorCodeOf(status: number, body: string | undefined): string {
  const parsed = parseJson(body);
  return isErrorBody(parsed) ? parsed.error.code : codeForStatus(status);
}

/**
 * The `results` of a `POST /batch` answer, or `undefined` when the body is not `{"results": [...]}` with `n` entries
 * (any number when `n` is not given).
 */
export function batchResults(body: string | undefined, n?: number): unknown[] | undefined {
  const results = (parseJson(body) as { results?: unknown } | undefined)?.results;
  return Array.isArray(results) && (n === undefined || results.length === n) ? results : undefined;
}

/** The `status` of one entry of a batch answer; 500 when it has none (a malformed entry is a failure). */
export function entryStatus(entry: unknown): number {
  const status = (entry as { status?: unknown } | null | undefined)?.status;
  return typeof status === 'number' ? status : 500;
}

/** The code of a failed entry of a batch answer: its `error.code`, else the one its status stands for. */
export function entryErrorCode(entry: unknown): string {
  return isErrorBody(entry) ? entry.error.code : codeForStatus(entryStatus(entry));
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
