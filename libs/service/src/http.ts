import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { ErrorCode, KvError, errorResponse } from '@kv/protocol';
import type { ServerTls } from './tls';
import { RETRY_AFTER_S, ticketOf } from './in-flight';
import { tokensOf, type TokenList } from './tokens';

/** Limits of a kv HTTP server, in the units their names say. */
export interface ServerLimits {
  /** Time to receive a request's headers: closes connections that trickle them (slowloris). */
  headersTimeoutMs: number;
  /** Time to receive a whole request: closes slow senders of bodies. */
  requestTimeoutMs: number;
  /** Idle time of a kept-alive connection between requests. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are refused by the kernel backlog and then by Node. */
  connectionsMax: number;
}

/** Defaults with their reasons: clients on a LAN send headers in milliseconds; a 1 MiB body in well under a second. */
export const SERVER_LIMITS_DEFAULT: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 30_000,
  connectionsMax: 10_000,
};

/** How often Node checks the header and request timeouts of open connections. */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/**
 * An HTTP server with kv's limits on headers, requests, idle connections and connection count; with `tls`, an HTTPS
 * server (same limits) that, when `tls.clientCa` is set, serves only clients presenting a certificate signed by it.
 */
export function createHttpServer(
  listener: http.RequestListener,
  limits: Partial<ServerLimits> = {},
  tls?: ServerTls,
): http.Server {
  const settings = { ...SERVER_LIMITS_DEFAULT, ...limits };
  const options: https.ServerOptions = {
    headersTimeout: settings.headersTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default, which would let a slow sender hold a
    // connection for up to 40 s instead of 10).
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    // Node's default; stated because it bounds header memory per request.
    maxHeaderSize: 16 * 1024,
  };
  let server: http.Server;
  if (tls === undefined) {
    server = http.createServer(options, listener);
  } else {
    const secure = https.createServer(
      {
        ...options,
        cert: tls.cert,
        key: tls.key,
        ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }),
      },
      listener,
    );
    answerPlainHttp(secure);
    server = secure;
  }
  server.maxConnections = settings.connectionsMax;
  // kv speaks HTTP/1.1 only. Without a listener, Node keeps a connection that asked to upgrade in a state where the
  // next malformed request is never answered; refuse upgrades instead.
  server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({ error: { code: ErrorCode.BadRequest, message: 'protocol upgrades are not supported' } });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/** The answer to plain HTTP sent to an HTTPS port: the client learns what to change, not just that it was cut off. */
export const PLAIN_HTTP_TO_TLS_MESSAGE = 'this port serves HTTPS: use an https:// URL';

/**
 * A client that fails the TLS handshake (an unknown CA, no client certificate) is disconnected, and the server goes
 * on serving the others. One that spoke plain HTTP gets a plain `400 KV_BAD_REQUEST` saying to use https://, written on
 * the TCP connection under the TLS one (found by the client's address and port among the open connections).
 */
function answerPlainHttp(server: https.Server): void {
  const plain = new Map<string, Duplex>();
  const keyOf = (socket: { remoteAddress?: string; remotePort?: number }): string => `${socket.remoteAddress}:${socket.remotePort}`;
  server.on('connection', (socket: net.Socket) => {
    const key = keyOf(socket);
    plain.set(key, socket);
    socket.once('close', () => plain.delete(key));
  });
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    const raw = plain.get(keyOf(socket));
    if (error.code !== 'ERR_SSL_HTTP_REQUEST' || raw === undefined || !raw.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: { code: ErrorCode.BadRequest, message: PLAIN_HTTP_TO_TLS_MESSAGE } });
    raw.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

/** Starts listening; resolves with the bound port (useful with port 0). */
export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/**
 * Stops accepting connections, closes idle ones, and waits for requests in flight to finish, at most `graceMs`;
 * then closes what is left.
 */
export function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Reads a request body as bytes (parse them with `parseJsonBody` of `@kv/protocol`, which also refuses bytes that
 * are not UTF-8), refusing more than `bytesMax` bytes: a declared `content-length` over the limit is refused before
 * reading anything; a body that grows past it while streaming stops being read. A body without a declared length is
 * charged to the request's in-flight ticket as it arrives (see `InFlight`).
 * @throws KvError `KV_TOO_LARGE` over the limit, `KV_OVERLOADED` when the process holds `MAX_BYTES_IN_FLIGHT`,
 *   `KV_BAD_REQUEST` if the client aborts.
 */
export function readBody(req: http.IncomingMessage, bytesMax: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > bytesMax) {
      reject(tooLarge(bytesMax));
      return;
    }
    const chunks: Buffer[] = [];
    const ticket = declared === undefined ? ticketOf(req) : undefined;
    let received = 0;
    let failed = false;
    const stop = (error: KvError): void => {
      failed = true;
      req.off('data', onData);
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > bytesMax) {
        stop(tooLarge(bytesMax));
        return;
      }
      if (ticket !== undefined && !ticket.reserve(chunk.length)) {
        stop(new KvError(ErrorCode.Overloaded, `this server is at capacity: the requests in flight hold its byte limit (MAX_BYTES_IN_FLIGHT); retry in ${RETRY_AFTER_S} s`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (failed) return;
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    });
    req.once('aborted', () => {
      if (!failed) reject(new KvError(ErrorCode.BadRequest, 'the request body was not completely received'));
    });
    req.once('error', (error) => {
      if (!failed) reject(new KvError(ErrorCode.BadRequest, 'the request body could not be read', { cause: error }));
    });
  });
}

function tooLarge(bytesMax: number): KvError {
  return new KvError(ErrorCode.TooLarge, `the request body is larger than ${bytesMax} bytes`);
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/**
 * Sends a text body with its status and content type. Every answer goes through here or {@link sendJson}, never
 * through Express's `res.send`, which answers conditional requests (`If-None-Match`) with a bodiless 304.
 */
export function sendText(res: http.ServerResponse, status: number, contentType: string, text: string | Buffer): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': typeof text === 'string' ? Buffer.byteLength(text) : text.length });
  res.end(text);
}

/** Sends a JSON text with its status. */
export function sendJson(res: http.ServerResponse, status: number, json: string, headers?: http.OutgoingHttpHeaders): void {
  res.writeHead(status, headers === undefined ? { ...JSON_HEADERS, 'content-length': Buffer.byteLength(json) } : {
    ...JSON_HEADERS,
    ...headers,
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

/**
 * Sends the error answer of any thrown value: `KvError`s with their status and body, anything else as
 * `KV_INTERNAL` without details. Returns the {@link KvError} sent, for logs and metrics. A request whose body was
 * refused as too large gets `connection: close`, since the rest of its body was not read.
 */
export function sendError(res: http.ServerResponse, thrown: unknown): KvError {
  const { status, body, error } = errorResponse(thrown);
  if (res.headersSent) {
    res.destroy();
    return error;
  }
  sendJson(res, status, JSON.stringify(body), errorHeaders(error.code, res.req));
  return error;
}

/** The scheme of kv's credentials, matched in any case (RFC 7235: an auth-scheme is case-insensitive). */
const BEARER_PREFIX = /^bearer /i;

/**
 * Headers of an error answer: `Retry-After` for an overloaded server; `connection: close` when the request's body was
 * not (completely) read (too large, or refused before reading), so the connection does not go on mid-body. A body read
 * whole and refused for what it holds (a value over `MAX_VALUE_BYTES` is `KV_TOO_LARGE` too) keeps the connection:
 * the next request on it, pipelined or not, is answered.
 */
function errorHeaders(code: string, req: http.IncomingMessage | undefined): http.OutgoingHttpHeaders | undefined {
  if (code !== ErrorCode.TooLarge && code !== ErrorCode.Overloaded) return undefined;
  // Without the request to look at, a body refused as too large counts as unread.
  const unread =
    req === undefined
      ? code === ErrorCode.TooLarge
      : !req.complete && (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined);
  const close = unread ? { connection: 'close' } : undefined;
  return code === ErrorCode.Overloaded ? { 'retry-after': String(RETRY_AFTER_S), ...close } : close;
}

/**
 * True when an `Authorization` header carries `Bearer <token>` for one of `tokens` (one token, a comma-separated list,
 * or a list): the scheme in any case, then one space and the token. The comparisons take the same time whatever the
 * header holds (digests of equal length are compared, against every token of the list), so a client cannot find a
 * token byte by byte.
 */
export function bearerMatches(header: string | undefined, tokens: TokenList): boolean {
  const presented = header !== undefined && BEARER_PREFIX.test(header) ? header.slice(7) : '';
  const a = createHash('sha256').update(presented).digest();
  let matched = false;
  for (const token of tokensOf(tokens)) {
    // Every token is compared: no early exit tells which one matched.
    matched = timingSafeEqual(a, createHash('sha256').update(token).digest()) || matched;
  }
  return matched && header !== undefined;
}

let requestCounter = 0;
const requestIdPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;

/** A request id unique in this process and unlikely to repeat across processes: a prefix and a counter. */
export function nextRequestId(): string {
  requestCounter += 1;
  return requestIdPrefix + requestCounter.toString(36);
}

/** Request ids accepted from clients: short and printable, so that they are safe to log and to pass on. */
export function acceptRequestId(value: string | string[] | undefined): string {
  if (typeof value === 'string' && value.length > 0 && value.length <= 128 && /^[\x21-\x7e]+$/.test(value)) return value;
  return nextRequestId();
}
