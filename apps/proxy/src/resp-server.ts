import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ConnectionState,
  RESP_CONNECTIONS_MAX,
  RespDispatcher,
  RespSession,
  respLimits,
  type RespBackend,
  type RespServerStats,
} from '@kv/resp';
import type { Logger } from '@kv/service';
import type { Registry } from 'prom-client';
import { RespMetrics } from './resp-metrics';

/** How often a stopping server looks whether its connections have finished their commands. */
const STOP_POLL_INTERVAL_MS = 50;

/** What the RESP server needs. */
export interface RespServerDeps {
  backend: RespBackend;
  /** When set, connections must AUTH with it, or any token of the list (the proxy's `AUTH_TOKEN`). */
  authToken?: string | readonly string[];
  /** Largest value, in bytes (`MAX_VALUE_BYTES`): the request limits derive from it as the HTTP ones do. */
  maxValueBytes: number;
  /** Close a connection with nothing in flight after this long without traffic, in ms; 0: never. */
  idleTimeoutMs: number;
  /** Open connections at most (default {@link RESP_CONNECTIONS_MAX}). */
  connectionsMax?: number;
  logger: Logger;
  registry: Registry;
}

/**
 * The proxy's RESP listener: a `net` server whose connections each run a {@link RespSession} of `@kv/resp`. It owns
 * what touches the socket: the connection cap (a connection over it gets Redis's `-ERR max number of clients
 * reached` and is closed), backpressure (the session pauses and resumes the socket; `drain` lets it read again), the
 * idle timeout, metrics, and a graceful stop.
 */
export class RespServer {
  private readonly server: net.Server;
  private readonly deps: RespServerDeps;
  private readonly dispatcher: RespDispatcher;
  private readonly metrics: RespMetrics;
  private readonly sessions = new Map<net.Socket, RespSession>();
  private readonly connectionsMax: number;
  private readonly startedAtMs: number;
  private port = 0;
  private nextId = 1;
  private totalConnections = 0;
  private rejectedConnections = 0;
  private stopping = false;

  constructor(deps: RespServerDeps) {
    this.deps = deps;
    this.connectionsMax = deps.connectionsMax ?? RESP_CONNECTIONS_MAX;
    this.startedAtMs = deps.backend.now();
    const limits = respLimits(deps.maxValueBytes);
    this.metrics = new RespMetrics(deps.registry, () => this.sessions.size);
    this.dispatcher = new RespDispatcher({
      backend: deps.backend,
      limits,
      authToken: deps.authToken,
      stats: () => this.stats(),
      events: {
        internalError: (command, error) => deps.logger.error('resp command failed', { command, err: error }),
      },
    });
    this.server = net.createServer((socket) => this.accept(socket, limits));
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        this.port = typeof address === 'object' && address !== null ? address.port : port;
        resolve(this.port);
      });
    });
  }

  /**
   * Stops: accepts no connection, reads no more commands, lets the commands in flight finish and their replies go
   * out (at most `graceMs`), then closes every connection.
   */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [socket, session] of this.sessions) {
      socket.pause();
      session.stopReading();
    }
    const deadline = Date.now() + graceMs;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        for (const [socket, session] of this.sessions) if (session.unanswered === 0 && socket.writableLength === 0) socket.destroy();
        if (this.sessions.size === 0 || Date.now() >= deadline) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(check, STOP_POLL_INTERVAL_MS);
      timer.unref();
      check();
    });
    for (const socket of this.sessions.keys()) socket.destroy();
    await closed;
  }

  private stats(): RespServerStats {
    return {
      port: this.port,
      startedAtMs: this.startedAtMs,
      connectedClients: this.sessions.size,
      totalConnections: this.totalConnections,
      rejectedConnections: this.rejectedConnections,
      connectionsMax: this.connectionsMax,
    };
  }

  private accept(socket: net.Socket, limits: ReturnType<typeof respLimits>): void {
    socket.on('error', (error) => this.deps.logger.debug('resp connection error', { err: error }));
    if (this.stopping || this.sessions.size >= this.connectionsMax) {
      this.rejectedConnections++;
      this.metrics.connectionRejected();
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    this.totalConnections++;
    socket.setNoDelay(true);
    const state = new ConnectionState(this.nextId++, `${socket.remoteAddress}:${socket.remotePort}`, this.dispatcher.authRequired);
    const session = new RespSession({
      dispatcher: this.dispatcher,
      state,
      limits,
      clockMs: () => performance.now(),
      io: {
        write: (bytes) => {
          if (!socket.destroyed) socket.write(bytes);
        },
        get pendingOutputBytes() {
          return socket.writableLength;
        },
        pauseInput: () => socket.pause(),
        resumeInput: () => {
          if (!this.stopping) socket.resume();
        },
        end: () => socket.end(),
      },
      onCommand: (record) => {
        this.metrics.observe(record.command, record.status, record.seconds);
        if (record.status === 'tryagain' && record.reply.type === 'error') {
          this.deps.logger.warn('quorum not reached', { protocol: 'resp', command: record.command, reply: record.reply.message });
        }
      },
    });
    this.sessions.set(socket, session);
    if (this.deps.idleTimeoutMs > 0) {
      socket.setTimeout(this.deps.idleTimeoutMs, () => {
        if (session.idle) socket.destroy();
      });
    }
    socket.on('data', (chunk: Buffer) => session.receive(chunk));
    socket.on('drain', () => session.drained());
    socket.on('close', () => {
      session.closed();
      this.sessions.delete(socket);
    });
  }
}

/**
 * Starts the RESP server when `port` is set (after the HTTP server, so both serve the same store), or does nothing.
 * @returns a function that stops it (call it before the data node clients close), and the bound port.
 */
export async function startRespServer(
  port: number | undefined,
  host: string,
  deps: RespServerDeps,
): Promise<{ port: number | undefined; stop: (graceMs: number) => Promise<void> }> {
  if (port === undefined) return { port: undefined, stop: async () => undefined };
  const server = new RespServer(deps);
  const bound = await server.listen(port, host);
  deps.logger.info('resp listening', { host, port: bound, idleTimeoutMs: deps.idleTimeoutMs });
  return { port: bound, stop: (graceMs) => server.close(graceMs) };
}
