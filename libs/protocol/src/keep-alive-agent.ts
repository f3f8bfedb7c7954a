import * as http from 'node:http';
import * as https from 'node:https';

/** Options of {@link createKeepAliveAgent}. */
export interface KeepAliveAgentOptions {
  /** Most concurrent connections to the server; requests beyond it wait for a free socket. */
  maxSockets: number;
  /** Idle time in ms after which a pooled socket is closed. */
  socketIdleMs: number;
}

/**
 * A keep-alive agent for `protocol` (`'http:'` or `'https:'`) with a bounded pool: at most `maxSockets` connections, all
 * kept for reuse (up to `maxSockets` idle ones), most recently used first so idle extras time out.
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
  if (protocol === 'http:') return new http.Agent(agentOptions);
  if (protocol === 'https:') return new https.Agent(agentOptions);
  throw new TypeError(`protocol must be http: or https:, got ${protocol}`);
}
