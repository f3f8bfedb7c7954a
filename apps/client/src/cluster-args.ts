import { isNodeId, nodeUrlProblem } from '@kv/protocol';
import { UsageError } from './usage-error';

/**
 * The arguments of `kv cluster add | remove | replace`, checked before anything is sent: node ids as every cluster map
 * requires them, URLs that parse as http(s), no id or URL named twice, something to do.
 */

/** A node to add: `<id>=<url>` on the command line. */
export interface NodeSpec {
  readonly id: string;
  readonly url: string;
}

/** A membership change as the command line asks for it. */
export interface MembershipChange {
  readonly add: readonly NodeSpec[];
  readonly remove: readonly string[];
}

const ID_RULE = '1 to 64 letters, digits, "_", "." or "-"';
const SPEC_EXAMPLE = 'node4=http://10.0.0.4:8001';

/**
 * Parses `<id>=<url>` (split at the first `=`: a URL may hold more).
 * @throws UsageError naming the argument and what is wrong with it.
 */
export function parseNodeSpec(text: string): NodeSpec {
  const at = text.indexOf('=');
  if (at < 0) throw new UsageError(`${JSON.stringify(text)} is not <id>=<url>, e.g. ${SPEC_EXAMPLE}`);
  const id = text.slice(0, at);
  const url = text.slice(at + 1);
  if (!isNodeId(id)) throw new UsageError(`bad node id ${JSON.stringify(id)} in ${JSON.stringify(text)}: ${ID_RULE}`);
  checkNodeUrl(id, url);
  return { id, url };
}

/**
 * Checks a member id given on the command line.
 * @throws UsageError when it cannot be a node id.
 */
export function checkNodeId(text: string): string {
  if (!isNodeId(text)) throw new UsageError(`bad node id ${JSON.stringify(text)}: ${ID_RULE}`);
  return text;
}

/**
 * Checks a whole change: something to do, no id named twice (also not added and removed at once), no URL given to two
 * nodes.
 * @throws UsageError naming the id or URL.
 */
export function checkChange(change: MembershipChange): MembershipChange {
  if (change.add.length === 0 && change.remove.length === 0) throw new UsageError('nothing to change: name at least one node');
  const ids = new Set<string>();
  for (const id of [...change.add.map((node) => node.id), ...change.remove]) {
    if (ids.has(id)) throw new UsageError(`node ${id} is named twice`);
    ids.add(id);
  }
  const urls = new Map<string, string>();
  for (const node of change.add) {
    const key = comparableUrl(node.url);
    const other = urls.get(key);
    if (other !== undefined) throw new UsageError(`nodes ${other} and ${node.id} have the same URL ${node.url}`);
    urls.set(key, node.id);
  }
  return change;
}

function checkNodeUrl(id: string, url: string): void {
  const problem = nodeUrlProblem(url);
  if (problem !== undefined) throw new UsageError(`bad URL ${JSON.stringify(url)} for node ${id}: ${problem}, e.g. ${SPEC_EXAMPLE}`);
}

/** A URL as compared for duplicates: parsed (case of scheme and host, default port), without trailing slashes. */
function comparableUrl(url: string): string {
  return new URL(url).href.replace(/\/+$/, '');
}
