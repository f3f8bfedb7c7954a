import type { ConnectionState } from './connection-state';
import type { CommandPlan, RespDispatcher } from './dispatcher';
import { errorPrefixOf } from './errors';
import { RESP_OUTPUT_BYTES_HIGH_WATER, RESP_PIPELINE_COMMANDS_MAX, type RespLimits } from './limits';
import { reply, type Reply } from './reply';
import { RequestParser } from './request-parser';
import { encodeReply } from './writer';

/** The connection as a session sees it: the server implements it over a socket, tests over an array. */
export interface RespConnectionIo {
  /** Queues bytes to send. */
  write(bytes: Buffer): void;
  /** Bytes queued and not yet taken by the client (the socket's `writableLength`). */
  readonly pendingOutputBytes: number;
  /** Stops reading from the client (the socket's `pause`). */
  pauseInput(): void;
  /** Reads from the client again. */
  resumeInput(): void;
  /** Closes the connection once what was queued is sent. */
  end(): void;
}

/** One answered command, for metrics: its name (`unknown` for unknown commands), `ok` or the error prefix, lowercase. */
export interface CommandRecord {
  readonly command: string;
  readonly status: string;
  readonly seconds: number;
  readonly reply: Reply;
}

/** Options of {@link RespSession}. */
export interface RespSessionOptions {
  dispatcher: RespDispatcher;
  state: ConnectionState;
  io: RespConnectionIo;
  limits: RespLimits;
  /** Commands read and not yet answered, at most (default {@link RESP_PIPELINE_COMMANDS_MAX}). */
  pipelineCommandsMax?: number;
  /** Output bytes not taken by the client past which reading stops (default {@link RESP_OUTPUT_BYTES_HIGH_WATER}). */
  outputBytesHighWater?: number;
  /** A monotonic clock in ms (`performance.now`), for latencies. */
  clockMs: () => number;
  /** Called once per answered command. */
  onCommand?: (record: CommandRecord) => void;
}

interface Slot {
  done: boolean;
  bytes: Buffer;
  /** Close the connection once this reply is out (QUIT, a protocol error). */
  last: boolean;
}

/**
 * One RESP connection's protocol logic, apart from its socket: reads requests as bytes arrive, runs them through the
 * dispatcher, and writes the replies **in the order the commands were sent**, whatever order they finish in.
 *
 * Pipelining: commands run as soon as they are read, concurrently, except that commands sharing a key run one after
 * the other in the order sent, and commands that change the connection's state (AUTH, HELLO, SELECT, CLIENT
 * SETNAME/KV-QUORUM, QUIT) wait for every earlier command and hold back every later one.
 *
 * Bounds: at most `pipelineCommandsMax` commands read and not yet answered, and reading stops while more than
 * `outputBytesHighWater` bytes wait for the client; input is paused (`io.pauseInput`) until both are below again.
 * After a protocol error or QUIT, nothing more is read and the connection closes once the replies before are out.
 */
export class RespSession {
  private readonly dispatcher: RespDispatcher;
  private readonly state: ConnectionState;
  private readonly io: RespConnectionIo;
  private readonly parser: RequestParser;
  private readonly pipelineMax: number;
  private readonly highWater: number;
  private readonly clockMs: () => number;
  private readonly onCommand: ((record: CommandRecord) => void) | undefined;
  private queue: Slot[] = [];
  private head = 0;
  private paused = false;
  private pumping = false;
  /** No more requests are read (QUIT or a protocol error was read, or the connection is gone). */
  private ended = false;
  private gone = false;
  private running = new Set<Promise<void>>();
  private barrier: Promise<void> | undefined;
  private lastOfKey = new Map<string, Promise<void>>();

  constructor(options: RespSessionOptions) {
    this.dispatcher = options.dispatcher;
    this.state = options.state;
    this.io = options.io;
    this.parser = new RequestParser(options.limits);
    this.pipelineMax = options.pipelineCommandsMax ?? RESP_PIPELINE_COMMANDS_MAX;
    this.highWater = options.outputBytesHighWater ?? RESP_OUTPUT_BYTES_HIGH_WATER;
    this.clockMs = options.clockMs;
    this.onCommand = options.onCommand;
  }

  /** Commands read and not yet answered. */
  get unanswered(): number {
    return this.queue.length - this.head;
  }

  /** True when nothing is in flight and no request is partly received (the idle timeout may close it). */
  get idle(): boolean {
    return this.unanswered === 0 && this.parser.idle;
  }

  /** Bytes received and not yet read as requests. */
  get bufferedInputBytes(): number {
    return this.parser.bufferedBytes;
  }

  /** Feeds bytes received from the client. */
  receive(chunk: Buffer): void {
    if (this.ended) return;
    this.parser.push(chunk);
    this.pump();
  }

  /** The client took queued output (the socket's `drain`): reading may go on. */
  drained(): void {
    this.pump();
  }

  /**
   * Reads no more commands, including those already received (a server that stops); commands in flight still
   * answer.
   */
  stopReading(): void {
    this.ended = true;
  }

  /** The connection is gone: replies of commands still running are dropped. */
  closed(): void {
    this.ended = true;
    this.gone = true;
    this.state.gone = true;
  }

  private pump(): void {
    if (this.pumping || this.gone) return;
    this.pumping = true;
    try {
      while (!this.ended && this.unanswered < this.pipelineMax && this.io.pendingOutputBytes < this.highWater) {
        const request = this.parser.next();
        if (request === undefined) break;
        if (request.kind === 'protocol-error') {
          this.ended = true;
          this.queue.push({ done: true, bytes: encodeReply(reply.error(`ERR ${request.message}`), this.state.protocol), last: true });
          this.flush();
          break;
        }
        this.start(request.args);
      }
    } finally {
      this.pumping = false;
    }
    const blocked = !this.ended && (this.unanswered >= this.pipelineMax || this.io.pendingOutputBytes >= this.highWater);
    if (blocked && !this.paused) {
      this.paused = true;
      this.io.pauseInput();
    } else if (!blocked && this.paused) {
      this.paused = false;
      this.io.resumeInput();
    }
  }

  private start(args: Buffer[]): void {
    const startedMs = this.clockMs();
    const plan = this.dispatcher.plan(args);
    const slot: Slot = { done: false, bytes: EMPTY, last: false };
    this.queue.push(slot);
    if (plan.label === 'quit' && plan.immediate === undefined) {
      // Redis runs nothing sent after QUIT.
      this.ended = true;
      slot.last = true;
    }
    const waits: Promise<void>[] = [];
    if (plan.immediate === undefined) {
      if (plan.barrier) waits.push(...this.running);
      else {
        if (this.barrier !== undefined) waits.push(this.barrier);
        for (const key of plan.keys) {
          const previous = this.lastOfKey.get(key);
          if (previous !== undefined) waits.push(previous);
        }
      }
    }
    let done: Promise<void>;
    if (waits.length === 0) {
      const result = this.dispatcher.run(plan, this.state);
      if (!(result instanceof Promise)) {
        this.complete(slot, plan, result, startedMs);
        return;
      }
      done = result.then((r) => this.complete(slot, plan, r, startedMs));
    } else {
      done = Promise.all(waits)
        .then(() => this.dispatcher.run(plan, this.state))
        .then((r) => this.complete(slot, plan, r, startedMs));
    }
    this.running.add(done);
    if (plan.barrier) this.barrier = done;
    for (const key of plan.keys) this.lastOfKey.set(key, done);
    void done.finally(() => {
      this.running.delete(done);
      if (this.barrier === done) this.barrier = undefined;
      for (const key of plan.keys) if (this.lastOfKey.get(key) === done) this.lastOfKey.delete(key);
    });
  }

  private complete(slot: Slot, plan: CommandPlan, result: Reply, startedMs: number): void {
    let answer = result;
    try {
      slot.bytes = encodeReply(answer, this.state.protocol);
    } catch {
      answer = reply.error('ERR kv: internal error');
      slot.bytes = encodeReply(answer, this.state.protocol);
    }
    slot.done = true;
    this.onCommand?.({
      command: plan.label,
      status: answer.type === 'error' ? errorPrefixOf(answer.message).toLowerCase() : 'ok',
      seconds: (this.clockMs() - startedMs) / 1000,
      reply: answer,
    });
    this.flush();
    if (!this.pumping) this.pump();
  }

  /** Writes the replies at the head of the queue that are ready, in order. */
  private flush(): void {
    if (this.gone) return;
    while (this.head < this.queue.length && this.queue[this.head].done) {
      const slot = this.queue[this.head++];
      this.io.write(slot.bytes);
      if (slot.last) {
        this.gone = true;
        this.io.end();
        return;
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
