import { ErrorCode } from './errors';
import { decideAfterFailure, RequestKind } from './failover-decision';
import { attachProxyErrors, markOutcomeUnknown, ProxyError } from './failover-errors';
import { EndpointReply, EndpointRequest, HttpEndpoint, transportFailureOf } from './http-endpoint';
import { isKvError, KvError } from './kv-error';
import type { RequestOptions } from './request-options';

/** A request of a {@link FailoverEndpoint}. */
export interface FailoverRequest extends EndpointRequest {
  /** Whether it may go to several proxies (see `decideAfterFailure`); by default a GET is a read, anything else a write. */
  kind?: RequestKind;
}

/** How one proxy answered a {@link FailoverEndpoint.probe}. */
export type ProbeOutcome =
  | { readonly url: string; readonly answered: true; readonly body: object }
  | { readonly url: string; readonly answered: false; readonly error: KvError };

/**
 * Several proxies of one cluster behind one `call`, for `KvClient` (internal to the package). Each proxy has its own
 * {@link HttpEndpoint} (and connection pool); one of them is current. A call goes to the current proxy first, then to
 * the others in the order given, wrapping around, one attempt each, as {@link decideAfterFailure} allows; the proxy whose
 * answer ends the call becomes current. Concurrent calls are fine: each starts at the proxy current when it began.
 */
export class FailoverEndpoint {
  private readonly endpoints: readonly HttpEndpoint[];
  private currentIndex = 0;

  /** @throws TypeError when `endpoints` is empty. */
  constructor(endpoints: readonly HttpEndpoint[]) {
    if (endpoints.length === 0) throw new TypeError('a failover endpoint needs at least one endpoint');
    this.endpoints = [...endpoints];
  }

  /** The proxies' URLs, in the order given. */
  get urls(): readonly string[] {
    return this.endpoints.map((endpoint) => endpoint.url);
  }

  /** The current proxy's URL: where the next call goes first. */
  get url(): string {
    return this.endpoints[this.currentIndex].url;
  }

  /**
   * Sends a request, failing over as {@link decideAfterFailure} says, and returns the parsed body of a 2xx answer.
   * @throws KvError of the proxy whose error ended the call, with the error of each proxy tried attached (`proxyErrorsOf`)
   * and, for a write that may have been carried out, marked (`isOutcomeUnknown`). When every proxy failed: the error of
   * the last one that answered, else, with a single proxy, its own error, and with several `KV_UNAVAILABLE` naming each.
   * TypeError for an invalid `requestId` or `timeoutMs` (before anything is sent).
   */
  async call(request: FailoverRequest): Promise<object> {
    const kind = request.kind ?? (request.method === 'GET' ? 'read' : 'write');
    const n = this.endpoints.length;
    const start = this.currentIndex;
    const tried: ProxyError[] = [];
    let lastAnswer: KvError | undefined;
    for (let i = 0; i < n; i++) {
      const index = (start + i) % n;
      const endpoint = this.endpoints[index];
      let reply: EndpointReply;
      try {
        reply = await endpoint.send(request);
      } catch (err) {
        const failure = transportFailureOf(err);
        // A programmer's mistake found before sending (a TypeError), or a bug: not a proxy's failure.
        if (failure === undefined || !isKvError(err)) throw err;
        tried.push({ url: endpoint.url, error: err });
        const decision = decideAfterFailure(kind, { answered: false, ...failure });
        if (decision.then === 'stop') throw this.failed(err, tried, decision.outcomeUnknown);
        continue;
      }
      let body: object;
      try {
        body = endpoint.bodyOf(reply);
      } catch (err) {
        if (!isKvError(err)) throw err;
        tried.push({ url: endpoint.url, error: err });
        const decision = decideAfterFailure(kind, { answered: true, status: err.status, code: err.code });
        if (decision.then === 'next') {
          lastAnswer = err;
          continue;
        }
        this.currentIndex = index;
        throw this.failed(err, tried, decision.outcomeUnknown);
      }
      this.currentIndex = index;
      return body;
    }
    throw this.failed(this.everyProxyFailed(tried, lastAnswer), tried, false);
  }

  /**
   * Sends a GET of `path` to every proxy at once, without failover, and returns how each answered, in the order given.
   * When the current proxy did not answer, the first one that did becomes current.
   * @throws TypeError for an invalid `requestId` or `timeoutMs`.
   */
  async probe(path: string, options: RequestOptions): Promise<ProbeOutcome[]> {
    const outcomes = await Promise.all(
      this.endpoints.map(async (endpoint): Promise<ProbeOutcome | { thrown: unknown }> => {
        try {
          const body = endpoint.bodyOf(await endpoint.send({ ...options, method: 'GET', path }));
          return { url: endpoint.url, answered: true, body };
        } catch (err) {
          return isKvError(err) ? { url: endpoint.url, answered: false, error: err } : { thrown: err };
        }
      }),
    );
    const results: ProbeOutcome[] = [];
    for (const outcome of outcomes) {
      if ('thrown' in outcome) throw outcome.thrown;
      results.push(outcome);
    }
    if (!results[this.currentIndex].answered) {
      const first = results.findIndex((outcome) => outcome.answered);
      if (first !== -1) this.currentIndex = first;
    }
    return results;
  }

  /** A `KV_INTERNAL` error naming the current proxy, for an answer that breaks the protocol; `what` describes it. */
  malformed(what: string): KvError {
    return this.endpoints[this.currentIndex].malformed(what);
  }

  /** Closes every proxy's pooled connections; later calls fail with `KV_UNAVAILABLE`. Idempotent. */
  close(): void {
    for (const endpoint of this.endpoints) endpoint.close();
  }

  private failed(err: KvError, tried: readonly ProxyError[], outcomeUnknown: boolean): KvError {
    attachProxyErrors(err, tried);
    return outcomeUnknown ? markOutcomeUnknown(err) : err;
  }

  // With one proxy its own error, as a client of a single server always reported; with several, the last answer carries
  // the code a caller should act on, and when none answered the message names each proxy and why.
  private everyProxyFailed(tried: readonly ProxyError[], lastAnswer: KvError | undefined): KvError {
    const last = tried[tried.length - 1].error;
    if (tried.length === 1) return last;
    if (lastAnswer !== undefined) return lastAnswer;
    const reasons = tried.map((attempt) => attempt.error.message).join('; ');
    return new KvError(ErrorCode.Unavailable, `none of ${tried.length} proxies answered: ${reasons}`, { cause: last });
  }
}
