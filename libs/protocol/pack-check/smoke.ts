// Type check of a consumer of the packed @kv/protocol, run by scripts/pack-check.sh against the installed declarations
// (with no Node or DOM type library). The @ts-expect-error lines fail the check if the types are missing or widen to `any`.
import {
  ErrorCode,
  HybridClock,
  KvClient,
  KvError,
  NodeClient,
  decodeVersion,
  encodeVersion,
  errorResponse,
  isInvalidOp,
  isOutcomeUnknown,
  parsePublicBatch,
  proxyErrorsOf,
} from '@kv/protocol';
import type {
  BatchResponse,
  ClusterResponse,
  ErrorBody,
  GetResponse,
  InternalOp,
  InternalOpResult,
  ParsedBatchOp,
  ProxyError,
  ProxyProbe,
  PutResponse,
  QuorumDetails,
  ReadyResponse,
  VersionParts,
} from '@kv/protocol';

const clock = new HybridClock({ clock: { now: () => 0 }, clockId: 'proxy', floorMs: 1 });
const version: string = clock.next();
const parts: VersionParts = decodeVersion(version);
const again: string = encodeVersion(parts);

const client = new KvClient({ baseUrl: 'http://localhost:8000', token: 't', timeoutMs: 100 });
const get: Promise<GetResponse> = client.get('k', { r: 2 });
const put: Promise<PutResponse> = client.set('k', 'v', { w: 2, requestId: 'r1' });
const batch: Promise<BatchResponse> = client.batch([{ op: 'set', key: 'k', value: 'v' }, { op: 'del', key: 'k' }]);
const cluster: Promise<ClusterResponse> = client.cluster();

const proxies = new KvClient({ baseUrl: ['http://a:8000', 'http://b:8000'] });
const urls: readonly string[] = proxies.urls;
const current: string = proxies.url;
const ready: Promise<ReadyResponse> = proxies.ready();
const probes: Promise<ProxyProbe[]> = proxies.probeServers({ timeoutMs: 100 });
void probes.then((list) => list.map((p) => (p.answered ? p.health.status : p.error.code)));
const unknownOutcome: boolean = isOutcomeUnknown(new Error('x'));
const perProxy: readonly ProxyError[] = proxyErrorsOf(undefined);

const node = new NodeClient({ baseUrl: 'http://127.0.0.1:8001', maxSockets: 4 });
const op: InternalOp = ['s', 'k', 'v', version];
const results: Promise<InternalOpResult[]> = node.batchSerialized(JSON.stringify({ ops: [op] }), 1, { timeoutMs: 50 });

const err = new KvError(ErrorCode.QuorumFailed, 'm', { details: { acks: 1, required: 2 } });
const details: QuorumDetails | undefined = err.details;
const code: ErrorCode = err.code;
const body: ErrorBody = errorResponse(err).body;

const parsed: ParsedBatchOp[] = parsePublicBatch({ ops: [] }, { valueBytesMax: 10 });
for (const p of parsed) {
  if (isInvalidOp(p)) {
    const status: number = p.error.status;
    void status;
  } else if (p.op === 'set') {
    const value: string = p.value;
    void value;
  }
}

// @ts-expect-error values are strings
client.set('k', 42);
// @ts-expect-error unknown batch operation
client.batch([{ op: 'put', key: 'k' }]);
// @ts-expect-error an internal set carries a version
const short: InternalOp = ['s', 'k', 'v'];
// @ts-expect-error codes are the registry's
const wrongCode: ErrorCode = 'KV_NOPE';
// @ts-expect-error a list of proxies is strings
new KvClient({ baseUrl: [8000] });
// @ts-expect-error a clock needs an id
new HybridClock({ clock: { now: () => 0 } });

export const checked = [again, get, put, batch, cluster, results, details, code, body, short, wrongCode];
export const checkedFailover = [urls, current, ready, unknownOutcome, perProxy];
