import { TestCluster, keepClusterFiles, request } from '@kv/testkit';

/**
 * Memory is bounded in bytes, and a process under more than it can hold refuses work instead of dying. The scenario
 * that took a proxy to 1.3 GB (four concurrent batches of 1000 reads over eight 1 MB values, every batch failing without
 * an answer) now answers every batch: the first values up to MAX_BATCH_RESPONSE_BYTES, the other reads refused alone,
 * and every process stays under a stated bound and keeps serving.
 */

const MB = 1_000_000;
/** Resident memory a process may reach during the test (the bounds: 16 MiB of answer per batch, 256 MiB in flight). */
const RSS_BOUND = 600 * 1024 * 1024;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ relays: false });
});

afterAll(async () => {
  await cluster?.stop({ keepFiles: keepClusterFiles() });
});

async function residentBytes(url: string): Promise<number> {
  const metrics = await request(url, 'GET', '/metrics');
  const match = /^process_resident_memory_bytes(?:\{[^}]*\})? (\d+)/m.exec(String(metrics.body));
  if (match === null) throw new Error(`${url}/metrics has no process_resident_memory_bytes`);
  return Number(match[1]);
}

interface BatchResult {
  status: number;
  value?: string;
  error?: { code: string };
}

test('four concurrent batches of 1000 reads over eight 1 MB values: every batch answers, memory stays bounded', async () => {
  const keys = Array.from({ length: 8 }, (_, i) => `big:${i}`);
  for (const key of keys) {
    expect((await request(cluster.proxyUrl, 'PUT', `/kv/${encodeURIComponent(key)}`, { value: key.at(-1)?.repeat(MB) })).status).toBe(200);
  }
  const ops = Array.from({ length: 1000 }, (_, i) => ({ op: 'get', key: keys[i % keys.length] }));
  const processes = [cluster.proxyUrl, ...cluster.nodes.map((node) => node.url)];
  const peaks = processes.map(() => 0);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rss = await Promise.all(processes.map((url) => residentBytes(url).catch(() => 0)));
      rss.forEach((bytes, i) => (peaks[i] = Math.max(peaks[i], bytes)));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const answers = await Promise.all(Array.from({ length: 4 }, () => request(cluster.proxyUrl, 'POST', '/batch', { ops }, {}, 60_000)));
  sampling = false;
  await sampler;
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    const results = (answer.body as { results: BatchResult[] }).results;
    expect(results).toHaveLength(1000);
    const served = results.filter((result) => result.status === 200);
    const statuses = new Set(results.map((result) => (result.status === 200 ? 200 : `${result.status} ${result.error?.code}`)));
    // Values up to the bound, each read beyond it refused alone (413 past the answer's bound, 503 past a process's).
    expect(served.length).toBeGreaterThan(0);
    expect(served.length).toBeLessThanOrEqual(17);
    // 503: refused by a bound (KV_OVERLOADED), or replicas that refused the read or answered late under this load
    // (KV_QUORUM_FAILED, KV_NOT_READY): a refusal to retry, never a lost answer.
    for (const status of statuses) expect(String(status)).toMatch(/^(200|413 KV_TOO_LARGE|503 KV_[A-Z_]+)$/);
    for (const result of served) expect(result.value).toHaveLength(MB);
  }
  process.stdout.write(`overload: peak resident memory (proxy, nodes) ${peaks.map((bytes) => Math.round(bytes / 1024 / 1024)).join(', ')} MiB\n`);
  for (const peak of peaks) expect(peak).toBeLessThan(RSS_BOUND);
  for (const url of processes) expect((await request(url, 'GET', '/health')).status).toBe(200);
  expect((await request(cluster.proxyUrl, 'PUT', '/kv/after', { value: 'ok' })).status).toBe(200);
});
