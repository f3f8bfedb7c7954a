// Validates Kubernetes objects against the Kubernetes API schemas, offline, with nothing but Node.js and npm packages:
// the `kubernetes-models` package (a devDependency) ships the API's OpenAPI schemas as a validate() per kind.
// scripts/check-kubernetes.sh pipes the output of `kubectl kustomize` through it, and validates the plain manifests
// of deploy/kubernetes with it where kubectl is missing.
//
// Usage: node scripts/check-kubernetes-schema.mjs <file.yaml | -> ...   (`-` reads standard input)
//
// Each file holds one or more YAML documents, each one object. Prints one line per valid file; for an invalid one,
// each problem with the object's kind, name and the place in it. Exits 0 when every object is valid, 1 when one is
// not (or is of a kind this check does not know), 2 on bad usage or an unreadable file.
//
// What the schemas catch: wrong types (a port as text), missing required fields (a container without a name),
// values outside an enum (a Service type). What they do not: a misspelt field name, which the API server would drop
// or refuse; apps/cluster-e2e/src/kubernetes.spec.ts asserts the fields that matter.
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

/** The kinds the manifests use, by apiVersion: the module of kubernetes-models with their models. */
const MODULES = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
};

/** A file this check cannot read (not YAML, not there): exit 2. */
export class ManifestFileError extends Error {}

/**
 * The problems of one object, as lines; empty when it is valid.
 * @param {unknown} object
 * @returns {Promise<string[]>}
 */
export async function objectProblems(object) {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return ['not an object'];
  const { apiVersion, kind, metadata } = /** @type {Record<string, any>} */ (object);
  const name = `${kind ?? '(no kind)'} ${metadata?.name ?? '(no name)'}`;
  const module = MODULES[apiVersion];
  if (module === undefined) return [`${name}: apiVersion ${apiVersion} is not one this check knows (${Object.keys(MODULES).join(', ')})`];
  const models = await import(module);
  const Model = models[kind];
  if (typeof Model !== 'function') return [`${name}: ${apiVersion} has no kind ${kind}`];
  const problems = [];
  if (typeof metadata?.name !== 'string' || metadata.name === '') problems.push(`${name}: metadata.name is required`);
  try {
    new Model(object).validate();
  } catch (error) {
    const details = Array.isArray(error?.errors) ? error.errors : [{ instancePath: '', message: error.message }];
    for (const detail of details) problems.push(`${name}: ${detail.instancePath || '/'} ${detail.message}`);
  }
  return problems;
}

/**
 * The objects of a multi-document YAML text (empty documents skipped).
 * @param {string} text
 * @param {string} where  the file's name, for errors
 */
export function readObjects(text, where) {
  const objects = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new ManifestFileError(`${where}: not YAML: ${document.errors[0].message}`);
    const value = document.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

/**
 * @param {readonly string[]} args
 * @returns {Promise<number>} the exit status
 */
export async function main(args) {
  if (args.length === 0) {
    process.stderr.write('usage: check-kubernetes-schema.mjs <file.yaml | -> ...\n');
    return 2;
  }
  let status = 0;
  for (const file of args) {
    const where = file === '-' ? 'standard input' : file;
    let objects;
    try {
      objects = readObjects(fs.readFileSync(file === '-' ? 0 : file, 'utf8'), where);
    } catch (error) {
      process.stderr.write(`check-kubernetes-schema: ${error instanceof ManifestFileError ? error.message : `${where}: ${error.message}`}\n`);
      return 2;
    }
    const problems = [];
    for (const object of objects) problems.push(...(await objectProblems(object)));
    if (objects.length === 0) problems.push('no objects');
    if (problems.length > 0) {
      status = 1;
      process.stderr.write(`${where}: invalid\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`);
    } else {
      const kinds = objects.map((object) => object.kind);
      process.stdout.write(`${where}: ${objects.length} objects valid against the Kubernetes API schemas (${[...new Set(kinds)].join(', ')})\n`);
    }
  }
  return status;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
