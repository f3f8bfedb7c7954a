import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

/** Every child started by this process, so that none outlives it, even when a test fails or is interrupted. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

/** Options of {@link ManagedProcess}. */
export interface ManagedProcessOptions {
  /** A name for logs and errors (`node1`, `proxy`). */
  name: string;
  /** The script run with `node` (a built entry point). */
  script: string;
  /** Environment added to this process's own. */
  env: Record<string, string>;
  /** Variables of this process's own environment the child must not inherit (unless `env` sets them). */
  unset?: readonly string[];
  /** File that receives the child's stdout and stderr. */
  logFile: string;
  /** Options of `node` itself before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not accept). */
  execArgv?: readonly string[];
}

/**
 * One server process of a test cluster: started with `node [execArgv] <script>` and the given environment, its output kept in a
 * log file, stopped or killed on demand, and killed when the test process exits.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly options: ManagedProcessOptions;
  /** Environment overrides for the next start (e.g. a proxy restarted with its clock stepped back). */
  env: Record<string, string>;
  /** Options of `node` for the next start (a benchmark restarts a process with `--cpu-prof`, then without). */
  execArgv: string[];

  constructor(options: ManagedProcessOptions) {
    this.options = options;
    this.env = { ...options.env };
    this.execArgv = [...(options.execArgv ?? [])];
  }

  get name(): string {
    return this.options.name;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  /** Whether the process runs (it may be paused). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process; `ready` should resolve once it serves (e.g. its `/health` answers). */
  async start(ready: () => Promise<void>): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    installExitHook();
    this.log = createWriteStream(this.options.logFile, { flags: 'a' });
    const inherited = { ...process.env };
    for (const variable of this.options.unset ?? []) delete inherited[variable];
    const child = spawn(process.execPath, [...this.execArgv, this.options.script], {
      env: { ...inherited, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    children.add(child);
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        children.delete(child);
        resolve(code);
      });
    });
    const exitedEarly = this.exited.then((code) => {
      throw new Error(`${this.name} exited with code ${code} while starting (see ${this.options.logFile})`);
    });
    await Promise.race([ready(), exitedEarly]);
    exitedEarly.catch(() => undefined);
  }

  /** Sends `signal` and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    if (child === undefined || !this.running) return child?.exitCode ?? null;
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && signal !== 'SIGINT') throw new TypeError(`kill with ${signal}?`);
    child.kill(signal);
    if (signal !== 'SIGKILL') child.kill('SIGCONT'); // a paused process must run to handle its signal
    const code = (await this.exited) ?? null;
    this.log?.end();
    return code;
  }

  /** Stops the process gracefully (SIGTERM), killing it if it does not end within `graceMs`. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    try {
      return await this.kill('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Freezes the process (SIGSTOP): its sockets stay open and nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Resumes a paused process (SIGCONT). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }
}
