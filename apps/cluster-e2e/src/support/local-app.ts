import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ManagedProcess, entryPoint, waitForHealth } from '@kv/testkit';

/**
 * What the compose-equivalence and the Kubernetes-equivalence tests share to run a container's app as a local process:
 * the apps and their settings (read from their `--help`), the start and stop bounds, and running a command to its end.
 */

/** The apps with a built entry point. */
export type AppName = 'proxy' | 'datanode' | 'client';
export const APPS: readonly AppName[] = ['proxy', 'datanode', 'client'];
/** Variables of the Node.js runtime rather than of an app; an image or a service may set them. */
export const RUNTIME_VARIABLES: ReadonlySet<string> = new Set(['NODE_ENV', 'NODE_OPTIONS']);
/** Time for an app to answer its own `/health` once started. */
export const START_TIMEOUT_MS = 20_000;
/** Time a server gets to stop after SIGTERM before it is killed (its own bound is 10 s + 5 s). */
export const STOP_GRACE_MS = 16_000;

/** The settings an app knows, read from its `--help`: `--flag  VARIABLE  description (default: x)`. */
export interface AppSettings {
  readonly variables: ReadonlySet<string>;
  /** Defaults the help states, by variable. */
  readonly defaults: ReadonlyMap<string, string>;
  /** Variable of each `--flag` name (without dashes). */
  readonly flags: ReadonlyMap<string, string>;
}

const settingsCache = new Map<AppName, AppSettings>();

/** Runs `node dist/apps/<app>/main.js --help` and reads the settings it lists. @throws when it lists none. */
export function appSettings(app: AppName): AppSettings {
  const cached = settingsCache.get(app);
  if (cached !== undefined) return cached;
  const help = execFileSync(process.execPath, [entryPoint(app), '--help'], { encoding: 'utf8', timeout: 10_000 });
  const variables = new Set<string>();
  const defaults = new Map<string, string>();
  const flags = new Map<string, string>();
  for (const line of help.split('\n')) {
    const match = /^\s+(?:--([a-z0-9-]+)\s+)?([A-Z][A-Z0-9_]*[A-Z0-9])\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [, flag, variable, description] = match;
    variables.add(variable);
    if (flag !== undefined) flags.set(flag, variable);
    const fallback = /\(default: ([^)]*)\)\s*$/.exec(description);
    if (fallback !== null && fallback[1] !== '(derived') defaults.set(variable, fallback[1]);
  }
  if (variables.size === 0) throw new Error(`${app} --help lists no settings; has its format changed?\n${help}`);
  const settings = { variables, defaults, flags };
  settingsCache.set(app, settings);
  return settings;
}

/** A command's outcome. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Polls `url` until it answers 200, for at most {@link START_TIMEOUT_MS}, and gives up as soon as the process exits
 * (its start has failed then, and a poll left running would keep the test process alive).
 */
export async function waitWhileRunning(proc: ManagedProcess, url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (proc.running && Date.now() < deadline) {
    try {
      await waitForHealth(url, 250);
      return;
    } catch {
      // not serving yet
    }
  }
  throw new Error(proc.running ? `${url} not healthy within ${START_TIMEOUT_MS} ms` : `${proc.name} exited while starting`);
}


/** Runs a command to its end (killed after `timeoutMs`), collecting its output. */
export function runCommand(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The script to run `app` with `args` by `node <script>` (which is how {@link ManagedProcess} runs one): the bundle
 * itself without arguments, else a launcher in `dir` that puts them in argv first.
 */
export function launcherScript(dir: string, name: string, app: AppName, args: readonly string[]): string {
  if (args.length === 0) return entryPoint(app);
  const script = path.join(dir, `${name}.launch.cjs`);
  writeFileSync(script, `process.argv.splice(2, 0, ...${JSON.stringify(args)});\nrequire(${JSON.stringify(entryPoint(app))});\n`);
  return script;
}

/**
 * This test process's environment without any setting of `app` (as `--help` lists them): what a local stand-in for a
 * container inherits, so that the test's own settings never leak into it and an unset setting stays unset.
 */
export function inheritedEnv(app: AppName): Record<string, string | undefined> {
  const env = { ...process.env };
  for (const variable of appSettings(app).variables) delete env[variable];
  return env;
}
