import http from 'node:http';
import net from 'node:net';

/**
 * HTTP plumbing of the fuzz suite: a client that sends a fuzzed request as it is and reports what came back, even a
 * closed connection, and a raw-socket exchange that writes exact bytes and parses whatever responses arrive.
 */

/** One response as received: status, lower-case header names (repeated headers keep every value), body bytes. */
export interface FuzzResponse {
  status: number;
  headers: Record<string, string[]>;
  body: Buffer;
}

/** What one request led to: a response, or a connection that ended without one (with the socket error, if any). */
export type FuzzOutcome = { kind: 'response'; response: FuzzResponse } | { kind: 'closed'; reason: string };

/** A fuzzed request for {@link sendFuzzRequest}: the path is sent byte for byte; headers may repeat. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Send no Host header at all (Node's client adds one otherwise, unless `headers` has its own). */
  omitHost?: boolean;
}

/** How long a server may take for one fuzzed request before the suite calls it a hang. */
export const FUZZ_REQUEST_TIMEOUT_MS = 10_000;

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** The header value of `name` (lower case) as one string, or undefined; repeated values are joined by ", ". */
export function headerOf(response: FuzzResponse, name: string): string | undefined {
  const values = response.headers[name];
  return values === undefined ? undefined : values.join(', ');
}

/**
 * Sends `request` through Node's HTTP client on a keep-alive agent. The path is not normalized and repeated headers are
 * sent as repeated lines. Resolves with a `closed` outcome when the server drops the connection (expected for requests
 * Node's parser refuses, or a body cut off after a 413), and rejects only when nothing at all happens within
 * {@link FUZZ_REQUEST_TIMEOUT_MS} (a hang) or when the client itself refuses to send the request (a suite bug).
 */
export function sendFuzzRequest(baseUrl: string, request: FuzzRequest): Promise<FuzzOutcome> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  if (request.body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    headers['content-length'] = String(request.body.length);
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: FuzzOutcome | Error): void => {
      if (settled) return;
      settled = true;
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const req = http.request(
      baseUrl + '/',
      { method: request.method, path: request.path, headers, agent, timeout: FUZZ_REQUEST_TIMEOUT_MS, setHost: request.omitHost !== true },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const response = { status: res.statusCode ?? 0, headers: groupHeaders(res.rawHeaders), body: Buffer.concat(chunks) };
          settle({ kind: 'response', response });
        });
        res.on('error', (error) => settle({ kind: 'closed', reason: `response cut: ${error.message}` }));
        res.on('aborted', () => settle({ kind: 'closed', reason: 'response aborted' }));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      settle(new Error(`${request.method} ${request.path.slice(0, 200)}: no answer within ${FUZZ_REQUEST_TIMEOUT_MS} ms (a hang)`));
    });
    req.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'closed', reason: error.code ?? error.message }));
    req.end(request.body);
  });
}

/** Raw header pairs as a map of lower-case names to every value received. */
function groupHeaders(raw: string[]): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    (headers[name] ??= []).push(raw[i + 1]);
  }
  return headers;
}

/** What a raw exchange saw. */
export interface RawExchange {
  /** Complete final responses, in order (interim `100 Continue` answers are left out). */
  responses: FuzzResponse[];
  /** Bytes after the last complete response that do not form one (a cut response, or garbage). */
  trailing: Buffer;
  /** The server closed (or reset) the connection; false when the suite closed it. */
  closedByServer: boolean;
  /** From the first byte written to the end of the exchange. */
  elapsedMs: number;
}

/** Options of {@link exchangeRaw}. */
export interface RawExchangeOptions {
  /** Stop once this many responses arrived (the requests known to be complete); the suite then closes the socket. */
  responsesExpected?: number;
  /** Stop after this long without a byte from the server (for requests the server is still waiting on). */
  idleMs: number;
  /** Stop after this long in any case. */
  deadlineMs: number;
  /** Write the bytes in these pieces (cumulative offsets), `pauseMs` apart: exercises the parser's incremental paths. */
  splitAt?: number[];
  pauseMs?: number;
}

/**
 * Connects to `port` on 127.0.0.1, writes `bytes` exactly, and collects the responses until the server closes the
 * connection, the expected number of responses arrived, the connection stays idle for `idleMs`, or `deadlineMs` passes;
 * then closes the socket. Never rejects: a reset is a closed connection.
 */
export function exchangeRaw(port: number, bytes: Buffer, options: RawExchangeOptions): Promise<RawExchange> {
  return new Promise((resolve) => {
    const start = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let done = false;
    let idleTimer: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(idleTimer);
      clearTimeout(deadline);
      socket.destroy();
      const parsed = parseResponses(received, closedByServer);
      resolve({ responses: parsed.responses, trailing: parsed.trailing, closedByServer, elapsedMs: Date.now() - start });
    };
    const armIdle = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => finish(false), options.idleMs);
    };
    const deadline = setTimeout(() => finish(false), options.deadlineMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      armIdle();
      if (options.responsesExpected !== undefined && parseResponses(received, false).responses.length >= options.responsesExpected) {
        finish(false);
      }
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // A reset after the server answered and closed is part of a normal refusal; the close event follows.
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      void writePieces(socket, bytes, options.splitAt ?? [], options.pauseMs ?? 0).then(armIdle);
    });
  });
}

async function writePieces(socket: net.Socket, bytes: Buffer, splitAt: number[], pauseMs: number): Promise<void> {
  let from = 0;
  for (const at of [...splitAt.filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b), bytes.length]) {
    if (socket.destroyed) return;
    socket.write(bytes.subarray(from, at));
    from = at;
    if (pauseMs > 0 && at < bytes.length) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Parses the HTTP/1.1 responses in `data`: framing by `content-length`, `transfer-encoding: chunked`, or (neither) the
 * end of the connection when `closed`. Responses to HEAD are not expected here (the raw fuzzer sends none).
 */
export function parseResponses(data: Buffer, closed: boolean): { responses: FuzzResponse[]; trailing: Buffer } {
  const responses: FuzzResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = data.indexOf(HEADER_END, at);
    if (headEnd < 0) break;
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (status === null) break;
    const headers: Record<string, string[]> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      (headers[line.slice(0, colon).trim().toLowerCase()] ??= []).push(line.slice(colon + 1).trim());
    }
    const bodyStart = headEnd + HEADER_END.length;
    const code = Number(status[1]);
    let bodyEnd: number;
    let body: Buffer;
    const length = headers['content-length'];
    if (code >= 100 && code < 200) {
      at = bodyStart;
      continue;
    } else if (code === 204 || code === 304) {
      bodyEnd = bodyStart;
      body = Buffer.alloc(0);
    } else if (length !== undefined) {
      bodyEnd = bodyStart + Number(length[0]);
      if (!Number.isSafeInteger(bodyEnd) || bodyEnd > data.length) break;
      body = data.subarray(bodyStart, bodyEnd);
    } else if (headers['transfer-encoding']?.some((te) => /chunked/i.test(te))) {
      const chunked = parseChunked(data, bodyStart);
      if (chunked === undefined) break;
      bodyEnd = chunked.end;
      body = chunked.body;
    } else {
      if (!closed) break;
      bodyEnd = data.length;
      body = data.subarray(bodyStart);
    }
    responses.push({ status: code, headers, body });
    at = bodyEnd;
  }
  return { responses, trailing: data.subarray(at) };
}

function parseChunked(data: Buffer, from: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0], 16);
    if (!Number.isSafeInteger(size) || size < 0) return undefined;
    const chunkStart = lineEnd + 2;
    if (size === 0) {
      // No trailers from our servers: the terminating chunk is followed by one empty line.
      const end = data.indexOf('\r\n', chunkStart);
      return end < 0 ? undefined : { body: Buffer.concat(parts), end: end + 2 };
    }
    if (chunkStart + size + 2 > data.length) return undefined;
    parts.push(data.subarray(chunkStart, chunkStart + size));
    at = chunkStart + size + 2;
  }
}

/** A socket that sends the start of a request and then one byte every `intervalMs`, forever, until {@link close}d. */
export class TricklingSocket {
  private readonly socket: net.Socket;
  private readonly timer: NodeJS.Timeout;
  private received = Buffer.alloc(0);
  private closedAt: number | undefined;
  private closedByClient = false;
  readonly openedAt = Date.now();
  /** Resolves when the connection ends, however it ends. */
  readonly closed: Promise<void>;

  /**
   * @param head bytes sent at once (e.g. a request line, or whole headers announcing a body);
   * @param drip the bytes to send one at a time, cycled (e.g. `"X-Slow: y\r\n"` to keep headers coming forever).
   */
  constructor(port: number, head: string, drip: string, intervalMs: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      this.socket.on('close', () => {
        this.closedAt ??= Date.now();
        clearInterval(this.timer);
        resolve();
      });
    });
    this.socket.write(head);
    let i = 0;
    this.timer = setInterval(() => {
      if (!this.socket.destroyed) this.socket.write(drip[i++ % drip.length]);
    }, intervalMs);
  }

  /** Milliseconds from opening until the server ended the connection; undefined while open or when the client closed it. */
  get closedByServerAfterMs(): number | undefined {
    return this.closedAt === undefined || this.closedByClient ? undefined : this.closedAt - this.openedAt;
  }

  /** Whether the connection is still open. */
  get open(): boolean {
    return this.closedAt === undefined;
  }

  /** Whatever the server sent, as latin1 text. */
  get answer(): string {
    return this.received.toString('latin1');
  }

  /** Closes the connection from the client side (no-op when already closed). */
  close(): void {
    clearInterval(this.timer);
    if (this.closedAt === undefined) this.closedByClient = true;
    this.socket.destroy();
  }
}
