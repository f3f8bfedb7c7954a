import { performance } from 'node:perf_hooks';
import { ConnectionState } from '../connection-state';
import { RespDispatcher } from '../dispatcher';
import { respLimits, type RespLimits } from '../limits';
import { RespSession, type CommandRecord } from '../session';
import { MemoryBackend } from './memory-backend';

// redis-parser is an independent RESP2 reply parser (the one node-redis and ioredis used for years): replies written
// here are read back with it, not with code of this library.
 
const Parser = require('redis-parser') as new (options: {
  returnReply: (reply: unknown) => void;
  returnError: (error: Error) => void;
  returnFatalError?: (error: Error) => void;
  returnBuffers?: boolean;
}) => { execute(buffer: Buffer): void };

/** What a RESP2 reply parses to with redis-parser: strings, numbers, null, arrays, and errors as `{ error }`. */
export type Parsed = string | number | null | { error: string } | Parsed[];

/** Parses RESP2 replies with redis-parser. */
export function parseReplies(bytes: Buffer): Parsed[] {
  const out: Parsed[] = [];
  const parser = new Parser({
    returnReply: (r) => out.push(normalize(r)),
    returnError: (e) => out.push({ error: e.message }),
    returnFatalError: (e) => {
      throw e;
    },
  });
  parser.execute(bytes);
  return out;
}

function normalize(r: unknown): Parsed {
  if (Array.isArray(r)) return r.map(normalize);
  if (r instanceof Error) return { error: r.message };
  return r as Parsed;
}

/** Options of {@link SessionHarness}. */
export interface HarnessOptions {
  authToken?: string | readonly string[];
  limits?: Partial<RespLimits>;
  pipelineCommandsMax?: number;
  outputBytesHighWater?: number;
  backend?: MemoryBackend;
}

/** A session over an in-memory connection: send bytes, read what came back, see pauses and the close. */
export class SessionHarness {
  readonly backend: MemoryBackend;
  readonly dispatcher: RespDispatcher;
  readonly state: ConnectionState;
  readonly session: RespSession;
  readonly records: CommandRecord[] = [];
  output: Buffer[] = [];
  /** Bytes the fake client has not taken yet (set by tests to simulate a slow reader). */
  pendingOutputBytes = 0;
  paused = false;
  ended = false;
  events: string[] = [];

  constructor(options: HarnessOptions = {}) {
    this.backend = options.backend ?? new MemoryBackend();
    const limits = { ...respLimits(1024), ...options.limits };
    this.dispatcher = new RespDispatcher({
      backend: this.backend,
      limits,
      authToken: options.authToken,
      stats: () => ({ port: 6379, startedAtMs: this.backend.clockMs - 5000, connectedClients: 1, totalConnections: 1, rejectedConnections: 0, connectionsMax: 10 }),
    });
    this.state = new ConnectionState(7, '127.0.0.1:5000', this.dispatcher.authRequired);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const harness = this;
    const io = {
      write: (bytes: Buffer) => {
        this.output.push(bytes);
      },
      get pendingOutputBytes() {
        return harness.pendingOutputBytes;
      },
      pauseInput: () => {
        this.paused = true;
        this.events.push('pause');
      },
      resumeInput: () => {
        this.paused = false;
        this.events.push('resume');
      },
      end: () => {
        this.ended = true;
        this.events.push('end');
      },
    };
    this.session = new RespSession({
      dispatcher: this.dispatcher,
      state: this.state,
      io,
      limits,
      pipelineCommandsMax: options.pipelineCommandsMax,
      outputBytesHighWater: options.outputBytesHighWater,
      clockMs: () => performance.now(),
      onCommand: (record) => this.records.push(record),
    });
  }

  /** Sends raw bytes. */
  send(bytes: string | Buffer): void {
    this.session.receive(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Sends commands as multibulk frames. */
  command(...commands: (string | Buffer)[][]): void {
    this.send(Buffer.concat(commands.map(encodeCommand)));
  }

  /** Everything written so far, and clears it. */
  take(): Buffer {
    const all = Buffer.concat(this.output);
    this.output = [];
    return all;
  }

  /** Replies written so far (RESP2, parsed by redis-parser), and clears them. */
  replies(): Parsed[] {
    return parseReplies(this.take());
  }

  /** Waits until `n` replies were written (timers and promises run meanwhile). */
  async waitForReplies(n: number, timeoutMs = 2000): Promise<Parsed[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const bytes = Buffer.concat(this.output);
      const parsed = parseReplies(bytes);
      if (parsed.length >= n) {
        this.output = [];
        return parsed;
      }
      if (Date.now() > deadline) throw new Error(`${parsed.length} of ${n} replies within ${timeoutMs} ms: ${JSON.stringify(parsed)}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

/** A command as a client library sends it: a multibulk of bulk strings. */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
