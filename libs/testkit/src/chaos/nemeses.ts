import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { diskFaultFile, type TestCluster } from '../cluster/test-cluster';
import { request } from '../http/request';
import type { Random } from './random';

/**
 * A fault with a start and a heal. `start` picks its victims with the run's generator and returns a description for
 * the run's log; `heal` undoes whatever `start` did (restarting what it killed), and is safe to call after a failed
 * start.
 */
export interface Nemesis {
  readonly name: string;
  start(cluster: TestCluster, random: Random): Promise<string>;
  heal(cluster: TestCluster): Promise<void>;
}

/** Names of the nemeses of {@link nemesisByName}. */
export const NEMESIS_NAMES = [
  'kill-node',
  'kill-all',
  'pause-node',
  'cut-link',
  'cut-two-links',
  'slow-link',
  'reset-link',
  'proxy-clock-back',
  'wipe-node',
  'kill-proxy',
  'kill-all-proxies',
  'pause-proxy',
  'pause-all-proxies',
  'restart-proxy',
  'proxy-clock-skew',
  'change-membership',
  'node-disk-fault',
  'hint-disk-fault',
] as const;
export type NemesisName = (typeof NEMESIS_NAMES)[number];

/** How far back the proxy's clock is stepped by `proxy-clock-back`, at most. */
const CLOCK_STEP_BACK_MS_MAX = 3_600_000;
/** Latency added by `slow-link`, at most: past the proxy's node timeout (1 s) sometimes. */
const SLOW_LINK_MS_MAX = 1500;
/** How far a proxy's clock is set ahead or behind by `proxy-clock-skew`, at most (well within MAX_CLOCK_SKEW_MS). */
export const PROXY_CLOCK_SKEW_MS_MAX = 5000;

/** The clock offset file of a proxy, which its `TEST_CLOCK_OFFSET_FILE` names (the scenario sets it). */
export function clockOffsetFile(cluster: TestCluster, proxyName: string): string {
  return path.join(cluster.dir, `${proxyName}.clock-offset`);
}

/** Starts every proxy that is not running, and resumes paused ones. */
async function restartStoppedProxies(cluster: TestCluster): Promise<void> {
  for (const proxy of cluster.proxies) proxy.process.resume();
  await Promise.all(cluster.proxies.filter((proxy) => !proxy.process.running).map((proxy) => cluster.startProxy({}, {}, proxy.name)));
}

/** kill -9 of one proxy; heal restarts it (its floor and hints are on its disk). */
function killProxy(): Nemesis {
  return {
    name: 'kill-proxy',
    async start(cluster, random) {
      const proxy = random.pick(cluster.proxies);
      await proxy.process.kill('SIGKILL');
      return `kill -9 ${proxy.name}`;
    },
    heal: restartStoppedProxies,
  };
}

/** kill -9 of every proxy at once; heal restarts them. */
function killAllProxies(): Nemesis {
  return {
    name: 'kill-all-proxies',
    async start(cluster) {
      await Promise.all(cluster.proxies.map((proxy) => proxy.process.kill('SIGKILL')));
      return 'kill -9 of every proxy';
    },
    heal: restartStoppedProxies,
  };
}

/** SIGSTOP of one proxy (its sockets stay open; its lease lapses on the nodes); heal sends SIGCONT. */
function pauseProxy(): Nemesis {
  return {
    name: 'pause-proxy',
    async start(cluster, random) {
      const proxy = random.pick(cluster.proxies);
      proxy.process.pause();
      return `SIGSTOP ${proxy.name}`;
    },
    heal: restartStoppedProxies,
  };
}

/** SIGSTOP of every proxy at once (every lease lapses on the nodes); heal sends SIGCONT. */
function pauseAllProxies(): Nemesis {
  return {
    name: 'pause-all-proxies',
    async start(cluster) {
      for (const proxy of cluster.proxies) proxy.process.pause();
      return 'SIGSTOP of every proxy';
    },
    heal: restartStoppedProxies,
  };
}

/** A graceful restart (SIGTERM, then start) of one proxy; nothing to heal. */
function restartProxy(): Nemesis {
  return {
    name: 'restart-proxy',
    async start(cluster, random) {
      const proxy = random.pick(cluster.proxies);
      await cluster.restartProxy({}, false, { ready: false }, proxy.name);
      return `restart ${proxy.name}`;
    },
    heal: restartStoppedProxies,
  };
}

/**
 * Sets every proxy's clock to a random offset within {@link PROXY_CLOCK_SKEW_MS_MAX} either way, while they run
 * (their offset files); one ahead and one behind whenever there are two. Heal leaves the clocks as they are: a later
 * skew steps them again, back or forth.
 */
function proxyClockSkew(): Nemesis {
  return {
    name: 'proxy-clock-skew',
    async start(cluster, random) {
      const offsets = cluster.proxies.map((_, i) => {
        const magnitude = random.between(100, PROXY_CLOCK_SKEW_MS_MAX);
        return i % 2 === 0 ? magnitude : -magnitude;
      });
      cluster.proxies.forEach((proxy, i) => writeFileSync(clockOffsetFile(cluster, proxy.name), `${offsets[i]}\n`));
      return `proxy clocks set to ${cluster.proxies.map((proxy, i) => `${proxy.name} ${offsets[i] > 0 ? '+' : ''}${offsets[i]} ms`).join(', ')}`;
    },
    async heal() {
      // The clocks stay where they are.
    },
  };
}

/** Members a membership change never goes below: N, the replicas per key. */
const MEMBERS_MIN = 3;
/** Data nodes a chaos run starts at most (members, spares and removed ones together): a bound on processes. */
const NODES_MAX = 8;

interface ClusterAnswer {
  epoch: number;
  nodes: { id: string; member?: string }[];
  change: unknown;
}

/**
 * A membership change through a random proxy, left to run in the background while other faults come: with
 * {@link MEMBERS_MIN} members it starts a new node and adds it, with more it removes a random member (which keeps
 * running, outside the map). A change in progress, a refusal or an unreachable proxy is part of the run, not an error.
 * Heal has nothing to undo: the change goes on.
 */
function changeMembership(): Nemesis {
  return {
    name: 'change-membership',
    async start(cluster, random) {
      const running = cluster.proxies.filter((p) => p.process.running);
      if (running.length === 0) return 'membership change skipped: no proxy running';
      const proxy = random.pick(running);
      let current: ClusterAnswer;
      try {
        const res = await request(proxy.url, 'GET', '/cluster', undefined, {}, 5000);
        if (res.status !== 200) return `membership change skipped: ${proxy.name} answered ${res.status} to GET /cluster`;
        current = res.body as ClusterAnswer;
      } catch (err) {
        return `membership change skipped: ${proxy.name} unreachable (${(err as Error).message})`;
      }
      if (current.change !== null) return `membership change skipped: a change is in progress at epoch ${current.epoch}`;
      const members = current.nodes.filter((node) => node.member !== undefined).map((node) => node.id);
      let body: unknown;
      let what: string;
      if (members.length <= MEMBERS_MIN) {
        if (cluster.nodes.length >= NODES_MAX) return 'membership change skipped: no more nodes to start';
        const node = await cluster.addNode();
        body = { add: [{ id: node.id, url: cluster.nodeUrl(node.id) }] };
        what = `add ${node.id}`;
      } else {
        const leaving = random.pick(members);
        body = { remove: [leaving] };
        what = `remove ${leaving}`;
      }
      try {
        const res = await request(proxy.url, 'POST', '/cluster/changes', body, {}, 10_000);
        const answer = res.body as { epoch?: number; error?: { code?: string } };
        return res.status === 202
          ? `${what} through ${proxy.name} (epoch ${answer.epoch})`
          : `${what} through ${proxy.name} refused: ${res.status} ${answer.error?.code ?? ''}`.trimEnd();
      } catch (err) {
        return `${what} through ${proxy.name}: no answer (${(err as Error).message})`;
      }
    },
    async heal() {
      // The change goes on in the background.
    },
  };
}

/** Restarts every data node that is not running, and resumes paused ones. */
async function restartStopped(cluster: TestCluster): Promise<void> {
  for (const node of cluster.nodes) node.process.resume();
  await Promise.all(cluster.nodes.filter((node) => !node.process.running).map((node) => cluster.restartNode(node.id)));
}

/** kill -9 of one data node; heal restarts it. */
function killNode(): Nemesis {
  return {
    name: 'kill-node',
    async start(cluster, random) {
      const node = random.pick(cluster.nodes);
      await cluster.killNode(node.id);
      return `kill -9 ${node.id}`;
    },
    heal: restartStopped,
  };
}

/** kill -9 of every data node at once; heal restarts them. */
function killAll(): Nemesis {
  return {
    name: 'kill-all',
    async start(cluster) {
      await Promise.all(cluster.nodes.map((node) => cluster.killNode(node.id)));
      return 'kill -9 of every data node';
    },
    heal: restartStopped,
  };
}

/** SIGSTOP of one data node (its sockets stay open, nothing answers); heal sends SIGCONT. */
function pauseNode(): Nemesis {
  return {
    name: 'pause-node',
    async start(cluster, random) {
      const node = random.pick(cluster.nodes);
      node.process.pause();
      return `SIGSTOP ${node.id}`;
    },
    async heal(cluster) {
      for (const node of cluster.nodes) node.process.resume();
    },
  };
}

/** A relay fault on the link of one node: `cut` (hang), `slow` or `reset`. */
function linkFault(kind: 'cut' | 'slow' | 'reset'): Nemesis {
  return {
    name: `${kind}-link`,
    async start(cluster, random) {
      const node = random.pick(cluster.nodes);
      if (kind === 'cut') node.relay.cut();
      else if (kind === 'reset') node.relay.reset();
      else node.relay.slow(random.between(50, SLOW_LINK_MS_MAX));
      return `${kind} the proxy's link to ${node.id}`;
    },
    async heal(cluster) {
      for (const node of cluster.nodes) node.relay.heal();
    },
  };
}

/** Cuts the proxy's links to all data nodes but one: the proxy sees a minority, no quorum can form. */
function cutTwoLinks(): Nemesis {
  return {
    name: 'cut-two-links',
    async start(cluster, random) {
      const spared = random.pick(cluster.nodes);
      const cut = cluster.nodes.filter((node) => node !== spared);
      for (const node of cut) node.relay.cut();
      return `cut the proxy's links to ${cut.map((node) => node.id).join(' and ')} (only ${spared.id} reachable)`;
    },
    async heal(cluster) {
      for (const node of cluster.nodes) node.relay.heal();
    },
  };
}

/** Restarts the proxy (killed or stopped) with its wall clock stepped back; heal leaves it running as it is. */
function proxyClockBack(): Nemesis {
  return {
    name: 'proxy-clock-back',
    async start(cluster, random) {
      const offset = -random.between(1000, CLOCK_STEP_BACK_MS_MAX);
      const kill = random.chance(0.5);
      await cluster.restartProxy({ TEST_CLOCK_OFFSET_MS: String(offset) }, kill);
      return `${kill ? 'kill -9' : 'stop'} and restart the proxy with its clock ${offset} ms off`;
    },
    heal: restartStoppedProxies,
  };
}

/** kill -9 of one data node and restart on an empty data directory (a lost disk). */
function wipeNode(): Nemesis {
  return {
    name: 'wipe-node',
    async start(cluster, random) {
      const node = random.pick(cluster.nodes);
      await cluster.wipeNode(node.id);
      return `wipe ${node.id} (restarted on an empty data directory)`;
    },
    heal: restartStopped,
  };
}

/** The nemeses that need a cluster started with `diskFaults` (their processes read a fault file). */
export const DISK_NEMESES: readonly NemesisName[] = ['node-disk-fault', 'hint-disk-fault'];

/** Ends every injected disk fault: the fault files of every node and proxy are removed. */
function clearDiskFaults(cluster: TestCluster): void {
  for (const name of [...cluster.nodes.map((node) => node.id), ...cluster.proxies.map((proxy) => proxy.name)]) {
    rmSync(diskFaultFile(cluster.dir, name), { force: true });
  }
}

/** Fills (`ENOSPC`) or fails (`EIO`) the disk under the log of the process `name`, at random. */
function injectDiskFault(cluster: TestCluster, random: Random, name: string, log: string): string {
  const fault = random.chance(0.5) ? 'ENOSPC' : 'EIO';
  writeFileSync(diskFaultFile(cluster.dir, name), fault);
  return `${fault} under ${name}'s ${log}`;
}

/**
 * The disk of one data node fills or fails under its log: the node exits (its log can no longer promise durability);
 * heal gives the disk back and restarts it (it recovers its log).
 */
function nodeDiskFault(): Nemesis {
  return {
    name: 'node-disk-fault',
    async start(cluster, random) {
      return injectDiskFault(cluster, random, random.pick(cluster.nodes).id, 'log');
    },
    async heal(cluster) {
      clearDiskFaults(cluster);
      await restartStopped(cluster);
    },
  };
}

/**
 * The disk of one proxy's hint log fills or fails: the proxy keeps serving without recording hints, and opens its
 * hint log again once the disk is back (heal).
 */
function hintDiskFault(): Nemesis {
  return {
    name: 'hint-disk-fault',
    async start(cluster, random) {
      return injectDiskFault(cluster, random, random.pick(cluster.proxies).name, 'hint log');
    },
    async heal(cluster) {
      clearDiskFaults(cluster);
    },
  };
}

/** The nemesis called `name`. */
export function nemesisByName(name: NemesisName): Nemesis {
  switch (name) {
    case 'kill-node':
      return killNode();
    case 'kill-all':
      return killAll();
    case 'pause-node':
      return pauseNode();
    case 'cut-link':
      return linkFault('cut');
    case 'cut-two-links':
      return cutTwoLinks();
    case 'slow-link':
      return linkFault('slow');
    case 'reset-link':
      return linkFault('reset');
    case 'proxy-clock-back':
      return proxyClockBack();
    case 'wipe-node':
      return wipeNode();
    case 'kill-proxy':
      return killProxy();
    case 'kill-all-proxies':
      return killAllProxies();
    case 'pause-proxy':
      return pauseProxy();
    case 'pause-all-proxies':
      return pauseAllProxies();
    case 'restart-proxy':
      return restartProxy();
    case 'proxy-clock-skew':
      return proxyClockSkew();
    case 'change-membership':
      return changeMembership();
    case 'node-disk-fault':
      return nodeDiskFault();
    case 'hint-disk-fault':
      return hintDiskFault();
  }
}

/** Time a healed proxy is given to be ready again (join, reach W nodes), in ms. */
const READY_AFTER_HEAL_MS = 20_000;

/** Heals everything any nemesis may have done, and waits until every proxy is ready (or the bound passes). */
export async function healAll(cluster: TestCluster): Promise<void> {
  clearDiskFaults(cluster);
  for (const node of cluster.nodes) node.relay.heal();
  await restartStopped(cluster);
  await restartStoppedProxies(cluster);
  const deadline = Date.now() + READY_AFTER_HEAL_MS;
  await Promise.all(
    cluster.proxies.map(async (proxy) => {
      while (Date.now() < deadline) {
        const status = await request(proxy.url, 'GET', '/health/ready', undefined, {}, 2000).then(
          (res) => res.status,
          () => 0,
        );
        if (status === 200) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }),
  );
}
