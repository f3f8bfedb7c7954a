import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ManagedProcess } from './managed-process';
import { TcpRelay } from './tcp-relay';

/** The repository root (the directory holding nx.json), found from this file. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (nx.json) above ' + __dirname);
    dir = parent;
  }
  return dir;
}

/** The built entry point of an app (`npm run build` makes them). @throws when it is missing. */
export function entryPoint(app: 'proxy' | 'datanode' | 'client'): string {
  const file = path.join(repoRoot(), 'dist', 'apps', app, 'main.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  return file;
}

/** A free TCP port on 127.0.0.1 (free when asked: bind to it soon). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200, for at most `timeoutMs`. */
export async function waitForHealth(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms (${last})`);
}

/**
 * Polls a proxy's `/cluster` until every node is up and counts toward quorums (none is being refilled), for at most
 * `timeoutMs`. A new cluster's nodes all start with new data directories, which the first proxy refills (from each
 * other, so at once); a test that stops a node before that finished would find another one still refilling.
 */
export async function waitForSettled(url: string, token: string | undefined, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const res = await fetch(`${url}/cluster`, { headers, signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { nodes?: { id: string; status: string; state?: string }[] };
      const nodes = body.nodes ?? [];
      if (res.status === 200 && nodes.length > 0 && nodes.every((node) => node.status === 'up' && node.state !== 'refilling')) return;
      last = `status ${res.status}: ${nodes.map((node) => `${node.id} ${node.status}${node.state === 'refilling' ? ' refilling' : ''}`).join(', ')}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url}/cluster: nodes not all up and counted within ${timeoutMs} ms (${last})`);
}

/**
 * The file that injects disk faults into the process `name` (a node id or a proxy's name) of a cluster started with
 * `diskFaults` in `dir`: while it exists, that process's log fails with the code it holds (`ENOSPC` or `EIO`).
 */
export function diskFaultFile(dir: string, name: string): string {
  return path.join(dir, `${name}.disk-fault`);
}

/** Makes (does not start) a data node of a test cluster, behind its own relay. */
async function makeNode(dir: string, script: string, id: string, options: TestClusterOptions): Promise<TestNode> {
  const port = await freePort();
  const dataDir = path.join(dir, id);
  const relay = new TcpRelay(port);
  await relay.start();
  const proc = new ManagedProcess({
    name: id,
    script,
    logFile: path.join(dir, `${id}.log`),
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ID: id,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ...(options.diskFaults === true ? { TEST_FAULTS: 'true', TEST_DISK_FAULT_FILE: diskFaultFile(dir, id) } : {}),
      ...options.nodeEnv,
    },
  });
  return { id, port, relay, process: proc, dataDir, url: `http://127.0.0.1:${port}` };
}

/** Resolves once `port` on 127.0.0.1 accepts a TCP connection; polls for at most `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
        socket.setTimeout(1000, () => socket.destroy(new Error('connect timeout')));
      });
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`127.0.0.1:${port} not accepting connections within ${timeoutMs} ms (${last})`);
}

/** One data node of a test cluster, reached by the proxy through its relay. */
export interface TestNode {
  readonly id: string;
  /** Port the data node itself listens on. */
  port: number;
  /** The relay the proxy goes through. */
  readonly relay: TcpRelay;
  readonly process: ManagedProcess;
  readonly dataDir: string;
  /** The node's own URL (not through the relay), for the internal API in checks. */
  url: string;
}

/** Attempts to start a process whose free port was taken by another process meanwhile. */
const PORT_ATTEMPTS_MAX = 5;

/**
 * Starts a server process; when it exits while starting because its port was taken meanwhile (only this start's
 * part of its log counts), moves it to another port with `movePort` and tries again.
 */
async function startOnFreePort(proc: ManagedProcess, ready: () => Promise<void>, movePort: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const logBytes = existsSync(proc.logFile) ? statSync(proc.logFile).size : 0;
    try {
      await proc.start(ready);
      return;
    } catch (error) {
      const log = existsSync(proc.logFile) ? readFileSync(proc.logFile).subarray(logBytes).toString('utf8') : '';
      if (attempt >= PORT_ATTEMPTS_MAX || !log.includes('EADDRINUSE')) throw error;
      await movePort();
    }
  }
}

/** Options of {@link TestCluster.start}. */
export interface TestClusterOptions {
  /** Data nodes (default 3). */
  nodes?: number;
  /** Proxies (default 1): each a coordinator of its own (its own `DATA_DIR`, a clock id generated there). */
  proxies?: number;
  /** Environment of every data node (e.g. `WAL_SYNC`, `CLUSTER_TOKEN`). */
  nodeEnv?: Record<string, string>;
  /** Environment of every proxy (e.g. `REPLICAS`, `AUTH_TOKEN`, test-only settings). */
  proxyEnv?: Record<string, string>;
  /** Environment of each proxy in turn, on top of `proxyEnv` (e.g. a clock offset for one of them). */
  proxyEnvs?: readonly Record<string, string>[];

  /** Directory for data and logs (default: a new temp directory, removed by `stop` unless it is told to keep it). */
  dir?: string;
  /**
   * Whether the proxies reach the data nodes through relays (default true). Benchmarks turn them off: a relay copies
   * every byte once more in the test process.
   */
  relays?: boolean;
  /**
   * Whether the proxies also serve RESP, each on a free port (default false): sets `RESP_PORT`, which `proxyEnv` may
   * also set to a port of its own choosing. {@link TestProxy.respPort} tells the port.
   */
  resp?: boolean;
  /**
   * Whether disk faults can be injected while the cluster runs (default false): every data node's log and every
   * proxy's hint log fail while the file {@link diskFaultFile} names for it exists (`TEST_FAULTS`,
   * `TEST_DISK_FAULT_FILE`).
   */
  diskFaults?: boolean;
  /** Whether starting waits until every proxy is ready (`/health/ready`: joined, W nodes reachable); default true. */
  waitReady?: boolean;
}

/** One proxy of a test cluster. */
export class TestProxy {
  constructor(
    readonly name: string,
    readonly process: ManagedProcess,
    public port: number,
    readonly dataDir: string,
  ) {}

  /** Its base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Its RESP port (its `RESP_PORT`), or undefined when it serves no RESP. */
  get respPort(): number | undefined {
    const raw = this.process.env.RESP_PORT;
    return raw === undefined || raw === '' ? undefined : Number(raw);
  }
}

/** Options of starting a proxy. */
export interface StartProxyOptions {
  /** Wait until it is ready (joined, W nodes reachable), not only live (default true). */
  ready?: boolean;
}

/** Time allowed for a proxy to become ready: a lease of the others (a few seconds) plus refills of new nodes. */
const READY_TIMEOUT_MS = 30_000;

/**
 * A kv cluster of real processes for tests: data nodes and proxies from the built entry points, on free loopback
 * ports, each data node behind a {@link TcpRelay} (shared by the proxies) so that links can fail. Every process is
 * stopped by {@link TestCluster.stop} and killed if the test process exits first.
 */
export class TestCluster {
  readonly nodes: TestNode[];
  readonly proxies: TestProxy[];
  readonly dir: string;

  private constructor(
    dir: string,
    nodes: TestNode[],
    proxies: TestProxy[],
    private readonly options: TestClusterOptions,
  ) {
    this.dir = dir;
    this.nodes = nodes;
    this.proxies = proxies;
  }

  /**
   * Starts one more data node (`node<n>`, with the cluster's node environment), outside the cluster's map: what a
   * membership change then adds. Resolves once it is healthy.
   */
  async addNode(id = `node${this.nodes.length + 1}`): Promise<TestNode> {
    if (this.nodes.some((node) => node.id === id)) throw new TypeError(`node ${id} exists`);
    const node = await makeNode(this.dir, entryPoint('datanode'), id, this.options);
    this.nodes.push(node);
    await this.startNode(node);
    return node;
  }

  /** The URL the proxies reach a node at (its relay, unless the cluster runs without relays). */
  nodeUrl(which: string | number): string {
    const node = this.node(which);
    return `http://127.0.0.1:${this.options.relays === false ? node.port : node.relay.port}`;
  }

  /** The first proxy's process. */
  get proxy(): ManagedProcess {
    return this.proxies[0].process;
  }

  /** The first proxy's port. */
  get proxyPort(): number {
    return this.proxies[0].port;
  }

  /** The first proxy's base URL. */
  get proxyUrl(): string {
    return this.proxies[0].url;
  }

  /** Every proxy's base URL. */
  get proxyUrls(): string[] {
    return this.proxies.map((proxy) => proxy.url);
  }

  /** The first proxy's RESP port (its `RESP_PORT`), or undefined when it serves no RESP. */
  get respPort(): number | undefined {
    return this.proxies[0].respPort;
  }

  /**
   * Starts the data nodes, their relays and the proxies, and waits until all are healthy (and, unless `waitReady` is
   * false, the proxies ready and every node counted toward quorums).
   */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'kv-cluster-'));
    mkdirSync(dir, { recursive: true });
    const datanodeScript = entryPoint('datanode');
    const proxyScript = entryPoint('proxy');
    const nodes: TestNode[] = [];
    for (let i = 1; i <= (options.nodes ?? 3); i++) nodes.push(await makeNode(dir, datanodeScript, `node${i}`, options));
    const nodesEnv = nodes.map((node) => `${node.id}=http://127.0.0.1:${options.relays === false ? node.port : node.relay.port}`).join(',');
    const proxies: TestProxy[] = [];
    const count = options.proxies ?? 1;
    for (let i = 0; i < count; i++) {
      const name = count === 1 ? 'proxy' : `proxy${i + 1}`;
      const port = await freePort();
      const respEnv: Record<string, string> = options.resp === true ? { RESP_PORT: String(await freePort()) } : {};
      const dataDir = path.join(dir, name);
      const proc = new ManagedProcess({
        name,
        script: proxyScript,
        logFile: path.join(dir, `${name}.log`),
        env: {
          PORT: String(port),
          HOST: '127.0.0.1',
          NODES: nodesEnv,
          DATA_DIR: dataDir,
          HEALTH_INTERVAL_MS: '200',
          NODE_TIMEOUT_MS: '1000',
          LOG_LEVEL: 'info',
          ...respEnv,
          ...(options.diskFaults === true ? { TEST_FAULTS: 'true', TEST_DISK_FAULT_FILE: diskFaultFile(dir, name) } : {}),
          ...options.proxyEnv,
          ...options.proxyEnvs?.[i],
        },
      });
      proxies.push(new TestProxy(name, proc, port, dataDir));
    }
    const cluster = new TestCluster(dir, nodes, proxies, options);
    try {
      await Promise.all(nodes.map((node) => cluster.startNode(node)));
      await Promise.all(proxies.map((_, i) => cluster.startProxy({}, { ready: options.waitReady ?? true }, i)));
      if (options.waitReady ?? true) {
        const token = options.proxyEnv?.AUTH_TOKEN ?? options.proxyEnvs?.[0]?.AUTH_TOKEN;
        await waitForSettled(proxies[0].url, token, READY_TIMEOUT_MS);
      }
    } catch (error) {
      await cluster.stop({ keepFiles: true });
      throw error;
    }
    return cluster;
  }

  /** The node `id` (`node1`...) or at index `i`. */
  node(which: string | number): TestNode {
    const node = typeof which === 'number' ? this.nodes[which] : this.nodes.find((n) => n.id === which);
    if (node === undefined) throw new TypeError(`no node ${which}`);
    return node;
  }

  /** The proxy at index `i` (default the first) or named `name`. */
  proxyAt(which: number | string = 0): TestProxy {
    const proxy = typeof which === 'number' ? this.proxies[which] : this.proxies.find((p) => p.name === which);
    if (proxy === undefined) throw new TypeError(`no proxy ${which}`);
    return proxy;
  }

  /**
   * Starts a data node (again) and waits for its health. A free port can be taken by another process between the
   * moment it was found and the moment the node binds it: then the node moves to another port (its relay follows).
   */
  async startNode(node: TestNode): Promise<void> {
    await startOnFreePort(
      node.process,
      () => waitForHealth(`${node.url}/health`),
      async () => {
        if (this.proxy.env.NODES !== undefined && !this.proxy.env.NODES.includes(`:${node.relay.port}`)) {
          throw new Error(`${node.id} lost its port and the proxies reach it directly: restart the cluster`);
        }
        node.port = await freePort();
        node.url = `http://127.0.0.1:${node.port}`;
        node.process.env.PORT = String(node.port);
        node.relay.retarget(node.port);
      },
    );
  }

  /** Kills a data node (SIGKILL by default). */
  async killNode(which: string | number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.node(which).process.kill(signal);
  }

  /** Restarts a stopped data node on its port and data directory. */
  async restartNode(which: string | number): Promise<void> {
    const node = this.node(which);
    if (node.process.running) await node.process.kill('SIGKILL');
    await this.startNode(node);
  }

  /** Kills a data node, deletes its data directory (a lost disk) and starts it empty. */
  async wipeNode(which: string | number): Promise<void> {
    const node = this.node(which);
    await node.process.kill('SIGKILL');
    rmSync(node.dataDir, { recursive: true, force: true });
    await this.startNode(node);
  }

  /**
   * Starts a proxy (again), with `env` overriding its environment, and waits for its health, its RESP port when it has
   * one, and (unless told not to) its readiness. A port taken meanwhile moves the proxy to other free ports (HTTP and
   * RESP both: the log does not say which one was taken).
   */
  async startProxy(env: Record<string, string> = {}, options: StartProxyOptions = {}, which: number | string = 0): Promise<void> {
    const proxy = this.proxyAt(which);
    Object.assign(proxy.process.env, env);
    await startOnFreePort(
      proxy.process,
      async () => {
        await waitForHealth(`${proxy.url}/health`);
        const respPort = proxy.respPort;
        if (respPort !== undefined) await waitForPort(respPort);
        if (options.ready !== false) await waitForHealth(`${proxy.url}/health/ready`, READY_TIMEOUT_MS);
      },
      async () => {
        proxy.port = await freePort();
        proxy.process.env.PORT = String(proxy.port);
        if (proxy.respPort !== undefined) proxy.process.env.RESP_PORT = String(await freePort());
      },
    );
  }

  /** Restarts a proxy (SIGTERM, or SIGKILL when `kill`), with `env` overriding its environment. */
  async restartProxy(env: Record<string, string> = {}, kill = false, options: StartProxyOptions = {}, which: number | string = 0): Promise<void> {
    const proxy = this.proxyAt(which);
    if (kill) await proxy.process.kill('SIGKILL');
    else await proxy.process.stop();
    await this.startProxy(env, options, which);
  }

  /** The last `lines` lines of a process's log (for failure reports). */
  tail(name: string, lines = 40): string {
    const file = path.join(this.dir, `${name}.log`);
    if (!existsSync(file)) return '';
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  }

  /**
   * Stops every process (gracefully, then by force) and relay; removes the cluster's directory unless `keepFiles`
   * (keep it when a test failed, to read the logs).
   */
  async stop(options: { keepFiles?: boolean } = {}): Promise<void> {
    const processes = [...this.proxies.map((proxy) => proxy.process), ...this.nodes.map((node) => node.process)];
    for (const proc of processes) proc.resume();
    await Promise.all(processes.map((proc) => proc.stop(5000)));
    await Promise.all(this.nodes.map((node) => node.relay.stop()));
    if (!options.keepFiles) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether test clusters keep their data and logs after the run (`KV_KEEP_CLUSTER=1`), to investigate a failure. */
export function keepClusterFiles(): boolean {
  return process.env.KV_KEEP_CLUSTER === '1';
}
