import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ManagedProcess, entryPoint, freePort, repoRoot } from '@kv/testkit';
import { loadCompose } from './compose-file';
import { readDockerfile, type DockerImage } from './compose-dockerfile';
import { containerPort, containers, podTemplate, selects, workloads, type Container, type HttpProbe, type KubeObject } from './kube-manifests';
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

/**
 * Runs the pods of rendered Kubernetes manifests as local processes, the way their containers would run: each
 * container's app bundle (the one its image's Dockerfile copies, found through the image names of docker-compose.yml)
 * with the container's environment (image ENV, then `env:` with field and secret references resolved), its command and
 * arguments, and its HTTP probes. What only exists in a cluster is mapped onto this machine: Service and pod DNS names
 * and ports onto free loopback ports, volumes onto directories, Secrets onto values the test gives.
 *
 * The mapping is strict on purpose, as for compose (compose-local.ts): a URL must name a Service or a pod of a
 * headless Service and a port it serves; a variable must be a setting the app knows; the app's PORT must be a declared
 * container port; data must be on a volume when the root file system is read-only; a secret reference must name a
 * key the Secret has. Each mismatch is a {@link LocalKube.problems} entry, because each would break the pods.
 */

/** The Secrets the test stands in for: by Secret name, by key, the value. */
export type KubeSecrets = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** Probe kinds, in the order the kubelet uses them. */
export const PROBE_KINDS = ['startupProbe', 'readinessProbe', 'livenessProbe'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** Time for every server to pass its readiness probe once all were started. */
const READY_TIMEOUT_MS = 30_000;

/** One pod of a workload (its only container), mapped onto this machine. */
export interface LocalPod {
  readonly name: string;
  readonly workload: KubeObject;
  readonly container: Container;
  readonly labels: Readonly<Record<string, string>>;
  readonly app: AppName;
  readonly image: DockerImage;
  /** The environment its container starts with: image ENV, then `env:` (references resolved). */
  readonly containerEnv: Readonly<Record<string, string>>;
  /** Whether it runs from the start (a Job's pod runs on demand: {@link LocalKube.run}). */
  readonly server: boolean;
  /** Local port of each declared container port. */
  readonly ports: ReadonlyMap<number, number>;
  /** The directory of each mount path. */
  readonly mounts: ReadonlyMap<string, string>;
  readonly nodeOptions: readonly string[];
  readonly appArgs: readonly string[];
}

/**
 * The pods of rendered manifests as local processes: {@link LocalKube.plan} maps them (and lists every problem),
 * {@link LocalKube.up} starts the servers (StatefulSets, then Deployments) and waits for their readiness probes,
 * {@link LocalKube.run} runs a Job's container to its end, {@link LocalKube.down} stops them.
 */
export class LocalKube {
  readonly objects: readonly KubeObject[];
  readonly dir: string;
  readonly namespace: string;
  readonly pods: ReadonlyMap<string, LocalPod>;
  private readonly secrets: KubeSecrets;
  private readonly problemList: string[];
  private readonly processes = new Map<string, ManagedProcess>();

  private constructor(objects: readonly KubeObject[], dir: string, namespace: string, secrets: KubeSecrets, pods: Map<string, LocalPod>, problems: string[]) {
    this.objects = objects;
    this.dir = dir;
    this.namespace = namespace;
    this.secrets = secrets;
    this.pods = pods;
    this.problemList = problems;
  }

  /** Every way the manifests do not fit their images and apps; empty when they fit. */
  get problems(): readonly string[] {
    return this.problemList;
  }

  /**
   * Maps every pod of `objects` (in namespace `namespace`, with `secrets` standing in for the Secrets) onto this
   * machine, with data under `dir`. Never throws for bad manifests: each problem is listed.
   */
  static async plan(objects: readonly KubeObject[], dir: string, namespace: string, secrets: KubeSecrets): Promise<LocalKube> {
    const problems: string[] = [];
    const images = imagesByName();
    const pods = new Map<string, LocalPod>();
    for (const workload of workloads(objects)) {
      try {
        for (const name of podNames(workload)) pods.set(name, await mapPod(workload, name, namespace, secrets, images, dir, problems));
      } catch (error) {
        problems.push(`${workload.kind} ${workload.metadata.name}: ${(error as Error).message}`);
      }
    }
    const local = new LocalKube(objects, dir, namespace, secrets, pods, problems);
    for (const pod of pods.values()) {
      local.localEnv(pod.name, problems);
      local.checkProbes(pod, problems);
    }
    local.problemList.splice(0, local.problemList.length, ...new Set(problems));
    return local;
  }

  /** The pod `name`. @throws TypeError when there is none. */
  pod(name: string): LocalPod {
    const pod = this.pods.get(name);
    if (pod === undefined) throw new TypeError(`no pod ${name} (pods: ${[...this.pods.keys()].join(', ')})`);
    return pod;
  }

  /** The pods of a workload, by its kind and name. */
  podsOf(kind: string, name: string): LocalPod[] {
    return [...this.pods.values()].filter((pod) => pod.workload.kind === kind && pod.workload.metadata.name === name);
  }

  /** The local URL of a pod's container port (by number or name). */
  podUrl(name: string, port: number | string): string {
    const pod = this.pod(name);
    const target = containerPort(pod.container, port);
    const local = target === undefined ? undefined : pod.ports.get(target);
    if (local === undefined) throw new Error(`${name} declares no container port ${port}`);
    return `http://127.0.0.1:${local}`;
  }

  /** The local port of a Service's port (by number or name), as a client in the namespace reaches it. */
  servicePort(service: string, port: number | string): number {
    const problems: string[] = [];
    const mapped = this.resolveService(service, port, `Service ${service}`, problems);
    if (mapped === undefined) throw new Error(problems.join('; '));
    return mapped;
  }

  /** The environment a pod runs with here: its container environment, mapped; problems go to `problems`. */
  localEnv(name: string, problems: string[] = []): Record<string, string> {
    const pod = this.pod(name);
    const settings = appSettings(pod.app);
    const env: Record<string, string> = {};
    // The test's own environment must not leak into the app as settings a container would not have: the callers drop
    // every setting from the inherited environment (see inheritedEnv), so an unset one stays unset (an empty token
    // would be a configuration error).
    for (const [key, value] of Object.entries(pod.containerEnv)) env[key] = this.mapValue(pod, key, value, problems);
    if (pod.server) {
      // Every process here shares one network namespace: each listens on the local port of its container port.
      const listens = Number(pod.containerEnv.PORT ?? settings.defaults.get('PORT'));
      const local = pod.ports.get(listens);
      if (local === undefined) problems.push(`${name}: the app listens on ${listens} (its PORT), which the container does not declare in ports:`);
      else env.PORT = String(local);
      if (settings.variables.has('HOST')) env.HOST = '127.0.0.1';
      if (settings.variables.has('DATA_DIR') && (pod.containerEnv.DATA_DIR ?? '') === '') {
        problems.push(`${name}: DATA_DIR is not set, so the app would write into the container's read-only root file system`);
      }
    }
    if (pod.nodeOptions.length > 0) env.NODE_OPTIONS = [pod.containerEnv.NODE_OPTIONS ?? '', ...pod.nodeOptions].join(' ').trim();
    return env;
  }

  /** Starts every server pod (StatefulSets first, then the others) and waits until every readiness probe answers 200. */
  async up(): Promise<void> {
    if (this.problems.length > 0) throw new Error(`the manifests do not fit their images and apps:\n- ${this.problems.join('\n- ')}`);
    mkdirSync(this.dir, { recursive: true });
    const servers = [...this.pods.values()].filter((pod) => pod.server);
    for (const wave of [servers.filter((pod) => pod.workload.kind === 'StatefulSet'), servers.filter((pod) => pod.workload.kind !== 'StatefulSet')]) {
      const outcomes = await Promise.allSettled(wave.map((pod) => this.start(pod.name)));
      const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
    }
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const pod of servers) {
      for (;;) {
        const result = await this.probe(pod.name, 'readinessProbe');
        if (result === undefined || result.status === 200) break;
        if (result.status === 404) throw new Error(`${pod.name}: its readiness probe ${result.url} answers 404: the app serves no such path`);
        if (Date.now() > deadline) throw new Error(`${pod.name}: its readiness probe ${result.url} still answers ${result.status}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Starts one more pod of a StatefulSet (the next ordinal), as scaling it up does; returns the pod. */
  async scaleUp(statefulSet: string): Promise<LocalPod> {
    const workload = this.objects.find((object) => object.kind === 'StatefulSet' && object.metadata.name === statefulSet);
    if (workload === undefined) throw new Error(`no StatefulSet ${statefulSet}`);
    const name = `${statefulSet}-${this.podsOf('StatefulSet', statefulSet).length}`;
    const problems: string[] = [];
    const pod = await mapPod(workload, name, this.namespace, this.secrets, imagesByName(), this.dir, problems);
    (this.pods as Map<string, LocalPod>).set(name, pod);
    this.localEnv(name, problems);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    await this.start(name);
    return pod;
  }

  /**
   * Runs a pod's HTTP probe once against the running app: the kubelet's GET on the probe's path and port.
   * @returns undefined when the container has no such probe.
   */
  async probe(name: string, kind: ProbeKind): Promise<{ url: string; status: number } | undefined> {
    const pod = this.pod(name);
    const probe: HttpProbe | undefined = pod.container[kind];
    if (probe?.httpGet === undefined) return undefined;
    const url = `${this.podUrl(name, probe.httpGet.port)}${probe.httpGet.path}`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer();
      return { url, status: response.status };
    } catch {
      return { url, status: 0 };
    }
  }

  /**
   * Runs the container of a Job's pod to its end (its args, or `args` instead), as creating the Job does; URLs in the
   * arguments are mapped like those of the environment.
   */
  run(job: string, args?: readonly string[]): Promise<CommandResult> {
    const [pod] = this.podsOf('Job', job);
    if (pod === undefined) throw new Error(`no Job ${job}`);
    const problems: string[] = [];
    const env = { ...inheritedEnv(pod.app), ...this.localEnv(pod.name, problems) };
    // A URL in an argument names a Service or a pod as in the cluster (`cluster add kv-node-3=http://kv-node-3.kv-nodes:8001`).
    const appArgs = (args ?? pod.appArgs).map((arg) => this.mapValue(pod, 'argument', arg, problems));
    if (problems.length > 0) throw new Error(problems.join('; '));
    return runCommand(process.execPath, [...pod.nodeOptions, entryPoint(pod.app), ...appArgs], env, 60_000);
  }

  /** Stops every process still running, the last started first, with SIGTERM; returns each exit code. */
  async down(): Promise<Map<string, number | null>> {
    const codes = new Map<string, number | null>();
    for (const [name, proc] of [...this.processes].reverse()) {
      if (proc.running) codes.set(name, await proc.stop(STOP_GRACE_MS));
    }
    return codes;
  }

  private async start(name: string): Promise<void> {
    const pod = this.pod(name);
    for (const dir of pod.mounts.values()) mkdirSync(dir, { recursive: true });
    const env = this.localEnv(name);
    const script = launcherScript(this.dir, name, pod.app, pod.appArgs);
    const proc = new ManagedProcess({ name, script, env, unset: [...appSettings(pod.app).variables], logFile: path.join(this.dir, `${name}.log`) });
    this.processes.set(name, proc);
    const alive = pod.container.startupProbe ?? pod.container.livenessProbe;
    if (alive?.httpGet === undefined) throw new Error(`${name}: has neither a startup nor a liveness probe`);
    await proc.start(() => waitWhileRunning(proc, `${this.podUrl(name, alive.httpGet?.port ?? '')}${alive.httpGet?.path ?? ''}`));
  }

  /** Each HTTP probe must name a declared container port; a server needs a liveness and a readiness probe. */
  private checkProbes(pod: LocalPod, problems: string[]): void {
    for (const kind of PROBE_KINDS) {
      const probe = pod.container[kind];
      if (probe === undefined) {
        if (pod.server && kind !== 'startupProbe') problems.push(`${pod.name}: has no ${kind}`);
        continue;
      }
      if (probe.httpGet === undefined) problems.push(`${pod.name}: its ${kind} is not an HTTP GET`);
      else if (containerPort(pod.container, probe.httpGet.port) === undefined) {
        problems.push(`${pod.name}: its ${kind} probes port ${probe.httpGet.port}, which the container does not declare`);
      }
    }
  }

  /**
   * Rewrites one variable of a pod for this machine. Problems (a URL to an unknown Service or port, a HOST only
   * reachable inside the pod, data outside a volume) go to `problems`.
   */
  private mapValue(pod: LocalPod, key: string, value: string, problems: string[]): string {
    const where = `${pod.name}: ${key}=${value}`;
    if (key === 'PORT' || key === 'RESP_PORT') {
      const local = pod.ports.get(Number(value));
      if (local === undefined) problems.push(`${where}: the container does not declare port ${value} in ports:`);
      return String(local ?? value);
    }
    if (key === 'HOST' && pod.server) {
      if (!['0.0.0.0', '::', ''].includes(value)) problems.push(`${where}: other pods cannot reach a server that listens on ${value}`);
      return '127.0.0.1';
    }
    if (key === 'DATA_DIR') {
      const mount = [...pod.mounts.keys()]
        .filter((mountPath) => value === mountPath || value.startsWith(`${mountPath.replace(/\/$/, '')}/`))
        .sort((a, b) => b.length - a.length)[0];
      if (mount === undefined) {
        problems.push(`${where}: not on a volume of the pod, so the data would be written to the read-only root file system`);
        return path.join(this.dir, 'unmounted', pod.name);
      }
      return path.join(pod.mounts.get(mount) as string, value.slice(mount.length));
    }
    return value.replace(/\b(https?):\/\/([A-Za-z0-9_.-]+)(?::(\d+))?/g, (url, scheme: string, host: string, port: string | undefined) => {
      const portNumber = port === undefined ? (scheme === 'https' ? 443 : 80) : Number(port);
      const local = this.resolveHost(host, portNumber, `${where}: ${url}`, problems);
      return local === undefined ? url : `${scheme}://127.0.0.1:${local}`;
    });
  }

  /** The local port behind `host:port` as cluster DNS resolves it in the namespace; undefined (and a problem) if none. */
  private resolveHost(host: string, port: number, where: string, problems: string[]): number | undefined {
    let labels = host.replace(/\.svc\.cluster\.local$|\.svc$/, '').split('.');
    if (labels.length > 1 && labels[labels.length - 1] === this.namespace) labels = labels.slice(0, -1);
    if (labels.length === 1) return this.resolveService(labels[0], port, where, problems);
    if (labels.length !== 2) {
      problems.push(`${where}: names neither a Service nor a pod of a headless Service of namespace ${this.namespace}`);
      return undefined;
    }
    const [podHost, serviceName] = labels;
    const service = this.objects.find((object) => object.kind === 'Service' && object.metadata.name === serviceName);
    if (service === undefined || service.spec.clusterIP !== 'None') {
      problems.push(`${where}: ${serviceName} is not a headless Service of the manifests, so ${host} has no DNS record`);
      return undefined;
    }
    const target = [...this.pods.values()].find(
      (pod) => pod.name === podHost && pod.workload.kind === 'StatefulSet' && pod.workload.spec.serviceName === serviceName,
    );
    if (target === undefined || !selects(service.spec.selector, target.labels)) {
      problems.push(`${where}: no running pod ${podHost} of a StatefulSet governed by ${serviceName} (and selected by it)`);
      return undefined;
    }
    const local = target.ports.get(port);
    if (local === undefined) problems.push(`${where}: pod ${podHost} declares no container port ${port}`);
    return local;
  }

  /** The local port behind a Service's port (a load balancer picks the first ready pod here). */
  private resolveService(name: string, port: number | string, where: string, problems: string[]): number | undefined {
    const service = this.objects.find((object) => object.kind === 'Service' && object.metadata.name === name);
    if (service === undefined) {
      problems.push(`${where}: there is no Service ${name} in the manifests`);
      return undefined;
    }
    const servicePort = (service.spec.ports as { name?: string; port: number; targetPort?: number | string }[]).find((p) => p.port === port || p.name === port);
    if (servicePort === undefined) {
      problems.push(`${where}: Service ${name} has no port ${port}`);
      return undefined;
    }
    const backends = [...this.pods.values()].filter((pod) => pod.server && selects(service.spec.selector, pod.labels));
    if (backends.length === 0) {
      problems.push(`${where}: Service ${name} selects no pod of the manifests`);
      return undefined;
    }
    const target = containerPort(backends[0].container, servicePort.targetPort ?? servicePort.port);
    const local = target === undefined ? undefined : backends[0].ports.get(target);
    if (local === undefined) problems.push(`${where}: Service ${name} port ${port} targets ${servicePort.targetPort}, which ${backends[0].name} does not declare`);
    return local;
  }
}

/** The Dockerfile of each image name of docker-compose.yml (`kv-proxy` -> docker/proxy.Dockerfile). */
function imagesByName(): Map<string, string> {
  const images = new Map<string, string>();
  for (const service of loadCompose(path.join(repoRoot(), 'docker-compose.yml')).services.values()) {
    if (service.image !== undefined && service.build !== undefined) images.set(imageName(service.image), service.build.dockerfile);
  }
  return images;
}

/** An image reference without its tag or digest. */
function imageName(reference: string): string {
  return reference.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
}

/** The pods a workload runs: a StatefulSet's by ordinal, a Deployment's under made-up suffixes, a Job's one. */
function podNames(workload: KubeObject): string[] {
  const name = workload.metadata.name;
  const replicas = Number(workload.spec.replicas ?? 1);
  if (workload.kind === 'StatefulSet') return Array.from({ length: replicas }, (_, i) => `${name}-${i}`);
  if (workload.kind === 'Deployment') return Array.from({ length: replicas }, (_, i) => `${name}-5d8f7c9b4-local${i}`);
  if (workload.kind === 'Job') return [`${name}-local`];
  throw new Error(`kind ${workload.kind} is not run by this test`);
}

/** Maps one pod of a workload onto its image and app; adds what does not fit to `problems`. */
async function mapPod(
  workload: KubeObject,
  name: string,
  namespace: string,
  secrets: KubeSecrets,
  images: ReadonlyMap<string, string>,
  dir: string,
  problems: string[],
): Promise<LocalPod> {
  const template = podTemplate(workload);
  const list = containers(workload);
  if (list.length !== 1 || (template.spec.initContainers ?? []).length > 0) throw new Error('runs other than one container; this test runs one per pod');
  const [container] = list;
  const where = `${name} (${container.name})`;
  if (!selects(workload.spec.selector?.matchLabels ?? (workload.kind === 'Job' ? template.metadata.labels : undefined), template.metadata.labels)) {
    problems.push(`${workload.kind} ${workload.metadata.name}: its selector does not select its own pod template's labels`);
  }
  const dockerfile = images.get(imageName(container.image));
  if (dockerfile === undefined) throw new Error(`image ${container.image} is none of docker-compose.yml's images (${[...images.keys()].join(', ')})`);
  const image = readDockerfile(dockerfile);
  const app = image.app as AppName;
  if (!APPS.includes(app)) throw new Error(`${dockerfile} copies ${image.app}, not an app`);
  const settings = appSettings(app);

  const containerEnv: Record<string, string> = { ...image.env };
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from === undefined) {
      // Kubernetes expands $(VAR) with the variables defined before it.
      containerEnv[variable.name] = (variable.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (text, ref: string) => containerEnv[ref] ?? text);
    } else if (from.fieldRef !== undefined) {
      const fields: Record<string, string> = { 'metadata.name': name, 'metadata.namespace': namespace, 'status.podIP': '127.0.0.1' };
      const value = fields[from.fieldRef.fieldPath];
      if (value === undefined) problems.push(`${where}: ${variable.name} refers to field ${from.fieldRef.fieldPath}, which this test does not map`);
      containerEnv[variable.name] = value ?? '';
    } else if (from.secretKeyRef !== undefined) {
      const value = secrets[from.secretKeyRef.name]?.[from.secretKeyRef.key];
      if (value === undefined && from.secretKeyRef.optional !== true) {
        problems.push(`${where}: ${variable.name} refers to key ${from.secretKeyRef.key} of Secret ${from.secretKeyRef.name}, which the documented Secret does not have`);
      }
      if (value !== undefined) containerEnv[variable.name] = value;
    } else {
      problems.push(`${where}: ${variable.name} takes its value from a source this test does not map`);
    }
  }
  for (const variable of Object.keys(containerEnv)) {
    if (!settings.variables.has(variable) && !RUNTIME_VARIABLES.has(variable)) {
      const source = (container.env ?? []).some((entry) => entry.name === variable) ? 'the manifest' : `the ${image.app} image`;
      problems.push(`${where}: ${source} sets ${variable}, which ${app} does not know (${app} --help lists ${[...settings.variables].join(', ')})`);
    }
  }

  // Kubernetes: command replaces the image's ENTRYPOINT (and drops its CMD); args replace CMD.
  const entrypoint = container.command ?? image.entrypoint;
  const cmd = container.args ?? (container.command !== undefined ? [] : image.cmd);
  const argv = [...entrypoint, ...cmd];
  let nodeOptions: string[] = [];
  let appArgs: string[] = [];
  if (argv[0] !== 'node' && argv[0] !== '/usr/local/bin/node') {
    problems.push(`${where}: runs ${JSON.stringify(argv)}, not node: the image's program is node ${image.appScript}`);
  } else {
    let i = 1;
    while (i < argv.length && argv[i].startsWith('-')) i++;
    if (argv[i] === undefined || path.posix.resolve(image.workdir, argv[i]) !== image.appScript) {
      problems.push(`${where}: runs ${JSON.stringify(argv)}, but the image has the ${image.app} bundle at ${image.appScript}`);
    }
    nodeOptions = argv.slice(1, i);
    appArgs = argv.slice(i + 1);
  }

  const ports = new Map<number, number>();
  for (const port of container.ports ?? []) ports.set(port.containerPort, await freePort());
  const volumes = new Map<string, string>();
  for (const volume of template.spec.volumes ?? []) volumes.set(volume.name, path.join(dir, 'volumes', name, volume.name));
  for (const claim of workload.spec.volumeClaimTemplates ?? []) volumes.set(claim.metadata.name, path.join(dir, 'claims', `${claim.metadata.name}-${name}`));
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volumeDir = volumes.get(mount.name);
    if (volumeDir === undefined) problems.push(`${where}: mounts ${mount.name}, which is neither a volume of the pod nor a volumeClaimTemplate`);
    else mounts.set(mount.mountPath, volumeDir);
  }
  return {
    name,
    workload,
    container,
    labels: template.metadata.labels ?? {},
    app,
    image,
    containerEnv,
    server: workload.kind !== 'Job',
    ports,
    mounts,
    nodeOptions,
    appArgs,
  };
}
