import * as http from 'node:http';
import * as https from 'node:https';
import { SOCKET_IDLE_MS_DEFAULT, tokenToSend } from '@kv/protocol';

/**
 * Largest answer the load generator reads, in bytes: a batch answer of 1000 operations carrying values of the default
 * maximum (1 MiB, escaped) stays below it; anything larger is not an answer of kv.
 */
export const BENCH_RESPONSE_BYTES_MAX = 64 * 1024 * 1024;

/** An answer: its status, and its body when it was kept. */
export interface HttpAnswer {
  status: number;
  /** The body as text: always for a status of 300 or more, for a success only when asked for. */
  body: string | undefined;
}

/** Options of {@link HttpSender}. */
export interface HttpSenderOptions {
  /** The proxy's URL; a path prefix is kept. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** Most concurrent connections: one per request loop. */
  connections: number;
  /** Deadline of one request: it fails with `ETIMEDOUT` when its socket stays silent this long. */
  timeoutMs: number;
  /** For an https:// server: CA certificates (PEM) to verify it with instead of Node's default ones. */
  ca?: Buffer;
}

/**
 * The load generator's transport: Node's `http.request` on one keep-alive agent of `connections` sockets, with no
 * per-request work beyond the request itself (no URL parsing, no JSON unless asked, headers prepared by the caller).
 * axios costs about 200 µs of CPU per call, which would make the tool the bottleneck.
 */
export class HttpSender {
  /** The server's URL as named in messages. */
  readonly url: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly hostname: string;
  private readonly port: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly authorization: string | undefined;

  /** @throws TypeError when `baseUrl` is not an http(s) URL. */
  constructor(options: HttpSenderOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`baseUrl must be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    this.transport = url.protocol === 'https:' ? https : http;
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.url = url.origin + this.basePath;
    this.timeoutMs = options.timeoutMs;
    this.authorization = options.token === undefined ? undefined : `Bearer ${tokenToSend(options.token)}`;
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: options.connections,
      maxFreeSockets: options.connections,
      // Below the server's 5 s keep-alive timeout, so the client never sends on a socket the server is closing.
      timeout: SOCKET_IDLE_MS_DEFAULT,
      scheduling: 'lifo',
    };
    this.agent =
      url.protocol === 'https:'
        ? new https.Agent(options.ca === undefined ? agentOptions : { ...agentOptions, ca: options.ca })
        : new http.Agent(agentOptions);
  }

  /**
   * Headers of a request: the token when there is one, and the JSON content type and length of a body of
   * `bodyBytes` bytes. Build them once per kind of request and reuse them: the object is not modified.
   */
  headers(bodyBytes?: number): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = {};
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    if (bodyBytes !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = bodyBytes;
    }
    return headers;
  }

  /**
   * Sends one request.
   * @param path path and query after the base URL, already percent-encoded.
   * @param keepBody true to read the body of a success too (an error body is always read).
   * @returns the answer, whatever its status.
   * @throws Error with a socket `code` (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, ...) when no answer came.
   */
  request(
    method: string,
    path: string,
    headers: http.OutgoingHttpHeaders,
    body: string | Buffer | undefined,
    keepBody: boolean,
  ): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = this.transport.request(
        { agent: this.agent, hostname: this.hostname, port: this.port, method, path: this.basePath + path, headers },
        (res) => {
          const status = res.statusCode ?? 0;
          res.once('error', reject);
          if (!keepBody && status < 300) {
            res.once('end', () => resolve({ status, body: undefined }));
            res.resume();
            return;
          }
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > BENCH_RESPONSE_BYTES_MAX) {
              req.destroy(codedError('ETOOLARGE', `an answer over ${BENCH_RESPONSE_BYTES_MAX} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.once('end', () => resolve({ status, body: Buffer.concat(chunks, bytes).toString('utf8') }));
        },
      );
      req.once('error', reject);
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(codedError('ETIMEDOUT', `no answer within ${this.timeoutMs} ms`)),
      );
      req.end(body);
    });
  }

  /** Closes every connection; requests in flight fail. Idempotent. */
  close(): void {
    this.agent.destroy();
  }
}

/**
 * The code a request that got no answer is counted under: the socket error code (`ECONNREFUSED`, `ECONNRESET`,
 * `ETIMEDOUT`), else `KV_UNAVAILABLE`.
 */
export function transportErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z_]+$/.test(code) ? code : 'KV_UNAVAILABLE';
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
