// Tests of the npm-only compose check (scripts/check-compose-schema.mjs): the repository's docker-compose.yml passes,
// and copies of it with one mistake each fail, with the mistake named.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkCompose, interpolate, loadCompose } from './check-compose-schema.mjs';

const SCRIPT = fileURLToPath(new URL('./check-compose-schema.mjs', import.meta.url));
const ROOT = path.resolve(path.dirname(SCRIPT), '..');
const COMPOSE = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');

/** The repository's compose file with `from` replaced by `to` (which must occur). */
function broken(from, to) {
  assert.ok(COMPOSE.includes(from), `docker-compose.yml no longer contains ${JSON.stringify(from)}`);
  return COMPOSE.replace(from, to);
}

describe('checkCompose', () => {
  test("the repository's docker-compose.yml follows the Compose Specification", () => {
    assert.deepEqual(checkCompose(COMPOSE, {}), []);
  });

  const mistakes = [
    ['a misspelt service key', '    environment:\n      PORT: "8000"', '    enviroment:\n      PORT: "8000"', /^services\.proxy: additional property "enviroment" is not allowed$/],
    ['a misspelt key in a merged anchor', '  healthcheck:\n', '  healthchek:\n', /^services\.\w+: additional property "healthchek" is not allowed$/],
    ['a misspelt top-level key', '\nvolumes:\n', '\nvolume:\n', /^\(top level\): additional property "volume" is not allowed$/],
    ['a value of the wrong type', 'stop_grace_period: 20s', 'stop_grace_period: [20]', /^services\.\w+\.stop_grace_period: must be string$/],
    ['a condition that does not exist', 'condition: service_healthy', 'condition: service_ready', /^services\.proxy\.depends_on\.node1\.condition: must be one of /],
    ['a required variable', '${KV_ENV_FILE:-docker/kv.env}', '${KV_ENV_FILE:?set it}', /^x-server\.env_file\[0\]: required variable KV_ENV_FILE is missing a value: set it$/],
    ['a duplicate key', '      NODE_ID: node1\n', '      NODE_ID: node1\n      NODE_ID: node9\n', /^not valid YAML: .*[Mm]ap keys must be unique/],
  ];
  for (const [what, from, to, expected] of mistakes) {
    test(`fails on ${what}`, () => {
      const problems = checkCompose(broken(from, to), {});
      assert.ok(problems.length > 0, 'no problem found');
      assert.match(problems[0], expected);
    });
  }
});

describe('interpolate', () => {
  const env = { SET: 'value', EMPTY: '' };
  const cases = [
    ['$$literal', '$literal'],
    ['${SET}/$SET', 'value/value'],
    ['${UNSET}', ''],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET:-${SET}}', 'value'],
    ['${KV_BIND:-127.0.0.1}:${KV_PORT:-8000}:8000', '127.0.0.1:8000:8000'],
  ];
  for (const [text, expected] of cases) {
    test(`${text} -> ${JSON.stringify(expected)}`, () => assert.equal(interpolate(text, env, 'x'), expected));
  }

  test('rejects a required variable that is unset, and a broken reference', () => {
    assert.throws(() => interpolate('${UNSET:?must be set}', env, 'where'), /where: required variable UNSET is missing a value: must be set/);
    assert.throws(() => interpolate('${EMPTY:?}', env, 'where'), /required variable EMPTY/);
    assert.equal(interpolate('${EMPTY?}', env, 'where'), '');
    assert.throws(() => interpolate('${not valid}', env, 'where'), /invalid interpolation format/);
  });

  test('merge keys are resolved before validation', () => {
    const document = loadCompose('x-a: &a\n  image: one\nservices:\n  s:\n    <<: *a\n    init: true\n', {});
    assert.deepEqual(document.services.s, { image: 'one', init: true });
  });
});

describe('the command line', () => {
  test('exit 0 for a valid file, 1 with the problem on stderr for an invalid one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-schema-'));
    try {
      const bad = path.join(dir, 'docker-compose.yml');
      fs.writeFileSync(bad, broken('    environment:\n      PORT: "8000"', '    enviroment:\n      PORT: "8000"'));
      const ok = spawnSync(process.execPath, [SCRIPT, path.join(ROOT, 'docker-compose.yml')], { encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /docker-compose\.yml: valid for the Compose Specification/);
      const failed = spawnSync(process.execPath, [SCRIPT, bad], { encoding: 'utf8' });
      assert.equal(failed.status, 1);
      assert.match(failed.stderr, /services\.proxy: additional property "enviroment" is not allowed/);
      const missing = spawnSync(process.execPath, [SCRIPT, path.join(dir, 'none.yml')], { encoding: 'utf8' });
      assert.equal(missing.status, 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
