// Tests of the offline schema check of Kubernetes objects (scripts/check-kubernetes-schema.mjs): the repository's
// manifests pass, and copies with one mistake each fail, with the object and the place named.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { objectProblems, readObjects } from './check-kubernetes-schema.mjs';

const SCRIPT = fileURLToPath(new URL('./check-kubernetes-schema.mjs', import.meta.url));
const ROOT = path.resolve(path.dirname(SCRIPT), '..');
const DATANODE = fs.readFileSync(path.join(ROOT, 'deploy/kubernetes/base/datanode.yaml'), 'utf8');

/** The problems of every object of a YAML text. */
async function problems(text) {
  const found = [];
  for (const object of readObjects(text, 'test')) found.push(...(await objectProblems(object)));
  return found;
}

/** The data node manifests with `from` replaced by `to` (which must occur). */
function broken(from, to) {
  assert.ok(DATANODE.includes(from), `datanode.yaml no longer contains ${JSON.stringify(from)}`);
  return DATANODE.replace(from, to);
}

describe('objectProblems', () => {
  test("the repository's data node manifests are valid", async () => {
    assert.deepEqual(await problems(DATANODE), []);
  });

  const mistakes = [
    ['a port as text', 'containerPort: 8001', 'containerPort: "8001"', /^StatefulSet kv-node: \/spec\/template\/spec\/containers\/0\/ports\/0\/containerPort must be integer$/],
    ['a container without a name', '        - name: datanode\n', '        - stdin: true\n', /^StatefulSet kv-node: \/spec\/template\/spec\/containers\/0 must have required property name$/],
    ['a Service type outside the enum', 'clusterIP: None', 'type: Headless', /^Service kv-nodes: \/spec\/type must be equal to one of the allowed values$/],
    ['an object without a name', 'metadata:\n  name: kv-nodes\n', 'metadata:\n', /^Service \(no name\): metadata\.name is required$/],
    ['a kind its apiVersion does not have', 'kind: StatefulSet', 'kind: StatefulSets', /^StatefulSets kv-node: apps\/v1 has no kind StatefulSets$/],
    ['an apiVersion the check does not know', 'apiVersion: apps/v1', 'apiVersion: apps/v2', /^StatefulSet kv-node: apiVersion apps\/v2 is not one this check knows/],
  ];
  for (const [what, from, to, expected] of mistakes) {
    test(`fails on ${what}`, async () => {
      const found = await problems(broken(from, to));
      assert.ok(found.some((line) => expected.test(line)), `expected ${expected} among:\n${found.join('\n')}`);
    });
  }
});

describe('the command line', () => {
  const run = (args, input) => spawnSync(process.execPath, [SCRIPT, ...args], { input, encoding: 'utf8' });

  test('exit 0 and one line per valid file', () => {
    const result = run(['-'], DATANODE);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^standard input: 2 objects valid against the Kubernetes API schemas \(Service, StatefulSet\)\n$/);
  });

  test('exit 1 with the problem for an invalid object', () => {
    const result = run(['-'], broken('containerPort: 8001', 'containerPort: "8001"'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /containerPort must be integer/);
  });

  test('exit 2 for text that is not YAML, a missing file, or no arguments', () => {
    assert.equal(run(['-'], 'a: [b\n').status, 2);
    assert.equal(run([path.join(ROOT, 'no-such-file.yaml')]).status, 2);
    assert.equal(run([]).status, 2);
  });
});
