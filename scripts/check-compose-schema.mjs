// Validates compose files against the Compose Specification's JSON schema, with nothing but Node.js and npm packages:
// the npm path of check:docker, which runs on every machine (docker-compose `config -q` is an extra where installed).
//
// Usage: node scripts/check-compose-schema.mjs [file.yml ...]   (default: docker-compose.yml)
//
// Reads each file as Compose does before it validates: YAML with merge keys (`<<: *anchor`), then variables
// interpolated from the environment (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR:+alt}`,
// `$VAR`, `$$`), then the schema (scripts/schemas/compose-spec.json, vendored: see scripts/schemas/README.md).
// Prints one line per valid file; for an invalid one the most specific problem (the deepest place, as Compose reports
// it) and a count of the others. Exits 0 when every file is valid, 1 when one is not, 2 on bad usage or an unreadable
// file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA_FILE = path.join(root, 'scripts/schemas/compose-spec.json');

/** A problem with the file itself (not YAML, a variable that must be set); exit 1 like a schema violation. */
export class ComposeFileError extends Error {}

/**
 * Replaces Compose variables in one string, as Compose interpolates every string value of the file.
 * @param {string} text
 * @param {NodeJS.ProcessEnv} env
 * @param {string} where  the value's place in the file, for errors
 */
export function interpolate(text, env, where) {
  const pattern = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\{[^}]*\}?))/g;
  return text.replace(pattern, (_match, dollar, braced, operator, argument, bare, bad) => {
    if (dollar !== undefined) return '$';
    if (bad !== undefined) throw new ComposeFileError(`${where}: invalid interpolation format "$${bad}"`);
    const name = braced ?? bare;
    const value = env[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (operator) {
      case undefined:
        return value ?? '';
      case ':-':
        return nonEmpty ? value : interpolate(argument, env, where);
      case '-':
        return set ? value : interpolate(argument, env, where);
      case ':?':
      case '?':
        if (operator === ':?' ? nonEmpty : set) return value;
        throw new ComposeFileError(`${where}: required variable ${name} is missing a value: ${argument}`);
      case ':+':
        return nonEmpty ? interpolate(argument, env, where) : '';
      case '+':
        return set ? interpolate(argument, env, where) : '';
      default:
        throw new ComposeFileError(`${where}: invalid interpolation format "${operator}"`);
    }
  });
}

function interpolateAll(value, env, where) {
  if (typeof value === 'string') return interpolate(value, env, where);
  if (Array.isArray(value)) return value.map((item, i) => interpolateAll(item, env, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env, where === '' ? key : `${where}.${key}`)]));
  }
  return value;
}

/**
 * Reads a compose file's text the way Compose does before validating it.
 * @throws ComposeFileError when it is not YAML, not a mapping, or names a required variable that is not set.
 */
export function loadCompose(text, env = process.env) {
  let document;
  try {
    // Compose files use YAML 1.1 merge keys; duplicate keys are errors, as in Compose.
    document = parse(text, { merge: true, uniqueKeys: true, maxAliasCount: 1000 });
  } catch (error) {
    throw new ComposeFileError(`not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new ComposeFileError('the top level must be a mapping');
  }
  return interpolateAll(document, env, '');
}

let validator;
function validate(document) {
  if (validator === undefined) {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    validator = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  }
  return validator(document) ? [] : [...validator.errors];
}

function placeOf(error) {
  const parts = error.instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.length === 0 ? '(top level)' : parts.join('.');
}

function describe(error) {
  if (error.keyword === 'additionalProperties') return `additional property "${error.params.additionalProperty}" is not allowed`;
  if (error.keyword === 'enum') return `must be one of ${error.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return error.message ?? error.keyword;
}

/**
 * The problem to show first: the deepest place, an unknown key before any other problem at the same depth (a typo'd
 * key is the usual mistake, and the alternatives of a `oneOf` around it only add noise).
 */
export function mostSpecific(errors) {
  const rank = (error) => error.instancePath.split('/').length + (error.keyword === 'additionalProperties' ? 1 : 0);
  return errors.reduce((best, error) => (rank(error) > rank(best) ? error : best));
}

/**
 * Checks one compose file's text.
 * @returns {string[]} problems, most specific first; empty when valid
 */
export function checkCompose(text, env = process.env) {
  let document;
  try {
    document = loadCompose(text, env);
  } catch (error) {
    if (error instanceof ComposeFileError) return [error.message];
    throw error;
  }
  const errors = validate(document);
  if (errors.length === 0) return [];
  const first = mostSpecific(errors);
  return [`${placeOf(first)}: ${describe(first)}`, ...errors.filter((e) => e !== first).map((e) => `${placeOf(e)}: ${describe(e)}`)];
}

function main(argv) {
  const files = argv.length > 0 ? argv : ['docker-compose.yml'];
  let invalid = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      process.stderr.write(`check-compose-schema: cannot read ${file}: ${error.message}\n`);
      return 2;
    }
    const problems = checkCompose(text);
    if (problems.length === 0) {
      process.stdout.write(`${file}: valid for the Compose Specification (JSON schema)\n`);
      continue;
    }
    invalid += 1;
    const others = problems.length - 1;
    process.stderr.write(`${file}: ${problems[0]}${others > 0 ? ` (and ${others} more schema error(s) around it)` : ''}\n`);
  }
  return invalid === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
