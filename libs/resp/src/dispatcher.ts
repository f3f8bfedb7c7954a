import type { RespBackend } from './backend';
import { arityAllows, commandSpec, type CommandSpec } from './command-table';
import { ReplyRefusal, type CommandContext, type CommandHandler, type RespCounters, type RespServerStats } from './commands/command-context';
import { CONNECTION_COMMANDS } from './commands/connection-commands';
import { KEY_COMMANDS } from './commands/key-commands';
import { SERVER_COMMANDS } from './commands/server-commands';
import type { ConnectionState } from './connection-state';
import { authRequired, errorReplyOf, unknownCommand, wrongArity } from './errors';
import type { RespLimits } from './limits';
import type { Reply } from './reply';

/** What a command of a connection needs before it may run, decided when it is read (see {@link RespDispatcher.plan}). */
export interface CommandPlan {
  /** The command's name for metrics and logs: a known command in lower case, or `unknown`. */
  readonly label: string;
  /** A reply known without running anything (unknown command, wrong arity): sent in turn, nothing waits for it. */
  readonly immediate?: Reply;
  /**
   * True for commands that change the connection's state (AUTH, HELLO, SELECT, CLIENT SETNAME/KV-QUORUM, QUIT): they
   * run after every earlier command of the connection has finished, and every later one runs after them.
   */
  readonly barrier: boolean;
  /** The keys it reads or writes (as received, for ordering only): commands sharing a key run in the order sent. */
  readonly keys: readonly string[];
  readonly spec?: CommandSpec;
  readonly args: readonly Buffer[];
}

/** Hooks for logs; optional. Quorum failures show in the replies (`-TRYAGAIN`), which the session reports. */
export interface DispatcherEvents {
  /** A command failed with an internal error (a bug or an unexpected backend failure); `error` is what was thrown. */
  internalError?: (command: string, error: unknown) => void;
}

/** Options of {@link RespDispatcher}. */
export interface RespDispatcherOptions {
  backend: RespBackend;
  limits: RespLimits;
  /**
   * When set, connections must `AUTH` (or `HELLO ... AUTH`) with it, or with any token of a list (a rotation), before
   * anything but AUTH, HELLO and QUIT.
   */
  authToken?: string | readonly string[];
  /** The server's connection counters, for `INFO`. */
  stats: () => RespServerStats;
  events?: DispatcherEvents;
}

const HANDLERS: Readonly<Record<string, CommandHandler>> = { ...CONNECTION_COMMANDS, ...SERVER_COMMANDS, ...KEY_COMMANDS };
const BARRIERS: ReadonlySet<string> = new Set(['auth', 'hello', 'select', 'quit']);
const CLIENT_BARRIERS: ReadonlySet<string> = new Set(['setname', 'kv-quorum']);
const NO_KEYS: readonly string[] = [];
/** Longest command name looked up (the longest Redis command name is under 32 bytes). */
const NAME_BYTES_MAX = 64;

/**
 * Runs RESP commands against a {@link RespBackend}: the command table, arity checks, authentication, and each
 * command's semantics (see `docs/protocol/resp.md`). One dispatcher serves every connection of a server; each
 * connection brings its {@link ConnectionState}. It does no I/O of its own and never throws for a command: every
 * failure is an error reply (internal errors are reported to {@link DispatcherEvents.internalError}).
 */
export class RespDispatcher {
  private readonly backend: RespBackend;
  private readonly limits: RespLimits;
  private readonly authTokens: readonly string[] | undefined;
  private readonly stats: () => RespServerStats;
  private readonly events: DispatcherEvents;
  /** Counters for `INFO` (Stats). */
  readonly counters: RespCounters = { commandsProcessed: 0, keyspaceHits: 0, keyspaceMisses: 0 };

  constructor(options: RespDispatcherOptions) {
    this.backend = options.backend;
    this.limits = options.limits;
    this.authTokens = typeof options.authToken === 'string' ? [options.authToken] : options.authToken;
    this.stats = options.stats;
    this.events = options.events ?? {};
  }

  /** True when connections start unauthenticated. */
  get authRequired(): boolean {
    return this.authTokens !== undefined;
  }

  /**
   * Looks a command up and decides how it is ordered, without running it. Unknown commands and wrong arities are
   * answered here (Redis checks both before authentication).
   */
  plan(args: readonly Buffer[]): CommandPlan {
    const name = args[0].length > NAME_BYTES_MAX ? '' : args[0].toString('latin1').toLowerCase();
    const spec = commandSpec(name);
    if (spec === undefined || HANDLERS[spec.name] === undefined) {
      return { label: 'unknown', immediate: unknownCommand(args[0].toString('latin1'), args.slice(1)), barrier: false, keys: NO_KEYS, args };
    }
    if (!arityAllows(spec, args.length)) return { label: spec.name, immediate: wrongArity(spec.name), barrier: false, keys: NO_KEYS, args };
    const barrier = BARRIERS.has(spec.name) || (spec.name === 'client' && CLIENT_BARRIERS.has(args[1].toString('latin1').toLowerCase()));
    let keys = NO_KEYS;
    if (spec.step > 0) {
      const last = spec.lastKey < 0 ? args.length + spec.lastKey : Math.min(spec.lastKey, args.length - 1);
      const found: string[] = [];
      for (let i = spec.firstKey; i <= last; i += spec.step) found.push(args[i].toString('latin1'));
      keys = found;
    }
    return { label: spec.name, barrier, keys, spec, args };
  }

  /**
   * Runs a planned command for a connection. Resolves (never rejects) with its reply; synchronous commands answer
   * without a promise.
   */
  run(plan: CommandPlan, state: ConnectionState): Reply | Promise<Reply> {
    this.counters.commandsProcessed++;
    if (plan.immediate !== undefined) return plan.immediate;
    const spec = plan.spec as CommandSpec;
    if (!state.authenticated && !spec.flags.includes('no_auth')) return authRequired;
    const ctx: CommandContext = {
      state,
      backend: this.backend,
      limits: this.limits,
      authTokens: this.authTokens,
      stats: this.stats,
      counters: this.counters,
    };
    try {
      const result = HANDLERS[spec.name](ctx, plan.args as Buffer[]);
      return result instanceof Promise ? result.catch((thrown: unknown) => this.failure(plan.label, thrown)) : result;
    } catch (thrown) {
      return this.failure(plan.label, thrown);
    }
  }

  private failure(command: string, thrown: unknown): Reply {
    if (thrown instanceof ReplyRefusal) return thrown.reply;
    const { reply, kind } = errorReplyOf(thrown);
    if (kind === 'internal') this.events.internalError?.(command, thrown);
    return reply;
  }
}
