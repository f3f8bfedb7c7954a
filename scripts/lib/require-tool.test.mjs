// Tests of the house rule for checks that need a system tool (scripts/lib/require-tool.cjs), through its
// command-line form as check scripts use it, with a PATH that has or lacks a stand-in tool.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const HELPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'require-tool.cjs');
const { decideTool, findTool, isCi } = createRequire(import.meta.url)(HELPER);

let bin;
let empty;
before(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'require-tool-bin-'));
  empty = fs.mkdtempSync(path.join(os.tmpdir(), 'require-tool-empty-'));
  fs.writeFileSync(path.join(bin, 'kv-fake-tool'), '#!/bin/sh\necho "fake tool ran: $*"\nexit "${FAKE_STATUS:-0}"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'kv-not-executable'), 'not a program\n', { mode: 0o644 });
});
after(() => {
  fs.rmSync(bin, { recursive: true, force: true });
  fs.rmSync(empty, { recursive: true, force: true });
});

/** Runs the helper's command-line form with only the given variables (and a PATH). */
function run(env, ...argv) {
  const result = spawnSync(process.execPath, [HELPER, ...argv], { env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const wrap = (tool) => ['fake check', tool, 'fake-package', '--', 'sh', '-c', `${tool} "$@"`, 'sh', 'arg1'];

describe('require-tool.cjs <check> <tool> <package> -- <command>', () => {
  test('runs the command when the tool is on the PATH, and passes its status on', () => {
    const env = { PATH: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin` };
    assert.deepEqual(run(env, ...wrap('kv-fake-tool')), { status: 0, stdout: 'fake tool ran: arg1\n', stderr: '' });
    assert.equal(run({ ...env, FAKE_STATUS: '3' }, ...wrap('kv-fake-tool')).status, 3);
    assert.equal(run({ ...env, CI: 'true', FAKE_STATUS: '3' }, ...wrap('kv-fake-tool')).status, 3);
  });

  test('without the tool and without CI: exactly one line, "skipped: <check> (install <package>)", and exit 0', () => {
    const result = run({ PATH: empty }, ...wrap('kv-fake-tool'));
    assert.deepEqual(result, { status: 0, stdout: 'skipped: fake check (install fake-package)\n', stderr: '' });
    assert.equal(run({ PATH: empty, CI: 'false' }, ...wrap('kv-fake-tool')).status, 0);
  });

  test('without the tool under CI=true: a failure that names the package, never a skip', () => {
    for (const ci of ['true', 'TRUE', '1']) {
      const result = run({ PATH: empty, CI: ci }, ...wrap('kv-fake-tool'));
      assert.equal(result.status, 1);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^failed: fake check: kv-fake-tool is not installed.*\(install fake-package\)\n$/);
    }
  });

  test('a file without the executable bit is not the tool', () => {
    const env = { PATH: bin };
    assert.equal(findTool('kv-not-executable', env), undefined);
    assert.equal(run(env, ...wrap('kv-not-executable')).stdout, 'skipped: fake check (install fake-package)\n');
  });

  test('bad usage exits 2', () => {
    assert.equal(run({ PATH: empty }, 'check', 'tool', 'package').status, 2);
    assert.equal(run({ PATH: empty }, 'check', 'tool', '--', 'true').status, 2);
    assert.equal(run({ PATH: empty }, '', 'tool', 'package', '--', 'true').status, 2);
  });
});

describe('decideTool', () => {
  test('run, skip or fail', () => {
    const need = { check: 'TLS tests', tool: 'kv-fake-tool', install: 'openssl' };
    assert.deepEqual(decideTool(need, { PATH: bin }), { status: 'run', path: path.join(bin, 'kv-fake-tool') });
    assert.deepEqual(decideTool(need, { PATH: empty }), { status: 'skip', message: 'skipped: TLS tests (install openssl)' });
    assert.equal(decideTool(need, { PATH: empty, CI: 'true' }).status, 'fail');
    assert.throws(() => decideTool({ check: 'x', tool: 'y' }, {}), TypeError);
  });

  test('isCi follows CI=true', () => {
    assert.equal(isCi({ CI: 'true' }), true);
    assert.equal(isCi({ CI: 'false' }), false);
    assert.equal(isCi({}), false);
  });
});
