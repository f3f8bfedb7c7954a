import type { ClusterResponse } from '@kv/protocol';
import type { CliCommand } from '../command';
import { runSingleRequest } from '../single-request';
import { formatTable } from '../table';

/** `kv status` takes no arguments of its own. */
export type StatusArgs = Record<never, never>;

/**
 * `kv status`: the cluster as the proxy sees it (`GET /cluster`): its data nodes with their health and the quorum
 * settings, as a table; the server's answer with `--json`. Exits 0 whenever the proxy answers, even with nodes down.
 */
export const statusCommand: CliCommand<StatusArgs> = {
  command: 'status',
  describe: "show the cluster's nodes, their health and the quorum settings",
  builder: (y) =>
    y
      .example('$0 status', 'a table of the data nodes')
      .example('$0 --json status', 'the answer of GET /cluster'),
  run: async (args, { out }) =>
    runSingleRequest(args, out, (client) => client.cluster(), {
      write: false,
      plain: (cluster) => formatStatus(args.server, cluster),
    }),
};

/**
 * The plain-text form of `GET /cluster`:
 * ```
 * server  http://localhost:8000
 * nodes   2 of 3 up
 * quorum  N=3 W=2 R=2 (128 vnodes per node)
 *
 * node   url                    status
 * node1  http://127.0.0.1:8001  up
 * ```
 */
export function formatStatus(server: string, cluster: ClusterResponse): string {
  const nodes = Array.isArray(cluster.nodes) ? cluster.nodes : [];
  const up = nodes.filter((node) => node.status === 'up').length;
  const { replicas, writeQuorum, readQuorum, vnodes } = cluster;
  const summary = formatTable([
    ['server', server],
    ['nodes', `${up} of ${nodes.length} up`],
    ['quorum', `N=${replicas} W=${writeQuorum} R=${readQuorum} (${vnodes} vnodes per node)`],
  ]);
  const table = formatTable([
    ['node', 'url', 'status'],
    ...nodes.map((node) => [String(node.id), String(node.url), String(node.status)]),
  ]);
  return `${summary}\n\n${table}`;
}
