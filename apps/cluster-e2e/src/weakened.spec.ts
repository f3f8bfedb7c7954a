import { rmSync, writeFileSync } from 'node:fs';
import { HashRing } from '@kv/ring';
import { encodeKey } from '@kv/protocol';
import {
  DELETE_SETTINGS,
  HistoryRecorder,
  TestCluster,
  checkDeletes,
  checkRegister,
  checkTtl,
  diskFaultFile,
  eventually,
  formatDeletes,
  formatReport,
  formatTtl,
  keepClusterFiles,
  request,
  type DeletedKey,
  type TtlOperation,
} from '@kv/testkit';

// The harness must be able to fail: each scripted scenario below runs twice, once against a deliberately weakened
// setting, where the history checker must report a violation, and once with the defaults, where it must not.

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
  cluster = undefined;
});

const NODES = ['node1', 'node2', 'node3'];
const ring = new HashRing(NODES, { vnodes: 128 });
const KEY = 'weak-key';
const [P1, P2, P3] = ring.preferenceList(KEY, 3);

/** Hints are the proxy's other repair mechanism; with a one-hint store they are dropped, so only reads repair. */
const NO_HINTS = { HINTS_MAX: '1' };

async function nodeStatus(c: TestCluster, id: string): Promise<string> {
  const res = await request(c.proxyUrl, 'GET', '/cluster');
  return res.body.nodes.find((n: { id: string }) => n.id === id).status;
}

/** Resets the proxy's links to the nodes (requests fail at once) and waits until the proxy sees them down. */
async function cut(c: TestCluster, ...ids: string[]): Promise<void> {
  for (const id of ids) c.node(id).relay.reset();
  for (const id of ids) await eventually(async () => (await nodeStatus(c, id)) === 'down', 5000, 50);
}

async function hintsRecorded(c: TestCluster): Promise<number> {
  const match = /^kv_hints_recorded_total\{[^}]*\} (\d+)$/m.exec((await request(c.proxyUrl, 'GET', '/metrics')).body);
  return match === null ? 0 : Number(match[1]);
}

async function heal(c: TestCluster, ...ids: string[]): Promise<void> {
  for (const id of ids) c.node(id).relay.heal();
  for (const id of ids) await eventually(async () => (await nodeStatus(c, id)) === 'up', 5000, 20);
}

/**
 * Writes other keys so that a one-hint store drops the hints of earlier writes (each write misses the same cut
 * replicas, so each records newer hints), then waits until every hint was recorded.
 */
async function flushHints(c: TestCluster, recorder: HistoryRecorder, hintsPerWrite: number): Promise<void> {
  const before = await hintsRecorded(c);
  for (let i = 0; i < 3; i++) await recorder.write(`other-${i}`, `x${i}`);
  await eventually(async () => (await hintsRecorded(c)) >= before + 3 * hintsPerWrite, 5000, 20);
}

async function readsWithOneReplicaUnderPartition(readQuorum: number): Promise<ReturnType<typeof checkRegister>> {
  const c = (cluster = await TestCluster.start({ proxyEnv: NO_HINTS }));
  const recorder = new HistoryRecorder(c.proxyUrl);
  expect(await recorder.write(KEY, 'v1')).toBe(200);
  await cut(c, P1);
  expect(await recorder.write(KEY, 'v2')).toBe(200); // acknowledged by the other two replicas
  await eventually(async () => (await hintsRecorded(c)) >= 1, 5000, 20);
  await flushHints(c, recorder, 1);
  await heal(c, P1);
  await recorder.read(KEY, readQuorum); // the primary first: with r=1 it alone answers
  return checkRegister(recorder.history);
}

async function backgroundReadRepair(mode: 'background' | 'blocking'): Promise<ReturnType<typeof checkRegister>> {
  const c = (cluster = await TestCluster.start({
    proxyEnv: { ...NO_HINTS, TEST_READ_REPAIR: mode, TEST_READ_REPAIR_DELAY_MS: '5000' },
  }));
  const recorder = new HistoryRecorder(c.proxyUrl);
  expect(await recorder.write(KEY, 'v1')).toBe(200);
  // A write that reaches only the third replica: its outcome is unknown.
  await cut(c, P1, P2);
  expect(await recorder.write(KEY, 'v2')).toBe(503);
  await eventually(async () => (await hintsRecorded(c)) >= 2, 5000, 20);
  await flushHints(c, recorder, 2);
  await heal(c, P1, P2);
  // With the second replica away, a read asks the first and the third, and sees v2 ...
  await cut(c, P2);
  expect(await recorder.read(KEY)).toBe('v2');
  // ... and once it is back, a read of the first two must not go back to v1.
  await heal(c, P2);
  await recorder.read(KEY);
  return checkRegister(recorder.history);
}

async function clockSteppedBack(unsafe: boolean): Promise<ReturnType<typeof checkRegister>> {
  const c = (cluster = await TestCluster.start());
  const recorder = new HistoryRecorder(c.proxyUrl);
  expect(await recorder.write(KEY, 'v1')).toBe(200);
  await c.restartProxy({ TEST_CLOCK_OFFSET_MS: String(-60_000), ...(unsafe ? { TEST_UNSAFE_CLOCK: '1' } : {}) }, true);
  expect(await recorder.write(KEY, 'v2')).toBe(200);
  await recorder.read(KEY);
  return checkRegister(recorder.history);
}

/**
 * The disks of two replicas fail under their logs while a write arrives, its third replica is away and the proxy's
 * hint disk fails too (no hint keeps the write). A node that carries on after a failed write (`ignoreErrors`)
 * acknowledges what never reached its disk, and a crash takes it back; a node that stops at once cannot.
 */
async function disksFailUnderTwoReplicas(ignoreErrors: boolean): Promise<ReturnType<typeof checkRegister>> {
  const c = (cluster = await TestCluster.start({
    diskFaults: true,
    nodeEnv: ignoreErrors ? { TEST_IGNORE_DISK_ERRORS: 'true' } : {},
  }));
  const recorder = new HistoryRecorder(c.proxyUrl);
  expect(await recorder.write(KEY, 'v1')).toBe(200);
  await cut(c, P3);
  writeFileSync(diskFaultFile(c.dir, c.proxies[0].name), 'EIO');
  for (const id of [P1, P2]) writeFileSync(diskFaultFile(c.dir, id), 'EIO');
  expect(await recorder.write(KEY, 'v2')).toBe(ignoreErrors ? 200 : 503);
  // A crash of both (the careful node has exited already), then the disks and the third replica come back.
  await Promise.all([P1, P2].map((id) => c.killNode(id)));
  for (const name of [P1, P2, c.proxies[0].name]) rmSync(diskFaultFile(c.dir, name), { force: true });
  await Promise.all([P1, P2].map((id) => c.restartNode(id)));
  await heal(c, P1, P2, P3);
  await recorder.read(KEY);
  return checkRegister(recorder.history);
}

/**
 * Keys deleted while one replica is down, past the grace period; tombstones collected by anti-entropy rounds asked for
 * before and after the replica comes back; then every key read from every replica. Returns the delete checker's verdict.
 */
async function deletedWhileNodeDown(weaken: boolean): Promise<ReturnType<typeof checkDeletes>> {
  const c = (cluster = await TestCluster.start({
    proxyEnv: { ...DELETE_SETTINGS.proxyEnv, ANTI_ENTROPY_INTERVAL_MS: '0', ...(weaken ? { TEST_WEAKEN: 'purge-without-confirmation', TEST_FAULTS: 'true' } : {}) },
    nodeEnv: DELETE_SETTINGS.nodeEnv,
  }));
  const keys: DeletedKey[] = [];
  for (let i = 0; i < 20; i++) {
    const key = `zombie-${i}`;
    expect((await request(c.proxyUrl, 'PUT', `/kv/${encodeKey(key)}`, { value: `v${i}` })).status).toBe(200);
    keys.push({ key, value: `v${i}`, write: 'ok', delete: 'fail' });
  }
  await c.killNode('node3');
  await eventually(async () => (await nodeStatus(c, 'node3')) === 'down', 5000, 50);
  for (const key of keys) {
    expect((await request(c.proxyUrl, 'DELETE', `/kv/${encodeKey(key.key)}`)).status).toBe(200);
    key.delete = 'ok';
  }
  // Past the grace: the tombstones may be collected, and node3's hints are too old to deliver.
  await new Promise((resolve) => setTimeout(resolve, Number(DELETE_SETTINGS.proxyEnv.TOMBSTONE_GRACE_MS) + 1500));
  await request(c.proxyUrl, 'POST', '/cluster/repair', { wait: true }, {}, 60_000);
  await c.restartNode('node3');
  await eventually(async () => (await nodeStatus(c, 'node3')) === 'up', 10_000, 50);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  for (let i = 0; i < 2; i++) await request(c.proxyUrl, 'POST', '/cluster/repair', { wait: true }, {}, 60_000);
  const res = await request(c.proxyUrl, 'POST', '/batch?r=3', { ops: keys.map((key) => ({ op: 'get', key: key.key })) });
  expect(res.status).toBe(200);
  const present = new Map<string, string | undefined>(keys.map((key, i) => [key.key, res.body.results[i].status === 200 ? res.body.results[i].value : undefined]));
  let tombstones = 0;
  for (const node of c.nodes) tombstones += (await request(node.url, 'GET', '/health')).body.tombstones;
  return checkDeletes(keys, [], present, tombstones);
}

/**
 * Keys set with a ttl of 2 s while one replica is down, so that it gets them through hints once it is back; then,
 * past their expiry and the nodes' conversion of expired values to tombstones, every key read from every replica.
 * Returns the TTL checker's verdict.
 */
async function expiredWhileNodeDown(weaken: boolean): Promise<ReturnType<typeof checkTtl>> {
  const c = (cluster = await TestCluster.start({
    proxyEnv: { ...DELETE_SETTINGS.proxyEnv, ANTI_ENTROPY_INTERVAL_MS: '0', ...(weaken ? { TEST_WEAKEN: 'hints-without-expiry', TEST_FAULTS: 'true' } : {}) },
    nodeEnv: DELETE_SETTINGS.nodeEnv,
  }));
  await c.killNode('node3');
  await eventually(async () => (await nodeStatus(c, 'node3')) === 'down', 5000, 50);
  const history: TtlOperation[] = [];
  for (let i = 0; i < 20; i++) {
    const op: TtlOperation = { id: history.length, process: 0, key: `expiring-${i}`, kind: 'set', value: `v${i}`, ttlMs: 2000, outcome: 'ok', invokedAt: Date.now(), completedAt: 0 };
    const res = await request(c.proxyUrl, 'PUT', `/kv/${encodeKey(op.key)}`, { value: op.value, ttl: 2 });
    op.completedAt = Date.now();
    expect(res.status).toBe(200);
    Object.assign(op, { version: res.body.version, expiresAt: res.body.expiresAt });
    history.push(op);
  }
  // node3 comes back and gets its hints.
  await c.restartNode('node3');
  await eventually(async () => (await nodeStatus(c, 'node3')) === 'up', 10_000, 50);
  await eventually(async () => /^kv_hints_pending\{[^}]*\} 0$/m.test((await request(c.proxyUrl, 'GET', '/metrics')).body), 10_000, 50);
  // Past every expiry, and past MAX_CLOCK_SKEW_MS more and a sweep: the replicas have turned their copies into tombstones.
  const converted = Math.max(...history.map((op) => op.expiresAt as number)) + Number(DELETE_SETTINGS.nodeEnv.MAX_CLOCK_SKEW_MS) + 2000;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, converted - Date.now())));
  for (const set of [...history]) {
    const op: TtlOperation = { id: history.length, process: 1, key: set.key, kind: 'read', value: null, outcome: 'ok', invokedAt: Date.now(), completedAt: 0 };
    const res = await request(c.proxyUrl, 'GET', `/kv/${encodeKey(op.key)}?r=3`);
    op.completedAt = Date.now();
    expect([200, 404]).toContain(res.status);
    if (res.status === 200) Object.assign(op, { value: res.body.value, version: res.body.version, ...(res.body.expiresAt === undefined ? {} : { expiresAt: res.body.expiresAt }) });
    history.push(op);
  }
  return checkTtl(history, { clockBoundMs: 0 });
}

describe('the checker catches weakened settings', () => {
  test('hints recorded without their expiry let expired values come back', async () => {
    const result = await expiredWhileNodeDown(true);
    expect(formatTtl(result)).toMatch(/^ttl: INVALID /);
    expect(result.violations.filter((v) => v.kind === 'expired').length).toBeGreaterThan(0);
  });

  test('the same with hints that carry the expiry keeps them expired', async () => {
    const result = await expiredWhileNodeDown(false);
    expect(formatTtl(result)).toBe('ttl: VALID — 20 sets (20 acknowledged with a ttl), 0 deletes, 20 reads (20 past an expiry, 20 of them not found), 0 violations');
  });

  test('tombstones purged without every replica confirming let deleted values come back', async () => {
    const result = await deletedWhileNodeDown(true);
    expect(formatDeletes(result)).toMatch(/^deletes: INVALID /);
    expect(result.resurrected.length).toBeGreaterThan(0);
  });

  test('the same with confirmation by every replica keeps them deleted', async () => {
    const result = await deletedWhileNodeDown(false);
    expect(formatDeletes(result)).toBe('deletes: VALID — 20 keys, 20 deletes acknowledged, 0 came back, 0 tombstones left');
  });

  test('reads with r=1 under a partition return a stale value', async () => {
    const result = await readsWithOneReplicaUnderPartition(1);
    expect(formatReport(result)).toMatch(/^register: INVALID /);
    expect(result.valid).toBe(false);
  });

  test('the same with the default r=2 is linearizable', async () => {
    const result = await readsWithOneReplicaUnderPartition(2);
    expect(formatReport(result)).toMatch(/^register: VALID /);
    expect(result.valid).toBe(true);
  });

  test('read repair in the background lets a read go back in time', async () => {
    const result = await backgroundReadRepair('background');
    expect(result.valid).toBe(false);
  });

  test('the same with blocking read repair is linearizable', async () => {
    const result = await backgroundReadRepair('blocking');
    expect(formatReport(result)).toMatch(/^register: VALID /);
    expect(result.valid).toBe(true);
  });

  test('a proxy clock stepped back without its floor hides a later write', async () => {
    const result = await clockSteppedBack(true);
    expect(result.valid).toBe(false);
  });

  test('the same with the clock floor is linearizable', async () => {
    const result = await clockSteppedBack(false);
    expect(result.valid).toBe(true);
  });

  test('data nodes that carry on after a failed disk write lose an acknowledged write', async () => {
    const result = await disksFailUnderTwoReplicas(true);
    expect(formatReport(result)).toMatch(/^register: INVALID /);
    expect(result.valid).toBe(false);
  });

  test('the same with nodes that stop at a failed disk write is linearizable', async () => {
    const result = await disksFailUnderTwoReplicas(false);
    expect(formatReport(result)).toMatch(/^register: VALID /);
    expect(result.valid).toBe(true);
  });

  test('the scripted keys have the preference list the scenarios assume', () => {
    expect(new Set([P1, P2, P3]).size).toBe(3);
  });
});
