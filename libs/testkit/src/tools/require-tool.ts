import { spawnSync } from 'node:child_process';

/**
 * The house rule for tests that need a system tool: when `name` is on the PATH, returns true. When it is not, a run
 * with `CI=true` fails (throws: CI installs every tool, so a missing one is a broken CI), and any other run prints one
 * line, `skipped: <what> (install <pkg>)`, and returns false so that the caller skips its tests and passes.
 * @param pkg the Debian package that provides it (e.g. `redis-tools` for `redis-cli`).
 * @param what what is skipped, for the line (default `<name> e2e`).
 * @throws Error in CI when the tool is missing.
 */
export function requireTool(name: string, pkg: string, what = `${name} e2e`): boolean {
  if (!/^[A-Za-z0-9._+-]+$/.test(name)) throw new TypeError(`not a tool name: ${JSON.stringify(name)}`);
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
  if (found) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is required in CI: install ${pkg} (apt-get install ${pkg})`);
  process.stdout.write(`skipped: ${what} (install ${pkg})\n`);
  return false;
}
