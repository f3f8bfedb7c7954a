import { Readable, Writable } from 'node:stream';
import { run } from '../cli';
import type { CliIo } from '../io';

/** What an in-process run of the CLI did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** The environment; empty by default, so the caller's `KV_SERVER` never leaks into a test. */
  env?: Record<string, string | undefined>;
  /** Standard input, as text or bytes; empty by default. */
  stdin?: string | Buffer;
  /** Pretend stderr is a terminal (to exercise the progress bar). */
  stderrIsTTY?: boolean;
}

/** A writable stream that keeps what is written to it. */
export class TextCollector extends Writable {
  private readonly chunks: Buffer[] = [];
  isTTY?: boolean;
  columns?: number;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    callback();
  }

  /** Everything written so far, as UTF-8. */
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Runs the `kv` command line in-process with captured output. */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<CliRun> {
  const stdout = new TextCollector();
  const stderr = new TextCollector();
  if (options.stderrIsTTY === true) {
    stderr.isTTY = true;
    stderr.columns = 100;
  }
  const input = options.stdin ?? '';
  const io: CliIo = {
    stdout,
    stderr,
    stdin: Readable.from([typeof input === 'string' ? Buffer.from(input, 'utf8') : input]),
    env: options.env ?? {},
  };
  const code = await run(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
