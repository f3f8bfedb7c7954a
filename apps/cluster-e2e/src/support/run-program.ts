import { spawn } from 'node:child_process';

/** What a program run by {@link runProgram} did: its exit code (null when a signal ended it) and its output. */
export interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` with `args` and the test's environment plus `env`, no input; resolves with its exit code and output
 * once it exits (asynchronously, so the relays and servers of this process keep running meanwhile).
 */
export function runProgram(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
