import path from 'node:path';
import { repoRoot } from '../cluster/test-cluster';

interface ToolDecision {
  status: 'run' | 'skip' | 'fail';
  message?: string;
}

/**
 * The house rule for tests that need a system tool, as `scripts/lib/require-tool.cjs` implements it for every check:
 * returns true when `name` is on the PATH; otherwise prints one line `skipped: <what> (install <pkg>)` and returns
 * false (the caller skips its tests and passes), except under CI, where a missing tool throws.
 * @param pkg the Debian package that provides it (e.g. `redis-tools` for `redis-cli`).
 * @param what what is skipped, for the line (default `<name> e2e`).
 * @throws Error under CI when the tool is missing.
 */
export function requireTool(name: string, pkg: string, what = `${name} e2e`): boolean {
  // Loaded at run time from the repository: one implementation of the rule for the shell checks and the test suites.
  const { decideTool } = require(path.join(repoRoot(), 'scripts', 'lib', 'require-tool.cjs')) as {
    decideTool(options: { check: string; tool: string; install: string }): ToolDecision;
  };
  const decision = decideTool({ check: what, tool: name, install: pkg });
  if (decision.status === 'run') return true;
  if (decision.status === 'fail') throw new Error(decision.message ?? `${name} is required under CI: install ${pkg}`);
  process.stdout.write(`${decision.message ?? `skipped: ${what} (install ${pkg})`}\n`);
  return false;
}
