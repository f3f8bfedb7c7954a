import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestCluster, eventually, keepClusterFiles, request } from '@kv/testkit';
import { Writers, sleep, stopAllWriters, verifyReads } from './support/writers';

// Disk faults are injected through the test-only TEST_DISK_FAULT_FILE (allowed by TEST_FAULTS=true): while the file
// exists, writes of the data node's log (or of the proxy's hint log) fail with the code it holds.

let cluster: TestCluster | undefined;
let faultDir: string | undefined;

afterEach(async () => {
  await stopAllWriters();
  await cluster?.stop({ keepFiles: keepClusterFiles() });
  cluster = undefined;
  if (faultDir !== undefined) rmSync(faultDir, { recursive: true, force: true });
  faultDir = undefined;
});

async function nodeStatus(c: TestCluster): Promise<Record<string, string>> {
  const res = await request(c.proxyUrl, 'GET', '/cluster');
  return Object.fromEntries(res.body.nodes.map((n: { id: string; status: string }) => [n.id, n.status]));
}

async function metric(c: TestCluster, pattern: RegExp): Promise<number | undefined> {
  const text: string = (await request(c.proxyUrl, 'GET', '/metrics')).body;
  const match = pattern.exec(text);
  return match === null ? undefined : Number(match[1]);
}

function lines(file: string, text: string): number {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes(text)).length;
}

test('a data node whose disk fills exits saying so, the cluster keeps serving, the proxy survives a failing hint disk, and both recover with the disk: nothing acknowledged is lost', async () => {
  const dir = (faultDir = mkdtempSync(path.join(os.tmpdir(), 'kv-disk-faults-')));
  const nodeFault = path.join(dir, 'node1');
  const hintFault = path.join(dir, 'proxy-hints');
  const c = (cluster = await TestCluster.start({
    nodeEnv: { TEST_FAULTS: 'true' },
    proxyEnv: { TEST_FAULTS: 'true', TEST_DISK_FAULT_FILE: hintFault },
  }));
  const node1 = c.node('node1');
  node1.process.env.TEST_DISK_FAULT_FILE = nodeFault;
  await c.restartNode('node1');
  await eventually(async () => Object.values(await nodeStatus(c)).every((s) => s === 'up'), 5000);

  const writers = new Writers(c.proxyUrl, 4, 20, 'disk');
  writers.start();
  await sleep(500);

  // node1's disk fills: its log cannot promise durability, so it exits (crash-only) and says why.
  writeFileSync(nodeFault, 'ENOSPC');
  await eventually(() => !node1.process.running, 5000);
  expect(readFileSync(node1.process.logFile, 'utf8')).toMatch(/fatal log error, exiting: the disk is full/);
  await eventually(async () => (await nodeStatus(c)).node1 === 'down', 5000);

  // Writes go on with W=2 of the other replicas; node1's share becomes hints, until the proxy's hint disk fails too.
  writers.resetCounts();
  writeFileSync(hintFault, 'EIO');
  await eventually(async () => (await metric(c, /kv_hints_dropped\{reason="disk",service="proxy"\} (\d+)/)) !== 0, 5000);
  expect(await metric(c, /kv_hints_log_failing\{service="proxy"\} (\d+)/)).toBe(1);
  await sleep(500);
  const degraded = writers.resetCounts();
  expect(degraded.ok).toBeGreaterThan(20);
  expect(degraded.quorumFailed + degraded.otherErrors).toBe(0);
  expect(c.proxy.running).toBe(true);
  expect(lines(c.proxy.logFile, 'hint log failed')).toBe(1);

  // The proxy's disk recovers: the hint log opens again (retried every 5 s) and hints are recorded again.
  rmSync(hintFault);
  await eventually(async () => (await metric(c, /kv_hints_log_failing\{service="proxy"\} (\d+)/)) === 0, 8000);
  expect(lines(c.proxy.logFile, 'hint log open again')).toBe(1);

  // While its disk is still full, node1 cannot start; once it has space, it recovers its log and serves again.
  await expect(c.startNode(node1)).rejects.toThrow(/exited/);
  rmSync(nodeFault);
  await c.startNode(node1);
  await eventually(async () => (await nodeStatus(c)).node1 === 'up', 5000);
  await writers.stop();
  expect(writers.acknowledgedKeys().length).toBeGreaterThan(40);
  expect(await verifyReads(c.proxyUrl, writers)).toEqual([]);
}, 60_000);
