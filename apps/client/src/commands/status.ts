import type { ClusterNode, ClusterResponse, KvClient, ProxyProbe } from '@kv/protocol';
import type { CliCommand } from '../command';
import { ExitCode, exitCodeOf } from '../exit-codes';
import { createClient } from '../global-options';
import { formatTable } from '../table';
import { HIDDEN_URL } from '../cluster-format';

/** `kv status` takes no arguments of its own. */
export type StatusArgs = Record<never, never>;

/** One proxy named by `--server`, as `kv status` reports it. */
export interface ProxyStatus {
  url: string;
  /** `up` when it answered `GET /health` (or, given alone, `GET /cluster`); `down` otherwise. */
  status: 'up' | 'down';
  /** True for the proxy whose `GET /cluster` answer is shown. */
  answered: boolean;
  /** Why it is down: `KV_UNAVAILABLE` with the reason, or its error answer. */
  error?: { code: string; message: string };
}

/** `kv --json status`: the answer of `GET /cluster`, and which proxy gave it among those named. */
export type StatusAnswer = ClusterResponse & { server: string; servers: ProxyStatus[] };

/**
 * `kv status`: the cluster as the proxy sees it (`GET /cluster`): its data nodes with their health and the quorum
 * settings, as a table; with several proxies first every proxy's health (`GET /health` of each at once), the first that
 * answered being asked for the cluster. With `--json`, the answer of `GET /cluster` plus `server` (the proxy that gave it)
 * and `servers` (every proxy named). Exits 0 whenever a proxy answers, even with nodes or other proxies down.
 */
export const statusCommand: CliCommand<StatusArgs> = {
  command: 'status',
  describe: "show the cluster's nodes, their health and the quorum settings",
  builder: (y) =>
    y
      .example('$0 status', 'a table of the data nodes')
      .example('$0 --server http://a:8000,http://b:8000 status', 'also which proxies are up, and which one answered')
      .example('$0 --json status', 'the answer of GET /cluster, with "server" and "servers"'),
  run: async (args, { out }) => {
    const client = createClient(args);
    try {
      // One proxy: the cluster's answer tells whether it is up, and a probe would only double the wait when it hangs.
      const probes = client.urls.length > 1 ? await client.probeServers() : undefined;
      let cluster: ClusterResponse;
      try {
        cluster = await client.cluster();
      } catch (err) {
        out.failure(err, { server: client.url, write: false });
        return exitCodeOf(err);
      }
      const answer: StatusAnswer = { ...cluster, server: client.url, servers: proxyStatuses(client, probes) };
      out.result(answer, (body) => formatStatus(body.server, body, body.servers));
      return ExitCode.Ok;
    } finally {
      client.close();
    }
  },
};

function proxyStatuses(client: KvClient, probes: readonly ProxyProbe[] | undefined): ProxyStatus[] {
  const answeredBy = client.url;
  if (probes === undefined) return client.urls.map((url) => ({ url, status: 'up', answered: url === answeredBy }));
  return probes.map((probe) => {
    const answered = probe.url === answeredBy;
    // A proxy that answered the cluster after missing the probe is up now.
    if (probe.answered || answered) return { url: probe.url, status: 'up', answered };
    return {
      url: probe.url,
      status: 'down',
      answered,
      error: { code: probe.error.code, message: probe.error.message },
    };
  });
}

/**
 * The plain-text form of `GET /cluster`, with a table of the proxies when there are several:
 * ```
 * server  http://b:8000
 * nodes   2 of 3 up
 * quorum  N=3 W=2 R=2 (128 vnodes per node)
 *
 * proxy          status  note
 * http://a:8000  down    connect ECONNREFUSED 10.0.0.1:8000
 * http://b:8000  up      answered
 *
 * node   url                    status  sync
 * node1  http://127.0.0.1:8001  up      always
 * ```
 * `sync` is each node's `WAL_SYNC` (`-` until the proxy has heard it); when a node runs `interval` or `none`, a
 * `durability` line says that its acknowledged writes are not yet on its disk.
 */
export function formatStatus(server: string, cluster: ClusterResponse, proxies: readonly ProxyStatus[] = []): string {
  const nodes = Array.isArray(cluster.nodes) ? cluster.nodes : [];
  const up = nodes.filter((node) => node.status === 'up').length;
  const { replicas, writeQuorum, readQuorum, vnodes } = cluster;
  const summary = formatTable([
    ['server', server],
    ['nodes', `${up} of ${nodes.length} up`],
    ['quorum', `N=${replicas} W=${writeQuorum} R=${readQuorum} (${vnodes} vnodes per node)`],
    ...durabilityRows(nodes),
  ]);
  const table = formatTable([
    ['node', 'url', 'status', 'sync', 'keys', 'tombstones'],
    ...nodes.map((node) => [
      String(node.id),
      node.url ?? HIDDEN_URL,
      String(node.status),
      node.walSync ?? '-',
      node.keys === undefined ? '-' : String(node.keys),
      node.tombstones === undefined ? '-' : String(node.tombstones),
    ]),
  ]);
  if (proxies.length <= 1) return `${summary}\n\n${table}`;
  const proxyTable = formatTable([
    ['proxy', 'status', 'note'],
    ...proxies.map((proxy) => [proxy.url, proxy.status, proxyNote(proxy)]),
  ]);
  return `${summary}\n\n${proxyTable}\n\n${table}`;
}

/** `durability  node2 (WAL_SYNC=interval) acknowledges writes before they are on its disk`, when any node does. */
function durabilityRows(nodes: readonly ClusterNode[]): string[][] {
  const weak = nodes.filter((node) => node.walSync === 'interval' || node.walSync === 'none');
  if (weak.length === 0) return [];
  const named = weak.map((node) => `${node.id} (WAL_SYNC=${node.walSync})`).join(', ');
  return [['durability', `${named} ${weak.length === 1 ? 'acknowledges' : 'acknowledge'} writes before they are on disk`]];
}

// The reason a proxy is down, without its URL (the row names it): "connect ECONNREFUSED ...", "did not answer within
// 5000 ms", or the code and message of its error answer.
function proxyNote(proxy: ProxyStatus): string {
  if (proxy.answered) return 'answered';
  if (proxy.error === undefined) return '';
  const { code, message } = proxy.error;
  if (code !== 'KV_UNAVAILABLE') return `${code}: ${message}`;
  const unreachable = `cannot reach ${proxy.url}: `;
  if (message.startsWith(unreachable)) return message.slice(unreachable.length);
  if (message.startsWith(`${proxy.url} `)) return message.slice(proxy.url.length + 1);
  return message;
}
