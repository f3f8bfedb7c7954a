import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A reader of the runtime stage of `docker/<app>.Dockerfile`, for the compose-equivalence test: what a container of
 * the image starts with (environment, entry point, healthcheck, user, volumes, ports, labels) and which app bundle it
 * copies. It reads the instructions those files use; anything else in the runtime stage is an error, not a guess.
 */

/** A Dockerfile this reader cannot read exactly. */
export class DockerfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DockerfileError';
  }
}

/** The image's HEALTHCHECK: `test` as compose writes it (`['CMD', ...argv]`, `['CMD-SHELL', command]`, `['NONE']`). */
export interface ImageHealthcheck {
  readonly test: readonly string[];
  readonly options: Readonly<Record<string, string>>;
}

/** What a container of the image starts with. */
export interface DockerImage {
  readonly file: string;
  /** Every FROM image, in order (stage names resolved to nothing: only external images). */
  readonly baseImages: readonly string[];
  /** The app whose bundle the runtime stage copies (`dist/apps/<app>/main.js`). */
  readonly app: string;
  /** Where the bundle is in the image (`/app/main.js`). */
  readonly appScript: string;
  /** Files the runtime stage copies from other stages, as `<source> -> <destination>`. */
  readonly copies: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** ARG defaults of the runtime stage. */
  readonly args: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly workdir: string;
  readonly user?: string;
  readonly entrypoint: readonly string[];
  /** True when ENTRYPOINT is in exec form (JSON): the process gets signals directly, no shell in between. */
  readonly entrypointExecForm: boolean;
  readonly cmd: readonly string[];
  readonly healthcheck?: ImageHealthcheck;
  readonly expose: readonly number[];
  readonly volumes: readonly string[];
  /** Every RUN command of the runtime stage. */
  readonly runs: readonly string[];
}

interface Instruction {
  readonly keyword: string;
  readonly rest: string;
  readonly line: number;
}

/** Joins continued lines and drops comments and blank lines, as the Dockerfile parser does. */
function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    // Docker skips comment and blank lines, also inside a continued instruction.
    if (line.startsWith('#') || line === '') return;
    if (pending === '') start = index + 1;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      return;
    }
    const whole = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/s.exec(whole) as RegExpExecArray;
    result.push({ keyword: match[1].toUpperCase(), rest: match[2], line: start });
  });
  return result;
}

/** Shell-like words with quotes removed; `$VAR` and `${VAR}` replaced from `vars` (Dockerfile environment rules). */
function words(text: string, vars: Readonly<Record<string, string>>): string[] {
  const result: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|((?:\\.|[^\s"'\\])+)|(\s+)/gs;
  let word: string | undefined;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    if (match[4] !== undefined) {
      if (word !== undefined) result.push(word);
      word = undefined;
      continue;
    }
    const part = match[2] !== undefined ? match[2] : substitute((match[1] ?? match[3]).replace(/\\(.)/gs, '$1'), vars);
    word = (word ?? '') + part;
  }
  if (word !== undefined) result.push(word);
  return result;
}

function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    return vars[braced ?? (bare as string)] ?? '';
  });
}

/** `KEY=value KEY2="v 2"` (or the old `KEY value`) of ENV, LABEL and ARG. */
function pairs(rest: string, vars: Readonly<Record<string, string>>, where: string): Array<[string, string]> {
  const list = words(rest, vars);
  if (list.length === 0) throw new DockerfileError(`${where}: nothing to set`);
  if (!list[0].includes('=')) {
    const legacy = /^(\S+)\s+(.*)$/s.exec(rest.trim());
    if (legacy === null) return [[list[0], '']];
    return [[legacy[1], substitute(legacy[2], vars)]];
  }
  return list.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new DockerfileError(`${where}: ${JSON.stringify(item)} is not KEY=value`);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

/** ENTRYPOINT, CMD and HEALTHCHECK CMD: a JSON array (exec form) or a shell command (run by `/bin/sh -c`). */
function commandForm(rest: string, where: string): { argv: string[]; exec: boolean } {
  const trimmed = rest.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new DockerfileError(`${where}: not valid JSON, so Docker would run it with /bin/sh -c: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed) || parsed.some((item) => typeof item !== 'string')) throw new DockerfileError(`${where}: must be a JSON array of strings`);
    return { argv: parsed as string[], exec: true };
  }
  return { argv: ['/bin/sh', '-c', trimmed], exec: false };
}

/**
 * Reads a Dockerfile's runtime (last) stage.
 * @throws DockerfileError for instructions it cannot read, or when the runtime stage copies no app bundle.
 */
export function readDockerfile(file: string): DockerImage {
  const all = instructions(readFileSync(file, 'utf8'));
  const stageNames = new Set<string>();
  const baseImages: string[] = [];
  let stageStart = -1;
  all.forEach((instruction, index) => {
    if (instruction.keyword !== 'FROM') return;
    const [image, as, name] = instruction.rest.split(/\s+/);
    if (!stageNames.has(image)) baseImages.push(image);
    if (as?.toUpperCase() === 'AS' && name !== undefined) stageNames.add(name);
    stageStart = index;
  });
  if (stageStart < 0) throw new DockerfileError(`${file}: no FROM`);

  const args: Record<string, string> = {};
  const env: Record<string, string> = {};
  const labels: Record<string, string> = {};
  const copies: string[] = [];
  const runs: string[] = [];
  const expose: number[] = [];
  const volumes: string[] = [];
  let workdir = '/';
  let user: string | undefined;
  let entrypoint: string[] = [];
  let entrypointExecForm = false;
  let cmd: string[] = [];
  let healthcheck: ImageHealthcheck | undefined;
  let app: string | undefined;
  let appScript: string | undefined;
  const vars = (): Record<string, string> => ({ ...args, ...env });

  for (const { keyword, rest, line } of all.slice(stageStart + 1)) {
    const where = `${path.basename(file)}:${line} ${keyword}`;
    switch (keyword) {
      case 'ARG':
        for (const [key, value] of pairs(rest, vars(), where)) args[key] = value;
        break;
      case 'ENV':
        for (const [key, value] of pairs(rest, vars(), where)) env[key] = value;
        break;
      case 'LABEL':
        for (const [key, value] of pairs(rest, vars(), where)) labels[key] = value;
        break;
      case 'WORKDIR':
        workdir = path.posix.resolve(workdir, substitute(rest.trim(), vars()));
        break;
      case 'USER':
        user = substitute(rest.trim(), vars());
        break;
      case 'EXPOSE':
        for (const port of words(rest, vars())) expose.push(Number(port.replace(/\/(tcp|udp)$/, '')));
        break;
      case 'VOLUME':
        volumes.push(...(rest.trim().startsWith('[') ? (JSON.parse(rest) as string[]) : words(rest, vars())));
        break;
      case 'RUN':
        runs.push(rest);
        break;
      case 'STOPSIGNAL':
      case 'SHELL':
        break;
      case 'ENTRYPOINT': {
        const form = commandForm(rest, where);
        entrypoint = form.argv;
        entrypointExecForm = form.exec;
        cmd = []; // Docker clears an inherited CMD when ENTRYPOINT is set
        break;
      }
      case 'CMD':
        cmd = commandForm(rest, where).argv;
        break;
      case 'HEALTHCHECK': {
        const match = /^((?:--[a-z-]+=\S+\s+)*)(CMD|NONE)\b\s*(.*)$/is.exec(rest.trim());
        if (match === null) throw new DockerfileError(`${where}: cannot read`);
        const options = Object.fromEntries(words(match[1], {}).map((option) => option.slice(2).split('=') as [string, string]));
        if (match[2].toUpperCase() === 'NONE') {
          healthcheck = { test: ['NONE'], options };
          break;
        }
        const form = commandForm(match[3], where);
        healthcheck = { test: form.exec ? ['CMD', ...form.argv] : ['CMD-SHELL', match[3].trim()], options };
        break;
      }
      case 'COPY': {
        const list = words(rest, vars());
        const flags = list.filter((item) => item.startsWith('--'));
        const paths = list.filter((item) => !item.startsWith('--'));
        const destination = path.posix.resolve(workdir, paths[paths.length - 1]);
        const toDirectory = paths.length > 2 || paths[paths.length - 1].endsWith('/') || /^\.\/?$/.test(paths[paths.length - 1]);
        for (const source of paths.slice(0, -1)) {
          const target = toDirectory ? path.posix.join(destination, path.posix.basename(source)) : destination;
          copies.push(`${flags.join(' ')} ${source} -> ${target}`.trim());
          const bundle = /(?:^|\/)dist\/apps\/([a-z0-9-]+)\/main\.js$/.exec(source);
          if (bundle !== null) {
            app = bundle[1];
            appScript = target;
          }
        }
        break;
      }
      default:
        throw new DockerfileError(`${where}: this reader does not know ${keyword}; teach apps/cluster-e2e/src/support/compose-dockerfile.ts`);
    }
  }
  if (app === undefined || appScript === undefined) {
    throw new DockerfileError(`${file}: the runtime stage copies no app bundle (dist/apps/<app>/main.js)`);
  }
  return {
    file,
    baseImages,
    app,
    appScript,
    copies,
    env,
    args,
    labels,
    workdir,
    user,
    entrypoint,
    entrypointExecForm,
    cmd,
    healthcheck,
    expose,
    volumes,
    runs,
  };
}
