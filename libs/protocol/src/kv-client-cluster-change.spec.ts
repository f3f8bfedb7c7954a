import type * as http from 'node:http';
import { ErrorCode } from './errors';
import { isOutcomeUnknown } from './failover-errors';
import { KvClient } from './kv-client';
import type { ClusterChangePlan, ClusterChangeRequest } from './public-messages';
import { closedPort, RecordedRequest, sendJson, startTestServer, TestServer } from './testing/http-test-server';
import { kvErrorOfAsync } from './testing/kv-error-of';

const PLAN: ClusterChangePlan = {
  dryRun: true,
  epoch: 2,
  members: [
    { id: 'node1', url: 'http://127.0.0.1:8001', state: 'active' },
    { id: 'node4', url: 'http://127.0.0.1:8004', state: 'joining' },
  ],
  ranges: [{ start: 10, end: 20, from: ['node1'], to: ['node4'], keys: 3, bytes: 300 }],
  keys: 3,
  bytes: 300,
  share: 0.25,
};

/** A fake proxy's `POST /cluster/changes`: what it answers depends on the first node added (see the tests). */
function changesHandler(req: RecordedRequest, res: http.ServerResponse): void {
  if (req.method !== 'POST' || req.url !== '/cluster/changes') {
    return sendJson(res, 404, { error: { code: 'KV_NOT_FOUND', message: 'no such route' } });
  }
  const body = JSON.parse(req.body) as ClusterChangeRequest;
  const first = body.add?.[0]?.id ?? body.remove?.[0];
  if (first === 'refused') return sendJson(res, 400, { error: { code: 'KV_CHANGE_REFUSED', message: 'node refused is not a member' } });
  if (first === 'busy') {
    return sendJson(res, 409, { error: { code: 'KV_CHANGE_IN_PROGRESS', message: 'change c1 is in progress' } });
  }
  if (first === 'ignores-dry-run') return sendJson(res, 202, { dryRun: false, epoch: 2, change: 'c1' });
  if (first === 'no-ranges') return sendJson(res, 200, { dryRun: true, epoch: 2 });
  if (first === 'no-id') return sendJson(res, 202, { dryRun: false, epoch: 2 });
  if (body.dryRun === true) return sendJson(res, 200, PLAN);
  sendJson(res, 202, { dryRun: false, epoch: 2, change: 'c1' });
}

describe('KvClient.changeCluster', () => {
  let server: TestServer;
  let client: KvClient;

  beforeAll(async () => {
    server = await startTestServer(changesHandler);
    client = new KvClient({ baseUrl: server.url, token: 'secret', timeoutMs: 2000 });
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  const last = (): RecordedRequest => server.requests[server.requests.length - 1];

  it('returns the plan of a dry run, and sends only the fields of the request', async () => {
    const request = { add: [{ id: 'node4', url: 'http://127.0.0.1:8004', extra: 1 }], dryRun: true as const, force: true };
    const plan: ClusterChangePlan = await client.changeCluster(request);
    expect(plan).toEqual(PLAN);
    expect(last().method).toBe('POST');
    expect(last().url).toBe('/cluster/changes');
    expect(last().headers.authorization).toBe('Bearer secret');
    expect(last().headers['content-type']).toBe('application/json');
    expect(JSON.parse(last().body)).toEqual({ add: [{ id: 'node4', url: 'http://127.0.0.1:8004' }], dryRun: true });
  });

  it('returns the change started (202)', async () => {
    const started = await client.changeCluster({ add: [{ id: 'node4', url: 'http://127.0.0.1:8004' }], remove: ['node1'] });
    expect(started).toEqual({ dryRun: false, epoch: 2, change: 'c1' });
    expect(JSON.parse(last().body)).toEqual({ add: [{ id: 'node4', url: 'http://127.0.0.1:8004' }], remove: ['node1'] });
  });

  it.each([
    ['refused', ErrorCode.ChangeRefused, 400, 'node refused is not a member'],
    ['busy', ErrorCode.ChangeInProgress, 409, 'change c1 is in progress'],
  ])('throws the refusal of %s with its code, status and message; nothing started', async (id, code, status, message) => {
    const err = await kvErrorOfAsync(client.changeCluster({ remove: [id] }));
    expect({ code: err.code, status: err.status, message: err.message }).toEqual({ code, status, message });
    expect(isOutcomeUnknown(err)).toBe(false);
  });

  it.each([
    // A plan answered with a started change: a change did start, though none was asked for.
    ['ignores-dry-run', true, 'answered a cluster change without "dryRun": true and an epoch', true],
    ['no-ranges', true, 'answered a plan without ranges', false],
    ['no-id', false, 'answered a started change without its id', true],
  ])('throws KV_INTERNAL for an answer that is not the one asked for (%s)', async (id, dryRun, message, unknown) => {
    const err = await kvErrorOfAsync(client.changeCluster({ remove: [id], dryRun }));
    expect(err.code).toBe(ErrorCode.Internal);
    expect(err.message).toBe(`${server.url} ${message}`);
    expect(isOutcomeUnknown(err)).toBe(unknown);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', []],
    ['add not an array', { add: { id: 'a', url: 'http://h' } }],
    ['add without url', { add: [{ id: 'a' }] }],
    ['add with a null entry', { add: [null] }],
    ['remove not of strings', { remove: [1] }],
    ['dryRun not a boolean', { remove: ['a'], dryRun: 'yes' }],
  ])('throws TypeError before sending for %s', async (_what, request) => {
    const before = server.requests.length;
    await expect(client.changeCluster(request as ClusterChangeRequest)).rejects.toThrow(TypeError);
    expect(server.requests.length).toBe(before);
  });
});

describe('KvClient.changeCluster with several proxies', () => {
  const NODE4 = { id: 'node4', url: 'http://127.0.0.1:8004' };
  let up: TestServer;
  let silent: TestServer;

  beforeAll(async () => {
    up = await startTestServer(changesHandler);
    silent = await startTestServer(() => undefined);
  });

  afterAll(async () => {
    await up?.close();
    await silent?.close();
  });

  it('plans on the next proxy when one does not answer in time: a dry run changes nothing', async () => {
    const kv = new KvClient({ baseUrl: [silent.url, up.url], timeoutMs: 200 });
    try {
      await expect(kv.changeCluster({ add: [NODE4], dryRun: true })).resolves.toEqual(PLAN);
      expect(kv.url).toBe(up.url);
    } finally {
      kv.close();
    }
  });

  it('starts a change on the next proxy only when the first provably never got it', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const refusing = new KvClient({ baseUrl: [down, up.url], timeoutMs: 2000 });
    try {
      await expect(refusing.changeCluster({ add: [NODE4] })).resolves.toEqual({ dryRun: false, epoch: 2, change: 'c1' });
    } finally {
      refusing.close();
    }
    const before = up.requests.length;
    const hanging = new KvClient({ baseUrl: [silent.url, up.url], timeoutMs: 200 });
    try {
      const err = await kvErrorOfAsync(hanging.changeCluster({ add: [NODE4] }));
      expect(err.code).toBe(ErrorCode.Unavailable);
      expect(err.message).toBe(`${silent.url} did not answer within 200 ms`);
      expect(isOutcomeUnknown(err)).toBe(true);
      expect(up.requests.length).toBe(before);
    } finally {
      hanging.close();
    }
  });
});
