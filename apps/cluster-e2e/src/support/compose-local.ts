import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ManagedProcess, entryPoint, freePort } from '@kv/testkit';
import { readEnvFile, type ComposeProject, type ComposeService, type Healthcheck } from './compose-file';
import { readDockerfile, type DockerImage } from './compose-dockerfile';
import {
  APPS,
  RUNTIME_VARIABLES,
  STOP_GRACE_MS,
  appSettings,
  inheritedEnv,
  launcherScript,
  runCommand,
  waitWhileRunning,
  type AppName,
  type CommandResult,
} from './local-app';

export { appSettings, type AppName, type AppSettings, type CommandResult } from './local-app';

/**
 * Runs the services of a compose file as local processes, the way their containers would run: each service's app
 * bundle (the one its Dockerfile copies) with the service's environment (image ENV, then env files, then
 * `environment:`), its entrypoint and command, and its healthchecks. What only exists inside Docker is mapped onto
 * this machine: service host names and ports onto free loopback ports, volumes onto directories.
 *
 * The mapping is strict on purpose. A URL naming a service must use the port that service listens on; a variable
 * must be a setting the app knows (its `--help`); data must live on a named volume; a healthcheck must pass against
 * the running app. Each mismatch is a {@link LocalCompose.problems} entry, because each would break the containers.
 */

/** Settings this mapping rewrites; setting them by flag in `command:` would bypass it. */
const MAPPED_SETTINGS: ReadonlySet<string> = new Set(['PORT', 'RESP_PORT', 'HOST', 'DATA_DIR', 'NODES']);
/** Pause between attempts of a failing healthcheck (compose waits `interval`; the app already answers here). */
const HEALTHCHECK_RETRY_PAUSE_MS = 200;
/** Longest a healthcheck command may run here, whatever its compose `timeout`. */
const HEALTHCHECK_TIMEOUT_MS_MAX = 10_000;
/** Longest a client command may run. */
const CLIENT_TIMEOUT_MS = 30_000;

/** One service of the compose file, mapped onto this machine. */
export interface LocalService {
  readonly name: string;
  readonly compose: ComposeService;
  readonly image: DockerImage;
  readonly app: AppName;
  /** The environment its container starts with: image ENV, then env files, then `environment:`. */
  readonly containerEnv: Readonly<Record<string, string>>;
  /** Variables the compose file sets on it (env files and `environment:`). */
  readonly composeVariables: ReadonlySet<string>;
  /** Whether `docker compose up` starts it (no profile). */
  readonly up: boolean;
  /** The port it listens on in its container; undefined for the CLI. */
  readonly containerPort?: number;
  /** The loopback port it listens on here. */
  readonly localPort?: number;
  /** The port it serves RESP on in its container (its RESP_PORT), if any. */
  readonly respContainerPort?: number;
  /** The loopback port it serves RESP on here. */
  readonly respLocalPort?: number;
  /** Node.js options before the script in its entrypoint. */
  readonly nodeOptions: readonly string[];
  /** Arguments after the script (entrypoint and command). */
  readonly appArgs: readonly string[];
}

/**
 * The services of a compose project as local processes: {@link LocalCompose.plan} maps them (and lists every
 * problem), {@link LocalCompose.up} starts what `docker compose up` starts in `depends_on` order,
 * {@link LocalCompose.run} runs a one-off command as `docker compose run`, {@link LocalCompose.down} stops them.
 */
export class LocalCompose {
  readonly project: ComposeProject;
  readonly dir: string;
  readonly services: ReadonlyMap<string, LocalService>;
  private readonly problemList: string[];
  /** Started processes, in start order. */
  private readonly processes = new Map<string, ManagedProcess>();

  private constructor(project: ComposeProject, dir: string, services: Map<string, LocalService>, problems: string[]) {
    this.project = project;
    this.dir = dir;
    this.services = services;
    this.problemList = problems;
  }

  /** Every way the compose file does not fit its images and apps; empty when it fits. */
  get problems(): readonly string[] {
    return this.problemList;
  }

  /** Maps every service of `project` onto this machine, with data under `dir`. Never throws for a bad file. */
  static async plan(project: ComposeProject, dir: string): Promise<LocalCompose> {
    const problems: string[] = [];
    const services = new Map<string, LocalService>();
    for (const compose of project.services.values()) {
      // A service that only names an image (Prometheus, Grafana) runs no app of this repository: nothing to map here.
      if (compose.build === undefined && compose.image !== undefined) continue;
      try {
        services.set(compose.name, await mapService(compose, problems));
      } catch (error) {
        problems.push(`${compose.name}: ${(error as Error).message}`);
      }
    }
    const local = new LocalCompose(project, dir, services, problems);
    local.checkLinks();
    local.checkVolumes();
    local.checkHealthchecks();
    return local;
  }

  /** The service `name`. @throws TypeError when there is none. */
  service(name: string): LocalService {
    const service = this.services.get(name);
    if (service === undefined) throw new TypeError(`no service ${name}`);
    return service;
  }

  /** The local port of a port a service publishes (`ports:`), by its port in the container. */
  publishedPort(name: string, containerPort: number): number {
    const service = this.service(name);
    if (!service.compose.ports.some((port) => port.target === containerPort)) throw new Error(`${name} publishes no port ${containerPort}`);
    const local = containerPort === service.respContainerPort ? service.respLocalPort : service.localPort;
    if (local === undefined) throw new Error(`${name} listens on no port ${containerPort}`);
    return local;
  }

  /** The local URL of a port a service publishes (`ports:`), by its port in the container. */
  publishedUrl(name: string, containerPort: number): string {
    const service = this.service(name);
    if (!service.compose.ports.some((port) => port.target === containerPort)) throw new Error(`${name} publishes no port ${containerPort}`);
    return `http://127.0.0.1:${service.localPort}`;
  }

  /** The local URL of a service's own port, as other services reach it on the compose network. */
  internalUrl(name: string): string {
    return `http://127.0.0.1:${this.service(name).localPort}`;
  }

  /** The environment a service runs with here: its container environment, mapped. */
  localEnv(name: string): Record<string, string> {
    const service = this.service(name);
    const settings = appSettings(service.app);
    const env: Record<string, string> = {};
    // The test's own environment must not leak into the app as settings a container would not have: the callers drop
    // every setting from the inherited environment (see inheritedEnv), so an unset one stays unset (an empty token
    // would be a configuration error).
    for (const [key, value] of Object.entries(service.containerEnv)) env[key] = this.mapValue(service, key, value, []);
    // Here every server shares one network namespace: each listens on its own loopback port, even with PORT unset.
    if (service.localPort !== undefined) {
      env.PORT = String(service.localPort);
      if (settings.variables.has('HOST')) env.HOST = '127.0.0.1';
    }
    if (service.nodeOptions.length > 0) env.NODE_OPTIONS = [service.containerEnv.NODE_OPTIONS ?? '', ...service.nodeOptions].join(' ').trim();
    return env;
  }

  /** Starts the services `docker compose up` starts, each after the services it depends on are healthy. */
  async up(): Promise<void> {
    if (this.problems.length > 0) throw new Error(`the compose file does not fit its images and apps:\n- ${this.problems.join('\n- ')}`);
    mkdirSync(this.dir, { recursive: true });
    for (const wave of this.startOrder()) {
      // Every start of a wave settles before a failure is reported, so that down() finds each process it started.
      const outcomes = await Promise.allSettled(wave.map((name) => this.start(name)));
      const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
    }
  }

  /** Stops every process still running, the last started first, with SIGTERM; returns each exit code. */
  async down(): Promise<Map<string, number | null>> {
    const codes = new Map<string, number | null>();
    for (const [name, proc] of [...this.processes].reverse()) {
      if (proc.running) codes.set(name, await proc.stop(STOP_GRACE_MS));
    }
    return codes;
  }

  /** The last lines of a started service's output. */
  tail(name: string, lines = 30): string {
    const file = path.join(this.dir, `${name}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n') : '';
  }

  /** `docker compose run --rm <name> [args]`: the service's entrypoint with `args` instead of its command. */
  run(name: string, args?: readonly string[]): Promise<CommandResult> {
    const service = this.service(name);
    const { nodeOptions, appArgs } = splitArgv(service.compose, service.image, [], args ?? service.compose.command);
    const env = { ...inheritedEnv(service.app), ...this.localEnv(name) };
    return runCommand(process.execPath, [...nodeOptions, entryPoint(service.app), ...appArgs], env, CLIENT_TIMEOUT_MS);
  }

  /**
   * Runs a service's healthcheck here: `compose` is the one compose applies (the service's, else the image's),
   * `image` the Dockerfile's HEALTHCHECK. Retries like Docker (`retries` attempts) but without waiting `interval`.
   * @returns the last attempt's result, or undefined when there is no healthcheck.
   */
  async healthcheck(name: string, kind: 'compose' | 'image'): Promise<(CommandResult & { command: string }) | undefined> {
    const service = this.service(name);
    const check = kind === 'compose' ? (service.compose.healthcheck ?? imageHealthcheck(service.image)) : imageHealthcheck(service.image);
    if (check === undefined || check.test[0] === 'NONE') return undefined;
    const problems: string[] = [];
    const argv = this.healthcheckArgv(service, check, problems);
    if (problems.length > 0) throw new Error(problems.join('; '));
    const env = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, ...this.localEnv(name) };
    const timeoutMs = Math.min(check.timeoutMs, HEALTHCHECK_TIMEOUT_MS_MAX);
    let result: CommandResult = { code: null, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < Math.max(1, check.retries); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, HEALTHCHECK_RETRY_PAUSE_MS));
      result = await runCommand(argv[0], argv.slice(1), env, timeoutMs);
      if (result.code === 0) break;
    }
    return { ...result, command: argv.map((arg) => (/\s/.test(arg) ? JSON.stringify(arg) : arg)).join(' ') };
  }

  private async start(name: string): Promise<void> {
    const service = this.service(name);
    const env = this.localEnv(name);
    if (env.DATA_DIR !== undefined && env.DATA_DIR !== '') mkdirSync(env.DATA_DIR, { recursive: true });
    const script = launcherScript(this.dir, name, service.app, service.appArgs);
    const proc = new ManagedProcess({ name, script, env, unset: [...appSettings(service.app).variables], logFile: path.join(this.dir, `${name}.log`) });
    this.processes.set(name, proc);
    try {
      await proc.start(async () => {
        await waitWhileRunning(proc, `${this.internalUrl(name)}/health`);
        for (const kind of ['compose', 'image'] as const) {
          const result = await this.healthcheck(name, kind);
          if (result !== undefined && result.code !== 0) {
            throw new Error(
              `${name}: its ${kind === 'compose' ? 'compose healthcheck' : 'image HEALTHCHECK'} fails against the running app ` +
                `(exit ${result.code}): ${result.command}\n${result.stdout}${result.stderr}`,
            );
          }
        }
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${this.tail(name)}`);
    }
  }

  /** Services of `docker compose up` in waves: each wave depends only on earlier ones. */
  private startOrder(): string[][] {
    const pending = new Set([...this.services.values()].filter((service) => service.up).map((service) => service.name));
    const done = new Set<string>();
    const waves: string[][] = [];
    while (pending.size > 0) {
      const wave = [...pending].filter((name) => [...this.service(name).compose.dependsOn.keys()].every((dep) => done.has(dep)));
      if (wave.length === 0) throw new Error(`depends_on has a cycle among ${[...pending].join(', ')}`);
      for (const name of wave) {
        pending.delete(name);
        done.add(name);
      }
      waves.push(wave);
    }
    return waves;
  }

  /**
   * Rewrites one variable of a service for this machine. Problems (a URL to an unknown service or port, a HOST
   * only reachable inside the container, data outside a named volume) go to `problems`.
   */
  private mapValue(service: LocalService, key: string, value: string, problems: string[]): string {
    const where = `${service.name}: ${key}=${value}`;
    if (key === 'PORT' && service.localPort !== undefined) return String(service.localPort);
    if (key === 'RESP_PORT' && service.respLocalPort !== undefined) return String(service.respLocalPort);
    if (key === 'HOST' && service.up) {
      if (!['0.0.0.0', '::', ''].includes(value)) problems.push(`${where}: other containers cannot reach a server that listens on ${value}`);
      return '127.0.0.1';
    }
    if (key === 'DATA_DIR' && service.up) return this.mapDataDir(service, value, problems);
    return value.replace(/\b(https?):\/\/([A-Za-z0-9_.-]+)(?::(\d+))?/g, (url, scheme: string, host: string, port: string | undefined) => {
      const target = this.services.get(host);
      const portNumber = port === undefined ? (scheme === 'https' ? 443 : 80) : Number(port);
      if (target === undefined) {
        problems.push(`${where}: ${url} names no service of the compose file (containers reach each other by service name)`);
        return url;
      }
      if (target.containerPort === undefined || !target.up) {
        problems.push(`${where}: ${url} names ${host}, which is not a server started by docker compose up`);
        return url;
      }
      if (portNumber !== target.containerPort) {
        problems.push(`${where}: ${url} uses port ${portNumber}, but ${host} listens on ${target.containerPort} (its PORT)`);
        return url;
      }
      return `${scheme}://127.0.0.1:${target.localPort}`;
    });
  }

  private mapDataDir(service: LocalService, value: string, problems: string[]): string {
    const where = `${service.name}: DATA_DIR=${value}`;
    const mount = [...service.compose.volumes]
      .filter((m) => value === m.target || value.startsWith(`${m.target.replace(/\/$/, '')}/`))
      .sort((a, b) => b.target.length - a.target.length)[0];
    if (mount === undefined || mount.type !== 'volume' || mount.source === undefined) {
      problems.push(`${where}: not on a named volume of the service, so the data would not outlive the container`);
      return path.join(this.dir, 'unmounted', service.name, value);
    }
    return path.join(this.dir, 'volumes', mount.source, value.slice(mount.target.length));
  }

  /** URLs between services: each must name a server and its port, and the service must wait until it is healthy. */
  private checkLinks(): void {
    for (const service of this.services.values()) {
      const problems: string[] = [];
      for (const [key, value] of Object.entries(service.containerEnv)) {
        this.mapValue(service, key, value, problems);
        for (const match of value.matchAll(/\bhttps?:\/\/([A-Za-z0-9_.-]+)/g)) {
          const target = match[1];
          if (this.services.has(target) && service.compose.dependsOn.get(target) !== 'service_healthy') {
            problems.push(`${service.name}: ${key} reaches ${target}, so it must depend on it with condition: service_healthy`);
          }
        }
      }
      if (service.up && (service.containerEnv.DATA_DIR ?? '') === '' && appSettings(service.app).variables.has('DATA_DIR')) {
        problems.push(`${service.name}: DATA_DIR is not set, so the app would write inside the container, not on a volume`);
      }
      for (const port of service.compose.ports) {
        if (port.target !== service.containerPort && port.target !== service.respContainerPort) {
          problems.push(`${service.name}: publishes container port ${port.target}, but the app listens on ${service.containerPort}`);
        }
      }
      this.problemList.push(...new Set(problems));
    }
  }

  /** A named volume holding one server's data must not be mounted by another server. */
  private checkVolumes(): void {
    const owners = new Map<string, string[]>();
    for (const service of this.services.values()) {
      if (!service.up) continue;
      for (const mount of service.compose.volumes) {
        if (mount.type === 'volume' && mount.source !== undefined) owners.set(mount.source, [...(owners.get(mount.source) ?? []), service.name]);
      }
    }
    for (const [volume, names] of owners) {
      if (names.length > 1) this.problemList.push(`volume ${volume} is mounted by ${names.join(' and ')}: two processes would write one data directory`);
    }
  }

  /** Servers need a healthcheck (theirs or the image's) that this machine can run against the mapped port. */
  private checkHealthchecks(): void {
    for (const service of this.services.values()) {
      if (!service.up) continue;
      const check = service.compose.healthcheck ?? imageHealthcheck(service.image);
      if (check === undefined || check.test[0] === 'NONE') {
        this.problemList.push(`${service.name}: has no healthcheck, so depends_on: service_healthy could never be met`);
        continue;
      }
      this.healthcheckArgv(service, check, this.problemList);
      const image = imageHealthcheck(service.image);
      if (image === undefined || image.test[0] === 'NONE') this.problemList.push(`${service.name}: its image has no HEALTHCHECK`);
      else this.healthcheckArgv(service, image, this.problemList);
    }
  }

  /** The healthcheck as a local command: `node` is this Node.js, the container's loopback port the local one. */
  private healthcheckArgv(service: LocalService, check: Healthcheck, problems: string[]): string[] {
    const port = service.containerPort as number;
    const rewrite = (arg: string): string => {
      const mapped = arg.replace(/\b(127\.0\.0\.1|localhost|\[::1\]):(\d+)\b/g, (text, _host: string, literal: string) => {
        if (Number(literal) !== port) {
          problems.push(`${service.name}: its healthcheck probes ${text}, but the app listens on ${port}`);
          return text;
        }
        return `127.0.0.1:${service.localPort}`;
      });
      if (new RegExp(`(?<![\\d.])${port}(?![\\d.])`).test(mapped.replace(`127.0.0.1:${service.localPort}`, ''))) {
        problems.push(`${service.name}: its healthcheck names port ${port} other than as host:port; use the PORT variable`);
      }
      return mapped;
    };
    if (check.test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', rewrite(check.test[1] ?? '')];
    const argv = check.test.slice(1).map(rewrite);
    if (argv[0] === 'node') argv[0] = process.execPath;
    return argv;
  }
}

/** The compose healthcheck shape of an image's HEALTHCHECK (Docker's defaults for unset options). */
function imageHealthcheck(image: DockerImage): Healthcheck | undefined {
  if (image.healthcheck === undefined) return undefined;
  const seconds = (value: string | undefined, fallbackMs: number): number => {
    if (value === undefined) return fallbackMs;
    const match = /^(\d+)(ms|s|m)$/.exec(value);
    return match === null ? fallbackMs : Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[match[2]];
  };
  return {
    test: image.healthcheck.test,
    intervalMs: seconds(image.healthcheck.options.interval, 30_000),
    timeoutMs: seconds(image.healthcheck.options.timeout, 30_000),
    retries: Number(image.healthcheck.options.retries ?? 3),
  };
}

/**
 * Splits what a container runs (`entrypoint` + `command`, Docker's rules) into Node.js options and the app's
 * arguments; a program other than node, or a script other than the image's bundle, is a problem.
 */
function splitArgv(
  compose: ComposeService,
  image: DockerImage,
  problems: string[],
  command: readonly string[] | undefined,
): { nodeOptions: string[]; appArgs: string[] } {
  // Docker: a service's entrypoint replaces the image's and drops the image's CMD; a command replaces CMD.
  const entrypoint = compose.entrypoint ?? image.entrypoint;
  const cmd = compose.entrypoint !== undefined ? (command ?? []) : (command ?? image.cmd);
  const argv = [...entrypoint, ...cmd];
  const shown = JSON.stringify(argv);
  if (argv[0] !== 'node' && argv[0] !== '/usr/local/bin/node') {
    problems.push(`${compose.name}: runs ${shown}, not node: the image's program is node ${image.appScript}`);
    return { nodeOptions: [], appArgs: [] };
  }
  let i = 1;
  while (i < argv.length && argv[i].startsWith('-')) i++;
  const script = argv[i] === undefined ? undefined : path.posix.resolve(image.workdir, argv[i]);
  if (script !== image.appScript) {
    problems.push(`${compose.name}: runs ${shown}, but the image has the ${image.app} bundle at ${image.appScript}`);
  }
  return { nodeOptions: argv.slice(1, i), appArgs: argv.slice(i + 1) };
}

/** Maps one service onto its image and app; adds what does not fit to `problems`. */
async function mapService(compose: ComposeService, problems: string[]): Promise<LocalService> {
  if (compose.build === undefined) throw new Error('has no build: section, so nothing tells which app it runs');
  const match = /^([a-z0-9-]+)\.Dockerfile$/.exec(path.basename(compose.build.dockerfile));
  const app = match?.[1] as AppName | undefined;
  if (app === undefined || !APPS.includes(app)) {
    throw new Error(`builds ${compose.build.dockerfile}; expected docker/<app>.Dockerfile with <app> one of ${APPS.join(', ')}`);
  }
  const image = readDockerfile(compose.build.dockerfile);
  if (image.app !== app) problems.push(`${compose.name}: ${path.basename(compose.build.dockerfile)} copies the ${image.app} bundle, not ${app}'s`);
  const settings = appSettings(app);

  const fromFiles: Record<string, string> = {};
  for (const file of compose.envFiles) Object.assign(fromFiles, readEnvFile(file));
  const containerEnv = { ...image.env, ...fromFiles, ...compose.environment };
  const composeVariables = new Set([...Object.keys(fromFiles), ...Object.keys(compose.environment)]);
  for (const variable of Object.keys(containerEnv)) {
    if (!settings.variables.has(variable) && !RUNTIME_VARIABLES.has(variable)) {
      const source = composeVariables.has(variable) ? 'the compose file' : `the ${image.app} image`;
      problems.push(`${compose.name}: ${source} sets ${variable}, which ${app} does not know (${app} --help lists ${[...settings.variables].join(', ')})`);
    }
  }

  const { nodeOptions, appArgs } = splitArgv(compose, image, problems, compose.command);
  const up = compose.profiles.length === 0;
  if (up) {
    for (const arg of appArgs) {
      const flag = /^--?([a-z0-9-]+)/.exec(arg)?.[1];
      if (flag === undefined) continue;
      const variable = settings.flags.get(flag);
      if (variable === undefined) problems.push(`${compose.name}: its command passes ${arg}, a flag ${app} does not know`);
      else if (MAPPED_SETTINGS.has(variable)) problems.push(`${compose.name}: set ${variable} in environment:, not as ${arg} in command:`);
    }
  }

  let containerPort: number | undefined;
  let localPort: number | undefined;
  if (settings.variables.has('PORT')) {
    const raw = containerEnv.PORT ?? settings.defaults.get('PORT');
    containerPort = Number(raw);
    if (!Number.isInteger(containerPort) || containerPort <= 0) problems.push(`${compose.name}: PORT=${raw} is not a port`);
    if (up) localPort = await freePort();
  }
  let respContainerPort: number | undefined;
  let respLocalPort: number | undefined;
  if (settings.variables.has('RESP_PORT') && (containerEnv.RESP_PORT ?? '') !== '') {
    respContainerPort = Number(containerEnv.RESP_PORT);
    if (!Number.isInteger(respContainerPort) || respContainerPort <= 0) problems.push(`${compose.name}: RESP_PORT=${containerEnv.RESP_PORT} is not a port`);
    if (up) respLocalPort = await freePort();
  }
  return {
    name: compose.name,
    compose,
    image,
    app,
    containerEnv,
    composeVariables,
    up,
    containerPort,
    localPort,
    respContainerPort,
    respLocalPort,
    nodeOptions,
    appArgs,
  };
}

