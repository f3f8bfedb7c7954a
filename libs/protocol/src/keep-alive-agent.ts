import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type { ClientTlsOptions } from './request-options';

/** Options of {@link createKeepAliveAgent}. */
export interface KeepAliveAgentOptions {
  /** Most concurrent connections to the server; requests beyond it wait for a free socket. */
  maxSockets: number;
  /** Idle time in ms after which a pooled socket is closed. */
  socketIdleMs: number;
  /** For `https:`: the CA to verify the server with and the certificate to present (see `ClientTlsOptions`). */
  tls?: ClientTlsOptions;
}

// Sockets of these agents whose TCP handshake completed. Nothing of a request can reach the server before its socket
// connects, so a request whose socket is not in here was never received, whatever error code ended it.
const connectedSockets = new WeakSet<object>();

/**
 * True when `socket` comes from an agent of {@link createKeepAliveAgent} and emitted `connect` (its TCP handshake
 * completed, for TLS before the handshake of TLS itself): a request that used it may have reached the server. False for
 * any other value, and for a socket that never connected (refused, DNS failure, unreachable, connect timed out).
 */
export function hasConnected(socket: unknown): boolean {
  return typeof socket === 'object' && socket !== null && connectedSockets.has(socket);
}

/**
 * A keep-alive agent for `protocol` (`'http:'` or `'https:'`) with a bounded pool: at most `maxSockets` connections, all
 * kept for reuse (up to `maxSockets` idle ones), most recently used first so idle extras time out. Each socket it opens
 * records whether it connected (see {@link hasConnected}).
 * @throws TypeError when `maxSockets` or `socketIdleMs` is not a positive integer, or the protocol is not HTTP(S).
 */
export function createKeepAliveAgent(protocol: string, options: KeepAliveAgentOptions): http.Agent {
  const { maxSockets, socketIdleMs } = options;
  if (!Number.isSafeInteger(maxSockets) || maxSockets < 1) {
    throw new TypeError(`maxSockets must be a positive integer, got ${maxSockets}`);
  }
  if (!Number.isSafeInteger(socketIdleMs) || socketIdleMs < 1) {
    throw new TypeError(`socketIdleMs must be a positive integer, got ${socketIdleMs}`);
  }
  const agentOptions: http.AgentOptions = {
    keepAlive: true,
    maxSockets,
    maxFreeSockets: maxSockets,
    scheduling: 'lifo',
    timeout: socketIdleMs,
  };
  let agent: http.Agent;
  if (protocol === 'http:') agent = new http.Agent(agentOptions);
  else if (protocol === 'https:') agent = new https.Agent({ ...agentOptions, ...httpsOptions(options.tls) });
  else throw new TypeError(`protocol must be http: or https:, got ${protocol}`);
  trackConnects(agent);
  return agent;
}

// Only what is given: `ca: undefined` would be passed on to Node, which then ignores its default CAs in some versions.
function httpsOptions(tls: ClientTlsOptions | undefined): https.AgentOptions {
  const options: https.AgentOptions = {};
  if (tls === undefined) return options;
  if (tls.ca !== undefined) options.ca = typeof tls.ca === 'string' || tls.ca instanceof Uint8Array ? pem(tls.ca) : tls.ca.map(pem);
  if (tls.cert !== undefined) options.cert = pem(tls.cert);
  if (tls.key !== undefined) options.key = pem(tls.key);
  return options;
}

function pem(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' || Buffer.isBuffer(value) ? value : Buffer.from(value);
}

// Once per socket, not per request: a pooled socket serves many requests, so the hot path pays nothing.
function trackConnects(agent: http.Agent): void {
  const createConnection = agent.createConnection;
  agent.createConnection = function (
    this: http.Agent,
    connectOptions: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = createConnection.call(this, connectOptions, callback);
    if (socket !== null && socket !== undefined) socket.once('connect', () => connectedSockets.add(socket));
    return socket;
  };
}
