'use strict';
/**
 * The house rule for a check that needs a system tool (docker-compose, redis-cli, openssl, faketime, kubectl,
 * chromium, ...), in one place so that every check applies it the same way:
 *
 * - the check has a path that needs only Node.js and npm, which always runs (for check:docker: the Compose
 *   Specification's JSON schema, dockerfilelint);
 * - the system tool runs as an extra check when it is installed;
 * - when it is not, the extra check prints exactly one line, `skipped: <check> (install <package>)`, and passes;
 * - except under CI (CI=true), where a missing tool is a failure, never a skip: CI installs what its checks need
 *   (.ci/run), so a missing tool there is a broken install step, not a developer's machine.
 *
 * From a shell script, wrap the command that needs the tool:
 *
 *   node scripts/lib/require-tool.cjs "<check>" <tool> <package> -- <command> [args...]
 *
 * It runs the command when <tool> is on the PATH and exits with the command's status; otherwise it prints the skip
 * line and exits 0, or under CI prints why it fails and exits 1. Bad usage exits 2.
 *
 * From Node.js (a script, or a jest suite that skips or fails its tests the same way):
 *
 *   const { decideTool } = require('../lib/require-tool.cjs');
 *   const decision = decideTool({ check: 'TLS tests', tool: 'openssl', install: 'openssl' });
 *   // decision.status: 'run' (decision.path), 'skip' or 'fail' (decision.message: the line to print)
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

/** Exit status of the command-line form on bad usage. */
const EXIT_USAGE = 2;

/**
 * Whether the environment is CI: `CI=true` (also `1` or `yes`, any case), as CI services and .ci/run set it.
 * @param {NodeJS.ProcessEnv} env
 * @returns {boolean}
 */
function isCi(env = process.env) {
  return /^(true|1|yes)$/i.test((env.CI ?? '').trim());
}

/**
 * The absolute path of an executable named `tool` on `env.PATH` (or `tool` itself when it contains a slash), as
 * `command -v` finds it; `undefined` when there is none.
 * @param {string} tool
 * @param {NodeJS.ProcessEnv} env
 * @returns {string | undefined}
 */
function findTool(tool, env = process.env) {
  if (typeof tool !== 'string' || tool === '') throw new TypeError('tool must be a non-empty string');
  const candidates = tool.includes('/')
    ? [path.resolve(tool)]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => path.join(dir, tool));
  for (const candidate of candidates) {
    try {
      if (!fs.statSync(candidate).isFile()) continue;
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not there, or not executable: try the next directory.
    }
  }
  return undefined;
}

/**
 * @typedef {object} ToolNeed
 * @property {string} check    what the extra check is, as people read it: `docker-compose config`
 * @property {string} tool     the executable it needs: `docker-compose`
 * @property {string} install  what to install to get it (a Debian package name): `docker-compose`
 *
 * @typedef {{ status: 'run', path: string }
 *   | { status: 'skip', message: string }
 *   | { status: 'fail', message: string }} ToolDecision
 */

/**
 * What to do about a check that needs a system tool: run it, skip it (one line to print, and pass), or fail (under
 * CI).
 * @param {ToolNeed} need
 * @param {NodeJS.ProcessEnv} env
 * @returns {ToolDecision}
 */
function decideTool(need, env = process.env) {
  for (const field of ['check', 'tool', 'install']) {
    if (typeof need?.[field] !== 'string' || need[field].trim() === '') {
      throw new TypeError(`${field} must be a non-empty string`);
    }
  }
  const found = findTool(need.tool, env);
  if (found !== undefined) return { status: 'run', path: found };
  if (isCi(env)) {
    return {
      status: 'fail',
      message: `failed: ${need.check}: ${need.tool} is not installed, and under CI=true a missing tool fails (install ${need.install})`,
    };
  }
  return { status: 'skip', message: `skipped: ${need.check} (install ${need.install})` };
}

/**
 * The command-line form: `<check> <tool> <package> -- <command> [args...]`.
 * @param {readonly string[]} argv
 * @param {NodeJS.ProcessEnv} env
 * @returns {number} the exit status
 */
function main(argv, env = process.env) {
  const separator = argv.indexOf('--');
  if (separator !== 3 || argv.length < 5) {
    process.stderr.write('usage: require-tool.cjs <check> <tool> <package> -- <command> [args...]\n');
    return EXIT_USAGE;
  }
  const [check, tool, install] = argv;
  let decision;
  try {
    decision = decideTool({ check, tool, install }, env);
  } catch (error) {
    process.stderr.write(`require-tool: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_USAGE;
  }
  if (decision.status === 'skip') {
    process.stdout.write(`${decision.message}\n`);
    return 0;
  }
  if (decision.status === 'fail') {
    process.stderr.write(`${decision.message}\n`);
    return 1;
  }
  const [command, ...args] = argv.slice(separator + 1);
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.error !== undefined) {
    process.stderr.write(`failed: ${check}: cannot run ${command}: ${result.error.message}\n`);
    return 1;
  }
  // A command killed by a signal has no status: that is a failure too.
  return result.status ?? 1;
}

module.exports = { EXIT_USAGE, decideTool, findTool, isCi, main };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
