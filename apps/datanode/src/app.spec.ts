import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { PassThrough } from 'node:stream';
import { ReplicaService, type ReplicaStore } from '@kv/quorum';
import { hashKey } from '@kv/ring';
import { closeServer, createHttpServer, createLogger, createRegistry, InFlight, listen } from '@kv/service';
import { openStore, PowerLossFileSystem, type FileHandle, type FileSystem, type OpenMode, type Store } from '@kv/wal';
import { createApp } from './app';

const V1 = '0192f1a2b3c4-0000-proxy';
const V2 = '0192f1a2b3c4-0001-proxy';
const V3 = '0192f1a2b3c5-0000-proxy';
const TOKEN = 'cluster-secret';
const INCARNATION = '0123456789abcdef';

let dir: string;
let store: Store;
let replica: ReplicaService;
let monotonicMs = 0;

function replicaOf(s: ReplicaStore, nodeId: string, filled = true): ReplicaService {
  return new ReplicaService({
    nodeId,
    store: s,
    incarnation: INCARNATION,
    filled,
    recordFilled: async () => undefined,
    wall: { now: () => Date.now() },
    monotonic: { now: () => monotonicMs },
    maxClockSkewMs: 60_000,
    keys: [],
    persistMap: async () => undefined,
    persistStream: async () => undefined,
  });
}
let server: http.Server;
let base: string;

/** The node's clock in the app built below (the tests of deadlines set it). */
let nowMs: () => number = Date.now;

beforeEach(async () => {
  nowMs = Date.now;
  dir = mkdtempSync(path.join(os.tmpdir(), 'kv-datanode-'));
  store = await openStore(dir, { sync: 'none' });
  replica = replicaOf(store, 'node1');
  const { listener } = createApp({
    store,
    nodeId: 'node1',
    replica,
    clusterToken: TOKEN,
    maxValueBytes: 64,
    walSync: 'none',
    now: () => nowMs(),
    logger: createLogger({ service: 'datanode', stream: new PassThrough() }),
    registry: createRegistry('datanode'),
  });
  server = createHttpServer(listener);
  base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
});

afterEach(async () => {
  await closeServer(server, 100);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };

async function call(method: string, route: string, body?: unknown, headers: Record<string, string> = auth) {
  const res = await fetch(base + route, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: res.headers };
}

describe('POST /internal/batch', () => {
  test('applies writes, answers reads, and reports per-operation results in order', async () => {
    const first = await call('POST', '/internal/batch', {
      ops: [
        ['s', 'a', 'one', V1],
        ['s', 'b', 'two', V1],
        ['d', 'c', V1],
        ['g', 'nothing'],
      ],
    });
    expect(first).toMatchObject({ status: 200, body: { results: [[1, V1], [1, V1], [1, V1], null] } });

    const second = await call('POST', '/internal/batch', {
      ops: [
        ['g', 'a'],
        ['g', 'c'],
        ['s', 'a', 'older', '0192f1a2b3c3-0000-proxy'],
        ['s', 'b', 'newer', V2],
        ['d', 'a', V1],
      ],
    });
    expect(second.body).toEqual({ results: [[V1, 'one'], [V1, null], [0, V1], [1, V2], [0, V1]] });
    expect(store.get('b')).toMatchObject({ value: 'newer', version: V2 });
  });

  test('a batch whose deadline (x-kv-deadline) passed before it was applied is refused and not applied', async () => {
    const ops = { ops: [['s', 'late', 'x', V1]] };
    expect(await call('POST', '/internal/batch', ops, { ...auth, 'x-kv-deadline': '0' })).toMatchObject({
      status: 503,
      body: { error: { code: 'KV_OVERLOADED' } },
    });
    // The deadline passes while the batch waits (here: between its arrival and its application).
    let calls = 0;
    nowMs = () => (calls++ === 0 ? 1_000 : 1_200);
    expect((await call('POST', '/internal/batch', ops, { ...auth, 'x-kv-deadline': '100' })).status).toBe(503);
    expect(store.get('late')).toBeUndefined();
    nowMs = Date.now;
    expect((await call('POST', '/internal/batch', ops, { ...auth, 'x-kv-deadline': '60000' })).status).toBe(200);
    expect(store.get('late')).toMatchObject({ value: 'x' });
    const bad = await call('POST', '/internal/batch', ops, { ...auth, 'x-kv-deadline': 'soon' });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'KV_BAD_REQUEST' } } });
  });

  test('an invalid operation fails alone; a malformed body fails the request', async () => {
    const mixed = await call('POST', '/internal/batch', {
      ops: [['s', 'k', 'v', V1], ['s', '', 'v', V1], ['s', 'k2', 'x'.repeat(65), V1], ['s', 'k3', 'v', 'not-a-version'], ['q']],
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body.results[0]).toEqual([1, V1]);
    expect(mixed.body.results.slice(1).map((r: { error: { code: string } }) => r.error.code)).toEqual([
      'KV_INVALID_KEY',
      'KV_TOO_LARGE',
      'KV_BAD_REQUEST',
      'KV_BAD_REQUEST',
    ]);
    expect(await call('POST', '/internal/batch', '{"ops": [')).toMatchObject({ status: 400, body: { error: { code: 'KV_BAD_REQUEST' } } });
    expect(await call('POST', '/internal/batch', { ops: 'no' })).toMatchObject({ status: 400, body: { error: { code: 'KV_BAD_REQUEST' } } });
    const tooMany = { ops: Array.from({ length: 4001 }, (_, i) => ['g', `k${i}`]) };
    expect(await call('POST', '/internal/batch', tooMany)).toMatchObject({ status: 400 });
  });

  test('a body over the limit is refused with 413', async () => {
    const huge = JSON.stringify({ ops: [['s', 'k', 'x'.repeat(64), V1]] }).padEnd(64 * 1024 * 1024, ' ');
    expect(await call('POST', '/internal/batch', huge)).toMatchObject({ status: 413, body: { error: { code: 'KV_TOO_LARGE' } } });
  });

  test('the request id is echoed', async () => {
    const res = await call('POST', '/internal/batch', { ops: [] }, { ...auth, 'x-request-id': 'req-42' });
    expect(res.headers.get('x-request-id')).toBe('req-42');
  });
});

describe('cluster token', () => {
  test.each([
    ['missing', {}],
    ['wrong', { authorization: 'Bearer nope' }],
    ['not bearer', { authorization: TOKEN }],
  ])('%s token: every /internal route answers 401', async (_name, headers) => {
    for (const [method, route, body] of [
      ['POST', '/internal/batch', { ops: [] }],
      ['GET', '/internal/kv/a', undefined],
      ['PUT', '/internal/kv/a', { value: 'v', version: V1 }],
      ['DELETE', `/internal/kv/a?version=${V1}`, undefined],
    ] as const) {
      expect(await call(method, route, body, headers)).toMatchObject({ status: 401, body: { error: { code: 'KV_UNAUTHORIZED' } } });
    }
    expect(store.size).toBe(0);
  });

  test('health and metrics need no token', async () => {
    expect(await call('GET', '/health', undefined, {})).toEqual(expect.objectContaining({ status: 200, body: { status: 'ok', nodeId: 'node1', keys: 0, bytes: 0, tombstones: 0, incarnation: INCARNATION, filled: true, walSync: 'none' } }));
    const metrics = await call('GET', '/metrics', undefined, {});
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('kv_keys');
    expect(metrics.body).toContain('kv_tombstones');
  });
});

describe('single-key internal routes', () => {
  test('put, get (tombstones included), delete with a version', async () => {
    const key = encodeURIComponent('a/b ?#é');
    expect(await call('GET', `/internal/kv/${key}`)).toMatchObject({ status: 404, body: { error: { code: 'KV_NOT_FOUND' } } });
    expect(await call('PUT', `/internal/kv/${key}`, { value: 'v', version: V1 })).toMatchObject({
      status: 200,
      body: { key: 'a/b ?#é', applied: true, version: V1 },
    });
    expect((await call('GET', `/internal/kv/${key}`)).body).toEqual({ key: 'a/b ?#é', value: 'v', version: V1, tombstone: false });
    expect((await call('DELETE', `/internal/kv/${key}?version=${V3}`)).body).toEqual({ key: 'a/b ?#é', applied: true, version: V3 });
    expect((await call('PUT', `/internal/kv/${key}`, { value: 'late', version: V2 })).body).toEqual({ key: 'a/b ?#é', applied: false, version: V3 });
    expect((await call('GET', `/internal/kv/${key}`)).body).toEqual({ key: 'a/b ?#é', value: null, version: V3, tombstone: true });
  });

  test('bad input', async () => {
    expect(await call('DELETE', '/internal/kv/a')).toMatchObject({ status: 400, body: { error: { code: 'KV_BAD_REQUEST' } } });
    expect(await call('PUT', '/internal/kv/a', { value: 1, version: V1 })).toMatchObject({ status: 400 });
    expect(await call('PUT', '/internal/kv/a', { value: 'x'.repeat(65), version: V1 })).toMatchObject({ status: 413 });
    expect(await call('GET', '/internal/kv/%FF')).toMatchObject({ status: 400, body: { error: { code: 'KV_INVALID_KEY' } } });
    expect(await call('GET', `/internal/kv/${'k'.repeat(1025)}`)).toMatchObject({ status: 400, body: { error: { code: 'KV_INVALID_KEY' } } });
    expect(await call('GET', '/internal/kv/a/b')).toMatchObject({ status: 404 });
  });

  test('unknown fields and query parameters are refused with 400 naming them, and nothing is written', async () => {
    const refused = (message: string) => ({ status: 400, body: { error: { code: 'KV_BAD_REQUEST', message } } });
    expect(await call('PUT', '/internal/kv/a', { value: 'v', version: V1, ttl: 5 })).toMatchObject(
      refused('unknown field "ttl" in the request body (accepted: "value", "version")'),
    );
    expect(await call('DELETE', `/internal/kv/a?version=${V1}&force=1`)).toMatchObject(
      refused('unknown query parameter "force" for DELETE /internal/kv/:key (accepted: "version")'),
    );
    expect(await call('GET', '/internal/kv/a?version=1')).toMatchObject(refused('unknown query parameter "version" for GET /internal/kv/:key (accepted: none)'));
    expect(await call('GET', '/internal/entries?range=0-1')).toMatchObject(refused('unknown query parameter "range" for GET /internal/entries (accepted: "ranges")'));
    expect(await call('GET', '/health?x=1')).toMatchObject(refused('unknown query parameter "x" for GET /health (accepted: none)'));
    expect(await call('POST', '/internal/batch', { ops: [], sync: false })).toMatchObject(refused('unknown field "sync" in the batch body (accepted: "ops")'));
    expect(await call('POST', '/internal/filled', { incarnation: INCARNATION, force: true })).toMatchObject(
      refused('unknown field "force" in the request body (accepted: "incarnation")'),
    );
    expect(await call('POST', '/internal/map/prepare', { epoch: 1, ballot: { round: 1, proposer: 'p1', weight: 2 } })).toMatchObject(
      refused('unknown field "weight" in the ballot (accepted: "round", "proposer")'),
    );
    expect(await call('POST', '/internal/map/commit', { map: null, epoch: 1 })).toMatchObject(refused('unknown field "epoch" in the request body (accepted: "map")'));
    expect(await call('GET', '/internal/kv/a')).toMatchObject({ status: 404 });
    // A route that does not exist stays 404, and a caller without the token gets 401, whatever the query says.
    expect(await call('GET', '/internal/batch?x=1')).toMatchObject({ status: 404 });
    expect(await call('GET', '/internal/kv/a?x=1', undefined, {})).toMatchObject({ status: 401 });
    expect(await call('GET', '/internal/map?x=1', undefined, {})).toMatchObject({ status: 401 });
  });

  test('unknown routes answer the JSON 404', async () => {
    expect(await call('GET', '/nope')).toMatchObject({ status: 404, body: { error: { code: 'KV_NOT_FOUND' } } });
    expect(await call('GET', '/internal/batch')).toMatchObject({ status: 404 });
  });
});

describe('incarnation', () => {
  test('requests for another incarnation are refused with 409 KV_NODE_CHANGED; the right one or none pass', async () => {
    const other = { ...auth, 'x-kv-incarnation': 'fedcba9876543210' };
    expect(await call('POST', '/internal/batch', { ops: [['s', 'k', 'v', V1]] }, other)).toMatchObject({
      status: 409,
      body: { error: { code: 'KV_NODE_CHANGED' } },
    });
    expect(await call('GET', '/internal/kv/k', undefined, other)).toMatchObject({ status: 409 });
    expect(store.size).toBe(0);
    const same = { ...auth, 'x-kv-incarnation': INCARNATION };
    expect(await call('POST', '/internal/batch', { ops: [['s', 'k', 'v', V1]] }, same)).toMatchObject({ status: 200 });
    expect(await call('POST', '/internal/batch', { ops: [['g', 'k']] })).toMatchObject({ status: 200, body: { results: [[V1, 'v']] } });
  });

  test('GET /internal/entries streams every entry, tombstones included, as JSON lines', async () => {
    const ops = Array.from({ length: 3000 }, (_, i) => ['s', `key-${i}`, 'x'.repeat(40), V1]);
    await call('POST', '/internal/batch', { ops });
    await call('POST', '/internal/batch', { ops: [['d', 'key-7', V2]] });
    const res = await fetch(`${base}/internal/entries`, { headers: auth });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3000);
    expect(lines).toContainEqual(['key-7', V2, null]);
    expect(lines).toContainEqual(['key-2999', V1, 'x'.repeat(40)]);
    expect((await fetch(`${base}/internal/entries`)).status).toBe(401);
  });
});

describe('expiring values', () => {
  test('a set with expiresAt is stored with it, read back with it, listed with it, and shown by GET /internal/kv', async () => {
    const expiresAt = Date.now() + 60_000;
    const past = Date.now() - 1;
    const first = await call('POST', '/internal/batch', { ops: [['s', 'e', 'x', V1, expiresAt], ['s', 'p', 'y', V1], ['s', 'old', 'z', V1, past]] });
    expect(first.body).toEqual({ results: [[1, V1], [1, V1], [1, V1]] });
    const read = await call('POST', '/internal/batch', { ops: [['g', 'e'], ['g', 'p']] });
    expect(read.body).toEqual({ results: [[V1, 'x', expiresAt], [V1, 'y']] });
    expect(await call('GET', '/internal/kv/e')).toMatchObject({ status: 200, body: { key: 'e', value: 'x', version: V1, tombstone: false, expiresAt } });
    const lines = (await (await fetch(`${base}/internal/entries`, { headers: auth })).text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([['e', V1, 'x', expiresAt], ['p', V1, 'y'], ['old', V1, 'z', past]]);
    // /health counts live keys: the value that expired (not converted yet) is not one.
    expect((await call('GET', '/health')).body.keys).toBe(2);
    const metrics = (await call('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^kv_keys\{service="datanode"\} 2$/m);
    expect(metrics).toMatch(/^kv_expiring_values\{service="datanode"\} 2$/m);
  });

  test('an expiry that is not a whole number of ms is refused in its operation', async () => {
    const res = await call('POST', '/internal/batch', { ops: [['s', 'e', 'x', V1, -1], ['s', 'f', 'x', V1]] });
    expect(res.body.results[0]).toMatchObject({ error: { code: 'KV_BAD_REQUEST' } });
    expect(res.body.results[1]).toEqual([1, V1]);
  });
});

describe('the cluster map, epochs and streaming', () => {
  const members = ['node1', 'node2', 'node3'].map((id, i) => ({ id, url: `http://127.0.0.1:${7001 + i}`, state: 'active' }));
  const map1 = { epoch: 1, members, vnodes: 8, replicas: 3, writeQuorum: 2, readQuorum: 2, transition: null };
  const ballot = (round: number, proposer = 'p1') => ({ round, proposer });

  test('a map is chosen by prepare and accept, stored by commit, and answered by GET /internal/map', async () => {
    expect((await call('GET', '/internal/map')).body).toEqual({ map: null });
    expect((await call('POST', '/internal/map/prepare', { epoch: 1, ballot: ballot(1) })).body).toEqual({ outcome: 'ok', accepted: null });
    // A lower ballot is refused once a higher one was promised.
    expect((await call('POST', '/internal/map/prepare', { epoch: 1, ballot: ballot(2, 'p2') })).body.outcome).toBe('ok');
    expect((await call('POST', '/internal/map/accept', { ballot: ballot(1), map: map1 })).body).toEqual({ outcome: 'refused', promised: ballot(2, 'p2') });
    expect((await call('POST', '/internal/map/accept', { ballot: ballot(2, 'p2'), map: map1 })).body).toEqual({ outcome: 'ok', accepted: null });
    expect((await call('POST', '/internal/map/commit', { map: map1 })).body).toEqual({ epoch: 1 });
    expect((await call('GET', '/internal/map')).body).toEqual({ map: map1 });
    // A proposer for an epoch already decided learns the map instead.
    expect((await call('POST', '/internal/map/prepare', { epoch: 1, ballot: ballot(9) })).body).toEqual({ outcome: 'committed', map: map1 });
    // The map routes need the cluster token, and refuse what is not a map.
    expect((await call('GET', '/internal/map', undefined, {})).status).toBe(401);
    const bad = await call('POST', '/internal/map/commit', { map: { ...map1, replicas: 5 } });
    expect([bad.status, bad.body.error.code, bad.body.error.message]).toEqual([400, 'KV_BAD_REQUEST', 'cluster map: fewer members than N=5']);
  });

  test('a request of an older epoch than the stored map is refused with 409 KV_STALE_EPOCH; a malformed epoch is a 400', async () => {
    await call('POST', '/internal/map/commit', { map: { ...map1, epoch: 3 } });
    const ops = { ops: [['s', 'a', 'one', V1]] };
    const stale = await call('POST', '/internal/batch', ops, { ...auth, 'x-kv-epoch': '2' });
    expect([stale.status, stale.body.error.code, stale.body.error.message]).toEqual([
      409,
      'KV_STALE_EPOCH',
      'node node1 has the cluster map of epoch 3, newer than 2',
    ]);
    expect((await call('GET', '/internal/kv/a', undefined, { ...auth, 'x-kv-epoch': '1' })).status).toBe(409);
    expect((await call('POST', '/internal/batch', ops, { ...auth, 'x-kv-epoch': '3' })).status).toBe(200);
    expect((await call('POST', '/internal/batch', ops, { ...auth, 'x-kv-epoch': '4' })).status).toBe(200);
    expect((await call('POST', '/internal/batch', ops, auth)).status).toBe(200);
    const bad = await call('POST', '/internal/batch', ops, { ...auth, 'x-kv-epoch': 'three' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'KV_BAD_REQUEST']);
  });

  test('streaming progress is recorded per change, many ranges at once, and only for the latest change', async () => {
    expect((await call('GET', '/internal/stream?change=c2')).body).toEqual({ change: 'c2', ranges: [], keys: 0, bytes: 0 });
    const first = await call('POST', '/internal/stream', { change: 'c2', ranges: [0, 5, 7], keys: 120, bytes: 4096 });
    expect(first.body).toEqual({ change: 'c2', ranges: [0, 5, 7], keys: 120, bytes: 4096 });
    // Without counts (nothing was written for those ranges), the counts stay.
    expect((await call('POST', '/internal/stream', { change: 'c2', ranges: [5, 9] })).body).toEqual({ change: 'c2', ranges: [0, 5, 7, 9], keys: 120, bytes: 4096 });
    expect((await call('GET', '/internal/stream?change=c2')).body).toEqual({ change: 'c2', ranges: [0, 5, 7, 9], keys: 120, bytes: 4096 });
    await call('POST', '/internal/stream', { change: 'c3', ranges: [1] });
    expect((await call('GET', '/internal/stream?change=c2')).body.ranges).toEqual([]);
    for (const body of [
      { change: 'c3' },
      { change: 'c3', ranges: [] },
      { change: 'c3', ranges: [-1] },
      { change: 'c3', ranges: [1.5] },
      { ranges: [1] },
      { change: 'c3', ranges: [1], keys: -1 },
      { change: 'c3', ranges: [1], bytes: '10' },
    ]) {
      const res = await call('POST', '/internal/stream', body);
      expect([res.status, res.body.error.code]).toEqual([400, 'KV_BAD_REQUEST']);
    }
    const tooMany = await call('POST', '/internal/stream', { change: 'c3', ranges: Array.from({ length: 1025 }, (_, i) => i) });
    expect(tooMany.body.error.message).toBe('ranges must be 1 to 1024 non-negative integers');
    expect((await call('GET', '/internal/stream')).status).toBe(400);
  });

  test('GET /internal/entries?ranges= lists the entries whose keys hash into the ranges, tombstones included', async () => {
    const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`);
    await call('POST', '/internal/batch', { ops: keys.map((key) => ['s', key, 'v', V1]) });
    await call('POST', '/internal/batch', { ops: [['d', 'key-3', V2]] });
    const half = 0x80000000;
    const listed = async (ranges: string): Promise<string[]> => {
      const res = await fetch(`${base}/internal/entries?ranges=${ranges}`, { headers: auth });
      expect(res.status).toBe(200);
      const text = (await res.text()).trim();
      return text === '' ? [] : text.split('\n').map((line) => (JSON.parse(line) as [string])[0]);
    };
    const low = await listed(`0-${half}`);
    const high = await listed(`${half}-0`);
    expect(low.sort()).toEqual(keys.filter((key) => hashKey(key) > 0 && hashKey(key) <= half).sort());
    expect([...low, ...high].sort()).toEqual([...keys].sort());
    expect((await listed(`0-${half},${half}-0`)).sort()).toEqual([...keys].sort());
    expect(await listed('5-5')).toHaveLength(500);
    expect((await fetch(`${base}/internal/entries?ranges=1-x`, { headers: auth })).status).toBe(400);
  });
});

describe('anti-entropy routes', () => {
  const members = ['node1', 'node2', 'node3'].map((id, i) => ({ id, url: `http://127.0.0.1:${7001 + i}`, state: 'active' }));
  const map1 = { epoch: 1, members, vnodes: 8, replicas: 3, writeQuorum: 2, readQuorum: 2, transition: null };
  const OLD = '000000000001-0000-proxy';

  test('digests change with a version and are equal for equal contents; versions list keys and old tombstones; purge forgets confirmed tombstones', async () => {
    await call('POST', '/internal/batch', { ops: [['s', 'a', 'one', V1], ['s', 'b', 'two', V1], ['d', 'gone', OLD]] });
    const whole = { ranges: '0-0', buckets: true };
    const first = await call('POST', '/internal/digests', whole);
    expect(first.status).toBe(200);
    expect(first.body.ranges).toHaveLength(1);
    expect(first.body.ranges[0]).toMatchObject({ keys: 3 });
    expect(first.body.ranges[0].digest).toMatch(/^[0-9a-f]{32}$/);
    expect(first.body.ranges[0].buckets.map((bucket: [number, string, number]) => bucket[2]).reduce((x: number, y: number) => x + y, 0)).toBe(3);
    await call('POST', '/internal/batch', { ops: [['s', 'a', 'uno', V2]] });
    const second = await call('POST', '/internal/digests', { ranges: '0-0' });
    expect(second.body.ranges[0].digest).not.toBe(first.body.ranges[0].digest);
    expect(second.body.ranges[0].buckets).toBeUndefined();

    const listed = await call('POST', '/internal/versions', { ranges: '0-0' });
    expect(listed.body.truncated).toBe(false);
    expect(listed.body.keys.sort()).toEqual([['a', V2, 0], ['b', V1, 0], ['gone', OLD, 1]]);
    const h = hashKey('a');
    const narrow = await call('POST', '/internal/versions', { ranges: `${(h + 2 ** 32 - 1) % 2 ** 32}-${h}` });
    expect(narrow.body.keys).toEqual([['a', V2, 0]]);
    const old = await call('POST', '/internal/versions', { ranges: '0-0', tombstonesBeforeMs: 1000 });
    expect(old.body.keys).toEqual([['gone', OLD, 1]]);

    // Purging needs the settled map of the epoch named.
    const refused = await call('POST', '/internal/purge', { epoch: 1, entries: [['gone', OLD]] });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'KV_STALE_EPOCH']);
    await call('POST', '/internal/map/commit', { map: map1 });
    // Values are never purged; a tombstone is.
    const purged = await call('POST', '/internal/purge', { epoch: 1, entries: [['gone', OLD], ['b', V1]] });
    expect(purged.body).toEqual({ purged: 1 });
    expect((await call('GET', '/internal/kv/gone')).status).toBe(404);
    expect((await call('GET', '/internal/kv/b')).body.value).toBe('two');
    expect((await call('POST', '/internal/digests', { ranges: '0-0' })).body.ranges[0].keys).toBe(2);
    expect((await call('GET', '/health')).body).toMatchObject({ keys: 2, tombstones: 0 });
  });

  test('bad bodies are 400s', async () => {
    for (const [route, body] of [
      ['/internal/digests', { ranges: 'x' }],
      ['/internal/digests', { ranges: '0-0', extra: 1 }],
      ['/internal/versions', { ranges: '0-0', tombstonesBeforeMs: -1 }],
      ['/internal/purge', { epoch: 0, entries: [] }],
      ['/internal/purge', { epoch: 1, entries: [['k']] }],
    ] as const) {
      const answer = await call('POST', route, body);
      expect([route, answer.status, answer.body.error.code]).toEqual([route, 400, 'KV_BAD_REQUEST']);
    }
  });
});

describe('coordinators, their leases and versions from the future', () => {
  const claim = (id: string, incarnation = '0123456789abcdef', leaseMs = 2000): Record<string, string> => ({
    ...auth,
    'x-kv-coordinator': `${id};${incarnation};${leaseMs}`,
  });

  test('a coordinator registers; its probes list the live coordinators and the bound on versions', async () => {
    expect(await call('POST', '/internal/coordinators', undefined, claim('p1'))).toMatchObject({
      status: 200,
      body: { filled: true, coordinators: [{ id: 'p1', leaseMs: 2000 }], maxClockSkewMs: 60_000 },
    });
    await call('POST', '/internal/coordinators', undefined, claim('p2', 'fedcba9876543210'));
    const status = await call('GET', '/internal/status', undefined, claim('p1'));
    expect(status.body.coordinators.map((c: { id: string }) => c.id).sort()).toEqual(['p1', 'p2']);
  });

  test('another live incarnation of a clock id is refused with 409 KV_DUPLICATE_COORDINATOR', async () => {
    await call('POST', '/internal/coordinators', undefined, claim('p1'));
    const other = claim('p1', '1111111111111111');
    expect(await call('POST', '/internal/coordinators', undefined, other)).toMatchObject({
      status: 409,
      body: { error: { code: 'KV_DUPLICATE_COORDINATOR' } },
    });
    expect((await call('POST', '/internal/batch', { ops: [['g', 'k']] }, other)).body.error.code).toBe('KV_DUPLICATE_COORDINATOR');
  });

  test('a coordinator whose lease lapsed is refused with 409 KV_COORDINATOR_LAPSED until it registers again', async () => {
    await call('POST', '/internal/coordinators', undefined, claim('p1'));
    monotonicMs += 2001;
    expect((await call('POST', '/internal/batch', { ops: [['g', 'k']] }, claim('p1'))).body.error.code).toBe('KV_COORDINATOR_LAPSED');
    expect((await call('GET', '/internal/status', undefined, claim('p1'))).status).toBe(409);
    expect((await call('POST', '/internal/coordinators', undefined, claim('p1'))).status).toBe(200);
    expect((await call('POST', '/internal/batch', { ops: [['g', 'k']] }, claim('p1'))).status).toBe(200);
  });

  test("a coordinator's probe is answered whatever incarnation it expects: it is how a new one is learned", async () => {
    const probe = await call('GET', '/internal/status', undefined, { ...claim('p1'), 'x-kv-incarnation': 'fedcba9876543210' });
    expect(probe).toMatchObject({ status: 200, body: { incarnation: INCARNATION } });
  });

  test('a malformed coordinator header is a 400', async () => {
    expect(await call('GET', '/internal/status', undefined, { ...auth, 'x-kv-coordinator': 'p1' })).toMatchObject({
      status: 400,
      body: { error: { code: 'KV_BAD_REQUEST' } },
    });
  });

  test('a write more than MAX_CLOCK_SKEW_MS ahead of the node\'s clock is refused alone, with 409 KV_VERSION_TOO_NEW', async () => {
    const far = `${(Date.now() + 120_000).toString(16).padStart(12, '0')}-0000-proxy`;
    const near = `${(Date.now() + 30_000).toString(16).padStart(12, '0')}-0000-proxy`;
    const answer = await call('POST', '/internal/batch', { ops: [['s', 'a', 'x', far], ['s', 'b', 'y', near], ['d', 'c', far]] });
    expect(answer.status).toBe(200);
    expect(answer.body.results[0].error.code).toBe('KV_VERSION_TOO_NEW');
    expect(answer.body.results[1]).toEqual([1, near]);
    expect(answer.body.results[2].error.code).toBe('KV_VERSION_TOO_NEW');
    expect(await call('PUT', '/internal/kv/a', { value: 'x', version: far })).toMatchObject({
      status: 409,
      body: { error: { code: 'KV_VERSION_TOO_NEW' } },
    });
    expect(store.getEntry('a')).toBeUndefined();
  });

  test('a refill is recorded for the node\'s own incarnation only', async () => {
    expect((await call('POST', '/internal/filled', { incarnation: 'fedcba9876543210' })).body.error.code).toBe('KV_NODE_CHANGED');
    expect((await call('POST', '/internal/filled', { incarnation: INCARNATION })).body).toMatchObject({ filled: true });
  });
});

describe('a log that sheds load', () => {
  test('answers 503 KV_OVERLOADED (retry later), not KV_INTERNAL, and logs no error', async () => {
    // A log whose disk never completes a sync: writes queue up to the bound, then the log refuses more.
    const stalled = mkdtempSync(path.join(os.tmpdir(), 'kv-datanode-stalled-'));
    const fs = new StallingFileSystem(new PowerLossFileSystem());
    const slowStore = await openStore(stalled, { fs, sync: 'always', queueBytesMax: 4096 });
    fs.stalled = true;
    const lines: string[] = [];
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    const app = createApp({
      store: slowStore,
      nodeId: 'node9',
      replica: replicaOf(slowStore, 'node9'),
      maxValueBytes: 4096,
      walSync: 'always',
      logger: createLogger({ service: 'datanode', level: 'debug', stream: logStream }),
      registry: createRegistry('datanode'),
    });
    const slowServer = createHttpServer(app.listener);
    const slowBase = `http://127.0.0.1:${await listen(slowServer, 0, '127.0.0.1')}`;
    try {
      let overloaded: { status: number; body: { error?: { code: string } } } | undefined;
      for (let i = 0; i < 20 && overloaded === undefined; i++) {
        const res = fetch(`${slowBase}/internal/batch`, {
          method: 'POST',
          body: JSON.stringify({ ops: [['s', `k${i}`, 'x'.repeat(3000), V1]] }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } }));
        const settled = await Promise.race([res, new Promise<undefined>((resolve) => setTimeout(resolve, 100, undefined))]);
        if (settled !== undefined && settled.status === 503) overloaded = settled;
      }
      expect(overloaded).toMatchObject({ status: 503, body: { error: { code: 'KV_OVERLOADED' } } });
      expect(lines.join('')).not.toMatch(/"level":"error"/);
    } finally {
      slowServer.closeAllConnections();
      await closeServer(slowServer, 10);
      rmSync(stalled, { recursive: true, force: true });
    }
  });
});

describe('memory bounds', () => {
  /** A node of its own with the given heap state and in-flight bounds; `run` gets its base URL. */
  async function withNode(options: { heap?: { refusing: boolean; message(): string }; inFlight?: InFlight }, run: (base: string) => Promise<void>): Promise<void> {
    const app = createApp({
      store,
      nodeId: 'node1',
      replica,
      maxValueBytes: 4096,
      walSync: 'none',
      logger: createLogger({ service: 'datanode', stream: new PassThrough() }),
      registry: createRegistry('datanode'),
      ...options,
    });
    const own = createHttpServer(app.listener);
    const ownBase = `http://127.0.0.1:${await listen(own, 0, '127.0.0.1')}`;
    try {
      await run(ownBase);
    } finally {
      await closeServer(own, 100);
    }
  }
  const post = async (base: string, route: string, body: unknown, method = 'POST') => {
    const res = await fetch(base + route, { method, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { results?: unknown[]; error?: { code: string; message: string } } };
  };

  test('while the heap is nearly full, writes of values are refused with KV_OVERLOADED; deletes and reads pass', async () => {
    const heap = { refusing: true, message: () => 'the heap is 95% full' };
    await withNode({ heap }, async (own) => {
      const batch = await post(own, '/internal/batch', { ops: [['s', 'a', 'v', V1], ['d', 'b', V1], ['g', 'a']] });
      expect(batch).toEqual({
        status: 200,
        body: { results: [{ error: { code: 'KV_OVERLOADED', message: 'the heap is 95% full' } }, [1, V1], null] },
      });
      expect(await post(own, '/internal/kv/a', { value: 'v', version: V1 }, 'PUT')).toEqual({
        status: 503,
        body: { error: { code: 'KV_OVERLOADED', message: 'the heap is 95% full' } },
      });
      heap.refusing = false;
      expect((await post(own, '/internal/batch', { ops: [['s', 'a', 'v', V1]] })).body).toEqual({ results: [[1, V1]] });
    });
  });

  test('an answer holds values up to MAX_BYTES_IN_FLIGHT: reads beyond it fail alone with KV_OVERLOADED, and the bytes are given back', async () => {
    const values = ['a', 'b', 'c', 'd'].map((key) => ['s', key, key.repeat(3000), V1] as const);
    const inFlight = new InFlight({ requestsMax: 10, bytesMax: 7000 });
    await withNode({ inFlight }, async (own) => {
      // A body larger than the whole bound is admitted while nothing else is held.
      expect((await post(own, '/internal/batch', { ops: values })).body.results).toEqual([[1, V1], [1, V1], [1, V1], [1, V1]]);
      const reads = await post(own, '/internal/batch', { ops: [['g', 'a'], ['g', 'b'], ['g', 'c'], ['g', 'd']] });
      expect(reads.status).toBe(200);
      const results = reads.body.results as unknown[];
      expect(results.slice(0, 2)).toEqual([
        [V1, 'a'.repeat(3000)],
        [V1, 'b'.repeat(3000)],
      ]);
      expect(results.slice(2)).toEqual([
        { error: { code: 'KV_OVERLOADED', message: expect.stringContaining('MAX_BYTES_IN_FLIGHT=7000') } },
        { error: { code: 'KV_OVERLOADED', message: expect.stringContaining('MAX_BYTES_IN_FLIGHT=7000') } },
      ]);
      for (let i = 0; i < 50 && inFlight.requests > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect({ requests: inFlight.requests, bytes: inFlight.bytes }).toEqual({ requests: 0, bytes: 0 });
      expect((await fetch(`${own}/health`)).status).toBe(200);
    });
  });
});

/** A file system whose syncs never complete while `stalled`: a disk that stopped answering. */
class StallingFileSystem implements FileSystem {
  stalled = false;
  constructor(private readonly inner: FileSystem) {}
  mkdir(dir: string): Promise<void> {
    return this.inner.mkdir(dir);
  }
  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }
  async open(file: string, mode: OpenMode): Promise<FileHandle> {
    const handle = await this.inner.open(file, mode);
    const never = new Promise<void>(() => undefined);
    return {
      read: (...args) => handle.read(...args),
      write: (...args) => handle.write(...args),
      writev: (...args) => handle.writev(...args),
      datasync: () => (this.stalled ? never : handle.datasync()),
      sync: () => (this.stalled ? never : handle.sync()),
      truncate: (length) => handle.truncate(length),
      size: () => handle.size(),
      close: () => handle.close(),
    };
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  unlink(file: string): Promise<void> {
    return this.inner.unlink(file);
  }
  syncDir(dir: string): Promise<void> {
    return this.stalled ? new Promise<void>(() => undefined) : this.inner.syncDir(dir);
  }
}
