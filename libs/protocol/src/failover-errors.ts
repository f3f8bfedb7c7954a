import { isKvError, KvError } from './kv-error';

/** The error one proxy gave to one call of a `KvClient`: its URL and what it answered or why it did not. */
export interface ProxyError {
  /** The proxy's URL, as in `KvClient.urls`. */
  readonly url: string;
  /** Its error: an error answer, or `KV_UNAVAILABLE` (and the like) when it did not answer. */
  readonly error: KvError;
}

// Registered symbols, not module-private ones: an error thrown by one copy of this package (a duplicated dependency) is
// still recognized by another, as isKvError does for the error itself. Non-enumerable, so the error's own fields, its
// JSON form and the equality checks of tests are those it always had.
const OUTCOME_UNKNOWN = Symbol.for('@kv/protocol.outcomeUnknown');
const PROXY_ERRORS = Symbol.for('@kv/protocol.proxyErrors');

/**
 * True when `err` is the failure of a write (`set`, `delete`, a batch with a write, any request but a GET) that may have
 * been carried out anyway: the request may have reached a proxy and nothing says it was not applied. That is a timeout or
 * a reset after the connection was made, a cancellation after it, and error answers that leave the write undecided
 * (`KV_QUORUM_FAILED`, `KV_INTERNAL`, a gateway's 502/504, any 5xx but `KV_NOT_READY` and `KV_OVERLOADED`). Such a write
 * is never resent to another proxy: read the key back, or write again knowing it may now be there twice.
 *
 * False for reads, for refusals (4xx), and for writes that provably never reached a proxy.
 */
export function isOutcomeUnknown(err: unknown): boolean {
  return isKvError(err) && (err as unknown as Record<symbol, unknown>)[OUTCOME_UNKNOWN] === true;
}

/**
 * The error of each proxy a failed `KvClient` call tried, in the order it tried them (the last one is the proxy whose
 * error ended the call); an empty list for an error that does not come from a call of a `KvClient` (a key refused before
 * sending, for instance) or for any other value.
 */
export function proxyErrorsOf(err: unknown): readonly ProxyError[] {
  if (!isKvError(err)) return [];
  const errors = (err as unknown as Record<symbol, unknown>)[PROXY_ERRORS];
  return Array.isArray(errors) ? (errors as readonly ProxyError[]) : [];
}

/** Marks `err` as the failure of a write whose outcome is unknown (see {@link isOutcomeUnknown}). */
export function markOutcomeUnknown(err: KvError): KvError {
  Object.defineProperty(err, OUTCOME_UNKNOWN, { value: true, configurable: true });
  return err;
}

/** Records on `err` the error of each proxy tried (see {@link proxyErrorsOf}); the list is frozen. */
export function attachProxyErrors(err: KvError, errors: readonly ProxyError[]): KvError {
  Object.defineProperty(err, PROXY_ERRORS, { value: Object.freeze([...errors]), configurable: true });
  return err;
}
