import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * A reader of `docker-compose.yml` for the compose-equivalence test: the parts of the Compose Specification that the
 * file uses (services, build, environment, env files, healthchecks, depends_on, ports, volumes, profiles), with the
 * variable interpolation of Compose. Anything it cannot read exactly as Compose would is an error, never a guess: a
 * test that guessed could pass against a file that Compose reads differently.
 */

/** A compose file that cannot be read, or that Compose would read differently than it looks. */
export class ComposeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ComposeError';
  }
}

/** Variables Compose interpolates `${VAR}` with: the shell's environment and the project's `.env`. */
export type Variables = Readonly<Record<string, string>>;

/** A healthcheck, normalized: `test` is `['CMD', ...argv]`, `['CMD-SHELL', command]` or `['NONE']`. */
export interface Healthcheck {
  readonly test: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
}

/** What a service waits for before a dependency counts as ready. */
export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

/** One published port: `[hostIp:][published:]target`. */
export interface PortMapping {
  readonly hostIp?: string;
  readonly published?: number;
  readonly target: number;
}

/** One mount of a service. */
export interface Mount {
  readonly type: 'volume' | 'bind' | 'tmpfs';
  /** The named volume or host path (none for an anonymous volume or tmpfs). */
  readonly source?: string;
  readonly target: string;
}

/** One service, as the compose file declares it (after interpolation and `<<` merges). */
export interface ComposeService {
  readonly name: string;
  readonly profiles: readonly string[];
  /** Absolute paths of the build context and Dockerfile; undefined for a service that only names an image. */
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly image?: string;
  /** `environment:` alone; a variable listed without a value (taken from the shell) is left out. */
  readonly environment: Readonly<Record<string, string>>;
  /** `env_file:` files, absolute, in order (a later file wins). */
  readonly envFiles: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  /** Undefined when the service declares none (the image's applies); `test: ['NONE']` when disabled. */
  readonly healthcheck?: Healthcheck;
  /** Services this one waits for, with their condition. */
  readonly dependsOn: ReadonlyMap<string, DependencyCondition>;
  readonly ports: readonly PortMapping[];
  readonly volumes: readonly Mount[];
  /** The whole declaration, for checks of keys this reader does not model. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A compose file: its directory (the project directory), services and named volumes. */
export interface ComposeProject {
  readonly file: string;
  readonly dir: string;
  readonly services: ReadonlyMap<string, ComposeService>;
  readonly volumes: ReadonlySet<string>;
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const EXPANSION = new RegExp(`\\$(?:(\\$)|\\{([^}]*)\\}|(${NAME}))`, 'g');
const BRACED = new RegExp(`^(${NAME})(?:(:?[-?+])(.*))?$`, 's');

/**
 * Interpolates one value as Compose does: `$$` is a `$`; `${VAR}` and `$VAR`; `${VAR:-default}` (unset or empty) and
 * `${VAR-default}` (unset); `${VAR:?message}`/`${VAR?message}` (an error); `${VAR:+other}`/`${VAR+other}`.
 * @throws ComposeError for a variable without a value or default (Compose would put an empty string and warn: in
 * this file that is a mistake), for `:?` errors, and for syntax Compose v1 and v2 read differently (nesting).
 */
export function interpolate(text: string, variables: Variables, where: string): string {
  if (/\$(?![${A-Za-z_])/.test(text.replace(/\$\$/g, ''))) {
    throw new ComposeError(`${where}: a "$" that is not a variable; write "$$" for a literal "$": ${JSON.stringify(text)}`);
  }
  return text.replace(EXPANSION, (_match, dollar: string | undefined, braced: string | undefined, bare: string | undefined) => {
    if (dollar !== undefined) return '$';
    const expression = braced ?? (bare as string);
    const parts = BRACED.exec(expression);
    if (parts === null) throw new ComposeError(`${where}: cannot read \${${expression}}`);
    const [, name, operator, operand = ''] = parts;
    if (operand.includes('$')) throw new ComposeError(`${where}: nested variables in \${${expression}} (Compose v1 does not read them)`);
    const value = Object.prototype.hasOwnProperty.call(variables, name) ? variables[name] : undefined;
    const present = operator?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
    switch (operator) {
      case undefined:
        if (value === undefined) throw new ComposeError(`${where}: \${${name}} has no value and no default; Compose would use "" and warn`);
        return value;
      case ':-':
      case '-':
        return present ? (value as string) : operand;
      case ':?':
      case '?':
        if (!present) throw new ComposeError(`${where}: ${name} is required: ${operand}`);
        return value as string;
      default:
        return present ? operand : '';
    }
  });
}

/** Interpolates every string value of a parsed YAML tree (keys are not interpolated by Compose). */
function interpolateTree(value: unknown, variables: Variables, where: string): unknown {
  if (typeof value === 'string') return interpolate(value, variables, where);
  if (Array.isArray(value)) return value.map((item, i) => interpolateTree(item, variables, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateTree(item, variables, `${where}.${key}`)]));
  }
  return value;
}

/**
 * Reads an env file the way both Compose v1 and v2 do. Only `KEY=value` lines, blank lines and `#` comments are
 * accepted: quotes, `$` and `export` are read differently by the two (v1 keeps quotes and never interpolates).
 * @throws ComposeError naming the file and line of anything else.
 */
export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ComposeError(`env file ${file} cannot be read: ${(error as Error).message}`);
  }
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const where = `${file}:${index + 1}`;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(trimmed);
    if (match === null) throw new ComposeError(`${where}: not a KEY=value line: ${JSON.stringify(trimmed)}`);
    const [, key, value] = match;
    if (/["'$`]/.test(value) || value !== value.trim()) {
      throw new ComposeError(`${where}: ${key} has quotes, "$" or surrounding blanks, which Compose v1 and v2 read differently`);
    }
    env[key] = value;
  });
  return env;
}

/** Splits a command given as one string into words as Compose does (shell quoting, no expansion). */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\\.|[^\s"'\\]+)|(\s+)/gs;
  let word: string | undefined;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(command)) !== null) {
    if (match[4] !== undefined) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    const part = match[1] !== undefined ? match[1].replace(/\\(.)/gs, '$1') : match[2] ?? match[3].replace(/\\(.)/gs, '$1');
    word = (word ?? '') + part;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Compose durations (`1m30s`, `5s`, `500ms`) in milliseconds. */
export function parseDuration(value: unknown, fallbackMs: number, where: string): number {
  if (value === undefined || value === null) return fallbackMs;
  const text = String(value);
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const pattern = /(\d+(?:\.\d+)?)(us|ms|s|m|h)/gy;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    total += Number(match[1]) * units[match[2]];
    consumed = pattern.lastIndex;
  }
  if (consumed !== text.length || text.length === 0) throw new ComposeError(`${where}: cannot read the duration ${JSON.stringify(text)}`);
  return total;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ComposeError(`${where} must be a mapping`);
  return value as Record<string, unknown>;
}

function asList(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ComposeError(`${where} must be a list`);
  return value;
}

function scalar(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ComposeError(`${where} must be a string, number or boolean, not ${JSON.stringify(value)}`);
}

function readArgv(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return splitCommand(value);
  return asList(value, where).map((item, i) => scalar(item, `${where}[${i}]`));
}

function readEnvironment(value: unknown, where: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (value === undefined || value === null) return env;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const text = scalar(item, `${where}[${i}]`);
      const eq = text.indexOf('=');
      if (eq > 0) env[text.slice(0, eq)] = text.slice(eq + 1);
    });
    return env;
  }
  for (const [key, item] of Object.entries(asRecord(value, where))) {
    if (item !== null && item !== undefined) env[key] = scalar(item, `${where}.${key}`);
  }
  return env;
}

function readHealthcheck(value: unknown, where: string): Healthcheck | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = asRecord(value, where);
  const timing = {
    intervalMs: parseDuration(raw.interval, 30_000, `${where}.interval`),
    timeoutMs: parseDuration(raw.timeout, 30_000, `${where}.timeout`),
    retries: raw.retries === undefined ? 3 : Number(raw.retries),
  };
  if (raw.disable === true) return { test: ['NONE'], ...timing };
  let test: string[];
  if (typeof raw.test === 'string') test = ['CMD-SHELL', raw.test];
  else test = asList(raw.test, `${where}.test`).map((item, i) => scalar(item, `${where}.test[${i}]`));
  if (!['CMD', 'CMD-SHELL', 'NONE'].includes(test[0] ?? '')) {
    throw new ComposeError(`${where}.test must start with CMD, CMD-SHELL or NONE, got ${JSON.stringify(test)}`);
  }
  return { test, ...timing };
}

function readDependsOn(value: unknown, where: string): Map<string, DependencyCondition> {
  const result = new Map<string, DependencyCondition>();
  if (value === undefined || value === null) return result;
  if (Array.isArray(value)) {
    for (const name of value) result.set(scalar(name, where), 'service_started');
    return result;
  }
  for (const [name, spec] of Object.entries(asRecord(value, where))) {
    const condition = spec === null ? 'service_started' : String(asRecord(spec, `${where}.${name}`).condition ?? 'service_started');
    if (condition !== 'service_started' && condition !== 'service_healthy' && condition !== 'service_completed_successfully') {
      throw new ComposeError(`${where}.${name}: unknown condition ${condition}`);
    }
    result.set(name, condition);
  }
  return result;
}

function readPorts(value: unknown, where: string): PortMapping[] {
  return asList(value, where).map((item, i) => {
    const at = `${where}[${i}]`;
    if (item !== null && typeof item === 'object') {
      const raw = asRecord(item, at);
      return {
        target: Number(raw.target),
        published: raw.published === undefined ? undefined : Number(raw.published),
        hostIp: raw.host_ip === undefined ? undefined : String(raw.host_ip),
      };
    }
    const text = scalar(item, at).replace(/\/(tcp|udp)$/, '');
    const parts = text.split(':');
    if (parts.length > 3 || parts.some((part, j) => j > 0 && !/^\d+$/.test(part))) throw new ComposeError(`${at}: cannot read port ${text}`);
    const target = Number(parts[parts.length - 1]);
    const published = parts.length >= 2 ? Number(parts[parts.length - 2]) : undefined;
    const hostIp = parts.length === 3 ? parts[0] : undefined;
    return { target, published, hostIp };
  });
}

function readMounts(value: unknown, where: string, volumes: ReadonlySet<string>): Mount[] {
  return asList(value, where).map((item, i) => {
    const at = `${where}[${i}]`;
    if (item !== null && typeof item === 'object') {
      const raw = asRecord(item, at);
      const type = String(raw.type ?? 'volume');
      if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') throw new ComposeError(`${at}: unknown mount type ${type}`);
      return { type, source: raw.source === undefined ? undefined : String(raw.source), target: String(raw.target) };
    }
    const parts = scalar(item, at).split(':');
    if (parts.length === 1) return { type: 'volume', target: parts[0] };
    const [source, target] = parts;
    const isPath = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    if (!isPath && !volumes.has(source)) throw new ComposeError(`${at}: volume ${source} is not declared under the top-level volumes:`);
    return { type: isPath ? 'bind' : 'volume', source, target };
  });
}

/**
 * Reads a compose file with `<<` merge keys, interpolated with `variables`.
 * @throws ComposeError for anything it cannot read as Compose would.
 */
export function loadCompose(file: string, variables: Variables = {}): ComposeProject {
  const dir = path.dirname(path.resolve(file));
  const parsed: unknown = parse(readFileSync(file, 'utf8'), { merge: true });
  const top = asRecord(interpolateTree(parsed, variables, path.basename(file)), path.basename(file));
  for (const key of Object.keys(top)) {
    if (!['services', 'volumes', 'networks', 'configs', 'secrets'].includes(key) && !key.startsWith('x-')) {
      throw new ComposeError(`top-level key "${key}" is not read by this test (docker-compose 1.29 rejects "name"; "version" is obsolete)`);
    }
  }
  const volumes = new Set(Object.keys(top.volumes === undefined || top.volumes === null ? {} : asRecord(top.volumes, 'volumes')));
  const services = new Map<string, ComposeService>();
  for (const [name, value] of Object.entries(asRecord(top.services, 'services'))) {
    const where = `services.${name}`;
    const raw = asRecord(value, where);
    let build: ComposeService['build'];
    if (raw.build !== undefined) {
      const spec = typeof raw.build === 'string' ? { context: raw.build } : asRecord(raw.build, `${where}.build`);
      const context = path.resolve(dir, String(spec.context ?? '.'));
      build = { context, dockerfile: path.resolve(context, String(spec.dockerfile ?? 'Dockerfile')) };
    }
    const envFiles = raw.env_file === undefined ? [] : typeof raw.env_file === 'string' ? [raw.env_file] : asList(raw.env_file, `${where}.env_file`);
    services.set(name, {
      name,
      profiles: asList(raw.profiles, `${where}.profiles`).map((item) => String(item)),
      build,
      image: raw.image === undefined ? undefined : String(raw.image),
      environment: readEnvironment(raw.environment, `${where}.environment`),
      envFiles: envFiles.map((item) => path.resolve(dir, typeof item === 'string' ? item : String(asRecord(item, `${where}.env_file`).path))),
      entrypoint: readArgv(raw.entrypoint, `${where}.entrypoint`),
      command: readArgv(raw.command, `${where}.command`),
      healthcheck: readHealthcheck(raw.healthcheck, `${where}.healthcheck`),
      dependsOn: readDependsOn(raw.depends_on, `${where}.depends_on`),
      ports: readPorts(raw.ports, `${where}.ports`),
      volumes: readMounts(raw.volumes, `${where}.volumes`, volumes),
      raw,
    });
  }
  return { file: path.resolve(file), dir, services, volumes };
}
