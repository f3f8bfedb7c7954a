import axios, { AxiosInstance, AxiosRequestConfig, AxiosResponse, GenericAbortSignal } from 'axios';
import * as http from 'node:http';
import * as https from 'node:https';
import { kvErrorFromBody } from './error-body';
import { ErrorCode } from './errors';
import { DEADLINE_HEADER, REQUEST_ID_HEADER } from './internal-messages';
import { createKeepAliveAgent, hasConnected } from './keep-alive-agent';
import { KvError } from './kv-error';
import { ClientTlsOptions, RequestOptions } from './request-options';

/** Options of an {@link HttpEndpoint}; the clients fill in their defaults. */
export interface HttpEndpointOptions {
  baseUrl: string;
  token: string | undefined;
  timeoutMs: number;
  maxSockets: number;
  socketIdleMs: number;
  responseBytesMax: number;
  tls?: ClientTlsOptions;
}

/**
 * The token a client sends of its `token` option: the option itself, or the first of a comma-separated list (blanks
 * around the commas ignored), so that a client can be given the same list as the servers during a rotation.
 * @throws TypeError when a token of it is empty or has a character other than visible ASCII.
 */
export function tokenToSend(token: string): string {
  const tokens = token.split(',').map((item) => item.trim());
  if (tokens.some((item) => !/^[\x21-\x7e]+$/.test(item))) {
    throw new TypeError('token must be a non-empty string of visible ASCII characters, or a comma-separated list of them (the first is sent)');
  }
  return tokens[0];
}

/** One request of an endpoint. */
export interface EndpointRequest extends RequestOptions {
  method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  /** Path and query relative to the base URL, already percent-encoded, starting with `/`. */
  path: string;
  /** A serialized JSON body: text, or its UTF-8 bytes (encoded once when sent to several servers). */
  body?: string | Uint8Array;
  /** Send the request's timeout as `x-kv-deadline` (ms the caller still waits), for the server to skip late work. */
  sendDeadline?: boolean;
}

/** A response of any status, its body parsed as JSON (`undefined` when empty or not JSON). */
export interface EndpointReply {
  status: number;
  body: unknown;
}

/**
 * Why a request got no answer it could use (see {@link transportFailureOf}): `unreachable` (refused, reset, DNS failure,
 * host or network unreachable), `timeout` (no answer within the deadline), `cancelled` (the caller's signal), `closed`
 * (the client was closed), `too-large` (an answer over `responseBytesMax`).
 */
export type TransportFailureReason = 'unreachable' | 'timeout' | 'cancelled' | 'closed' | 'too-large';

/** What is known of a request that failed without an answer. */
export interface TransportFailure {
  readonly reason: TransportFailureReason;
  /**
   * False only when the request provably never reached the server: it was still waiting for a pooled socket, or its
   * socket never connected (see `hasConnected`). True whenever that cannot be shown, whatever the error code.
   */
  readonly mayHaveReachedServer: boolean;
}

// The errors of send(), by the error thrown: a timeout or a reset carries the same code before and after the request
// was written, so what happened on the socket is recorded beside the error instead of being guessed from its code.
const transportFailures = new WeakMap<KvError, TransportFailure>();

/**
 * What is known of a failed request whose error came from {@link HttpEndpoint.send} (or `stream`) without an answer;
 * `undefined` for any other error, an error answer included.
 */
export function transportFailureOf(err: unknown): TransportFailure | undefined {
  return err instanceof KvError ? transportFailures.get(err) : undefined;
}

const REQUEST_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
// A path whose segment is `.` or `..` (also percent-encoded): WHATWG URL parsing would remove it.
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?=[/?#]|$)/i;
const identity = <T>(data: T): T => data;

/**
 * The HTTP plumbing shared by `KvClient` and `NodeClient` (internal to the package): one axios instance on one keep-alive
 * agent per server, JSON in and out, every failure as a `KvError`. Concurrent requests share the pool.
 */
export class HttpEndpoint {
  /** The server's URL as named in messages: origin and path, no credentials, no trailing slash. */
  readonly url: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly protocol: string;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;
  private readonly axios: AxiosInstance;
  private readonly host: string;
  private readonly port: number;
  private readonly responseBytesMax: number;
  /** The headers every request of {@link sendDirect} starts with (what the axios instance sends by default). */
  private readonly directHeaders: Record<string, string>;
  private closed = false;
  /** Headers added to every request (e.g. the incarnation a data node is expected to have). */
  private readonly extraHeaders = new Map<string, string>();

  /** @throws TypeError when `baseUrl` is not an http(s) URL or a limit is not a positive integer. */
  constructor(options: HttpEndpointOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch (cause) {
      throw new TypeError(`baseUrl must be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`, { cause });
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search !== '' || parsed.hash !== '') {
      throw new TypeError(`baseUrl must be an http(s) URL without query or fragment, got ${JSON.stringify(options.baseUrl)}`);
    }
    assertPositive(options.timeoutMs, 'timeoutMs');
    assertPositive(options.responseBytesMax, 'responseBytesMax');
    const token = options.token === undefined ? undefined : tokenToSend(options.token);
    this.origin = parsed.origin;
    this.basePath = parsed.pathname.replace(/\/+$/, '');
    this.url = this.origin + this.basePath;
    this.protocol = parsed.protocol;
    this.timeoutMs = options.timeoutMs;
    this.agent = createKeepAliveAgent(parsed.protocol, {
      maxSockets: options.maxSockets,
      socketIdleMs: options.socketIdleMs,
      tls: options.tls,
    });
    const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    this.host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
    this.port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
    this.responseBytesMax = options.responseBytesMax;
    this.directHeaders = headers;
    this.axios = axios.create({
      // Node's http stack: the fetch adapter costs more per request and ignores the agent.
      adapter: 'http',
      httpAgent: this.agent,
      httpsAgent: this.agent,
      // Requests go straight to the server: never through HTTP(S)_PROXY, never after a redirect.
      proxy: false,
      maxRedirects: 0,
      decompress: false,
      responseType: 'text',
      responseEncoding: 'utf8',
      // Bodies are serialized by the caller (once, possibly for several servers) and parsed here.
      transformRequest: [identity],
      transformResponse: [identity],
      // Every status resolves; non-2xx become typed errors without building an AxiosError.
      validateStatus: null,
      maxContentLength: options.responseBytesMax,
      maxBodyLength: -1,
      timeout: options.timeoutMs,
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
      headers,
    });
  }

  /**
   * Sends a request; resolves with the response of any status.
   * @throws KvError `KV_UNAVAILABLE` when the server cannot be reached, does not answer within the deadline, the request
   * is cancelled or the client is closed; `KV_TOO_LARGE` when the answer is over `responseBytesMax`. The axios error is
   * the `cause`; whether the request may have reached the server is kept for {@link transportFailureOf}. TypeError for an
   * invalid `requestId` or `timeoutMs`.
   */
  async send(request: EndpointRequest): Promise<EndpointReply> {
    if (this.closed) throw this.closedError();
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    if (request.timeoutMs !== undefined) assertPositive(request.timeoutMs, 'timeoutMs');
    const headers: Record<string, string> = {};
    for (const [name, value] of this.extraHeaders) headers[name] = value;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.requestId !== undefined) {
      if (!REQUEST_ID_PATTERN.test(request.requestId)) {
        throw new TypeError('requestId must be 1 to 128 visible ASCII characters');
      }
      headers[REQUEST_ID_HEADER] = request.requestId;
    }
    if (request.sendDeadline === true) headers[DEADLINE_HEADER] = String(timeoutMs);
    const path = this.basePath + request.path;
    const config: AxiosRequestConfig<string | Uint8Array> = {
      method: request.method,
      url: this.origin + path,
      data: request.body,
      headers,
      timeout: timeoutMs,
      signal: request.signal as GenericAbortSignal | undefined,
    };
    if (DOT_SEGMENT.test(path)) config.transport = this.rawPathTransport(path);
    let response: AxiosResponse<string>;
    try {
      response = await this.axios.request<string, AxiosResponse<string>, string | Uint8Array>(config);
    } catch (err) {
      throw this.transportError(err, timeoutMs);
    }
    return parseReply(response.status, response.data);
  }

  /**
   * Sends a request as {@link send} does, with the same answers, errors and {@link transportFailureOf} record, straight
   * on Node's `http` (or `https`) and the endpoint's agent rather than through axios: the hot path of the proxy (one
   * internal batch per node and event-loop turn) saves axios's per-request configuration merging and adapter layers.
   * Not for the keys `.` and `..` (see {@link send}).
   */
  sendDirect(request: EndpointRequest): Promise<EndpointReply> {
    if (this.closed) return Promise.reject(this.closedError());
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    if (request.timeoutMs !== undefined) assertPositive(request.timeoutMs, 'timeoutMs');
    const headers: Record<string, string | number> = { ...this.directHeaders };
    for (const [name, value] of this.extraHeaders) headers[name] = value;
    const body = request.body === undefined ? undefined : typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.byteLength;
    }
    if (request.requestId !== undefined) {
      if (!REQUEST_ID_PATTERN.test(request.requestId)) {
        return Promise.reject(new TypeError('requestId must be 1 to 128 visible ASCII characters'));
      }
      headers[REQUEST_ID_HEADER] = request.requestId;
    }
    if (request.sendDeadline === true) headers[DEADLINE_HEADER] = String(timeoutMs);
    const signal = request.signal as AbortSignal | undefined;
    return new Promise<EndpointReply>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(this.directFailure('cancelled', undefined, false, timeoutMs));
        return;
      }
      let settled = false;
      const req = (this.protocol === 'https:' ? https : http).request({
        agent: this.agent,
        host: this.host,
        port: this.port,
        method: request.method,
        path: this.basePath + request.path,
        headers,
      });
      const fail = (reason: TransportFailureReason, cause: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // Whether anything reached the server is decided before the request is destroyed (its socket goes with it).
        const reached = reason === 'too-large' || (req.socket !== null && req.socket !== undefined && hasConnected(req.socket));
        req.destroy();
        reject(this.directFailure(reason, cause, reached, timeoutMs));
      };
      const onAbort = (): void => fail('cancelled', undefined);
      const timer = setTimeout(() => fail('timeout', undefined), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => fail('unreachable', err));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > this.responseBytesMax) fail('too-large', undefined);
          else chunks.push(chunk);
        });
        res.on('error', (err) => fail('unreachable', err));
        // The connection closed before the whole answer came.
        res.on('close', () => fail('unreachable', new Error('socket hang up')));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, bytes).toString('utf8');
          resolve(parseReply(res.statusCode ?? 0, text));
        });
      });
      req.end(body);
    });
  }

  /**
   * Sends a request and returns the parsed body of a 2xx answer.
   * @returns the body, a JSON object (every 2xx answer of both APIs is one).
   * @throws KvError carrying the server's code, message, status and quorum details for a non-2xx answer; `KV_INTERNAL`
   * when a 2xx answer is not a JSON object; the errors of {@link send}.
   */
  async call(request: EndpointRequest): Promise<object> {
    return this.bodyOf(await this.send(request));
  }

  /**
   * The parsed body of a 2xx reply of this endpoint.
   * @throws KvError carrying the server's code, message, status and quorum details for a non-2xx reply; `KV_INTERNAL`
   * when a 2xx reply is not a JSON object.
   */
  bodyOf(reply: EndpointReply): object {
    if (reply.status >= 200 && reply.status < 300) {
      const body = reply.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw this.malformed(`${reply.status} with a body that is not a JSON object`);
      }
      return body;
    }
    throw this.errorOf(reply);
  }

  /** Sets (or, with `undefined`, removes) a header sent with every later request. */
  setHeader(name: string, value: string | undefined): void {
    if (value === undefined) this.extraHeaders.delete(name);
    else this.extraHeaders.set(name, value);
  }

  /**
   * Sends a GET and returns the answer's body as a stream (2xx only); `idleMs` bounds the time without data.
   * @throws KvError for a non-2xx answer (its body parsed for the code), or as {@link send}.
   */
  async stream(path: string, idleMs: number): Promise<NodeJS.ReadableStream> {
    if (this.closed) throw this.closedError();
    const headers: Record<string, string> = {};
    for (const [name, value] of this.extraHeaders) headers[name] = value;
    let response: AxiosResponse<NodeJS.ReadableStream>;
    try {
      response = await this.axios.request<NodeJS.ReadableStream>({
        method: 'GET',
        url: this.origin + this.basePath + path,
        headers,
        timeout: idleMs,
        responseType: 'stream',
        maxContentLength: -1,
      });
    } catch (err) {
      throw this.transportError(err, idleMs);
    }
    if (response.status >= 200 && response.status < 300) return response.data;
    const chunks: Buffer[] = [];
    for await (const chunk of response.data) chunks.push(Buffer.from(chunk as Buffer));
    throw this.errorOf(parseReply(response.status, Buffer.concat(chunks).toString('utf8')));
  }

  /** The error a non-2xx reply reports. */
  errorOf(reply: EndpointReply): KvError {
    return kvErrorFromBody(reply.body, reply.status, this.url);
  }

  /** A `KV_INTERNAL` error for an answer that breaks the protocol; `what` describes it. */
  malformed(what: string): KvError {
    return new KvError(ErrorCode.Internal, `${this.url} answered ${what}`);
  }

  /** Closes the pooled connections; later requests fail with `KV_UNAVAILABLE`. Idempotent. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  // The keys `.` and `..` must reach the server as they are, but axios builds the request path with the WHATWG URL
  // parser, which removes dot segments: hand Node's http the raw path instead.
  private rawPathTransport(path: string): { request: typeof http.request } {
    const transport = this.protocol === 'https:' ? https : http;
    const request = (options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void): http.ClientRequest =>
      transport.request({ ...options, path: path }, callback);
    return { request: request as typeof http.request };
  }

  // The error of a request of sendDirect that got no answer it could use: the messages of send()'s for the same cases.
  private directFailure(reason: TransportFailureReason, cause: unknown, mayHaveReached: boolean, timeoutMs: number): KvError {
    let error: KvError;
    if (reason === 'timeout') error = new KvError(ErrorCode.Unavailable, `${this.url} did not answer within ${timeoutMs} ms`);
    else if (reason === 'cancelled') error = new KvError(ErrorCode.Unavailable, `the request to ${this.url} was cancelled`);
    else if (reason === 'too-large') {
      error = new KvError(ErrorCode.TooLarge, `${this.url} answered with a body over the client's limit (maxContentLength size of ${this.responseBytesMax} exceeded)`);
    } else if (isCertificateError(cause)) {
      const code = (cause as { code?: string }).code;
      error = new KvError(ErrorCode.Unavailable, `cannot reach ${this.url}: certificate verification failed (${code}: ${describe(cause)})`, { cause });
    } else error = new KvError(ErrorCode.Unavailable, `cannot reach ${this.url}: ${describe(cause)}`, { cause });
    transportFailures.set(error, { reason, mayHaveReachedServer: mayHaveReached });
    return error;
  }

  private closedError(): KvError {
    const error = new KvError(ErrorCode.Unavailable, `the client of ${this.url} is closed`);
    transportFailures.set(error, { reason: 'closed', mayHaveReachedServer: false });
    return error;
  }

  private transportError(err: unknown, timeoutMs: number): KvError {
    const [reason, error] = this.describeTransportError(err, timeoutMs);
    transportFailures.set(error, { reason, mayHaveReachedServer: mayHaveReachedServer(err) });
    return error;
  }

  private describeTransportError(err: unknown, timeoutMs: number): [TransportFailureReason, KvError] {
    const unavailable = (message: string): KvError => new KvError(ErrorCode.Unavailable, message, { cause: err });
    if (!axios.isAxiosError(err)) return ['unreachable', unavailable(`cannot reach ${this.url}: ${describe(err)}`)];
    const message = err.message;
    if (err.code === 'ETIMEDOUT' && message.startsWith('timeout')) {
      return ['timeout', unavailable(`${this.url} did not answer within ${timeoutMs} ms`)];
    }
    if (err.code === 'ERR_CANCELED') return ['cancelled', unavailable(`the request to ${this.url} was cancelled`)];
    if (isCertificateError(err)) {
      return ['unreachable', unavailable(`cannot reach ${this.url}: certificate verification failed (${err.code}: ${message})`)];
    }
    if (message.startsWith('maxContentLength')) {
      const tooLarge = `${this.url} answered with a body over the client's limit (${message})`;
      return ['too-large', new KvError(ErrorCode.TooLarge, tooLarge, { cause: err })];
    }
    return ['unreachable', unavailable(`cannot reach ${this.url}: ${describe(err)}`)];
  }
}

// OpenSSL's and Node's codes of a server certificate that does not verify (unknown CA, wrong name, expired, ...).
const CERTIFICATE_ERROR_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * True when `err` is, or is caused by, a failed verification of a server's certificate: the client does not trust
 * its CA, the certificate names another host, or it expired. A `KvError` of the clients carries the failure as `cause`.
 */
export function isCertificateError(err: unknown): boolean {
  for (let current = err, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CERTIFICATE_ERROR_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether a request that failed with `err` (thrown by axios) may have reached the server. Decided on the request's socket,
 * never on the error code: Node gives a timeout or a reset the same code before and after the request was written.
 */
function mayHaveReachedServer(err: unknown): boolean {
  if (!axios.isAxiosError(err)) return true;
  if (err.response !== undefined) return true;
  const request = err.request as { socket?: unknown } | null | undefined;
  // axios cancels a request whose signal was aborted before it created the request: nothing was sent.
  if (request === undefined || request === null) return !axios.isCancel(err);
  // No socket yet: the request still waited for one of the pool's sockets, and nothing of it was written.
  if (request.socket === undefined || request.socket === null) return false;
  return hasConnected(request.socket);
}

function parseReply(status: number, text: unknown): EndpointReply {
  if (typeof text !== 'string' || text.length === 0) return { status, body: undefined };
  try {
    return { status, body: JSON.parse(text) };
  } catch {
    // Not JSON: for an error status the code then comes from the status, for a success the caller rejects the reply.
    return { status, body: undefined };
  }
}

function describe(err: unknown): string {
  // Not `instanceof Error`: errors of Node's own modules may come from another realm (a test's sandbox).
  if (typeof err === 'object' && err !== null && typeof (err as Error).message === 'string') {
    const error = err as Error & { code?: string };
    return error.message || error.code || error.name;
  }
  return String(err);
}

function assertPositive(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`${name} must be a positive integer, got ${n}`);
}
