/**
 * Throughput of `NodeClient.batchSerialized`, the coordinator's hot path, against a minimal data node running in a worker
 * thread, next to plain `http.request` on a keep-alive agent of the same size, a baseline for the cost of axios.
 * Run: `npx tsx libs/protocol/bench/node-client.bench.ts [durationMs]`.
 *
 * Figures (Node 20.20, 2 vCPU shared with the node's worker, 4 requests in flight, 4000 ms, second round; noisy +-30%):
 *   1 op per request:   NodeClient ~3,600 requests/s, http.request ~16,000 requests/s
 *   64 ops per request: NodeClient ~3,100 requests/s (~200,000 ops/s), http.request ~6,500 requests/s
 * A CPU profile puts the difference in axios (config merging, headers, dispatch); this package's own code (reply parsing,
 * error mapping) is about 1% of samples. Hence the rule of docs/design.md#performance: batch the internal traffic, one
 * request per replica per event-loop turn, and the per-request cost of axios stops mattering.
 */
import * as http from 'node:http';
import { Worker } from 'node:worker_threads';
import { encodeInternalBatch } from '../src/internal-codec';
import { InternalOp } from '../src/internal-messages';
import { NodeClient } from '../src/node-client';

const DURATION_MS = Number(process.argv[2] ?? 2000);
const VERSION = '0192f1a2b3c4-0000-proxy';

// The node answers `[1, version]` per operation without parsing values, so the figures measure the client.
const NODE_SOURCE = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const count = JSON.parse(Buffer.concat(chunks).toString()).ops.length;
    const body = JSON.stringify({ results: new Array(count).fill([1, '${VERSION}']) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

async function run(name: string, concurrency: number, send: () => Promise<unknown>): Promise<void> {
  let requests = 0;
  const deadline = Date.now() + DURATION_MS;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await send();
        requests++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${name.padEnd(48)} ${Math.round(requests / seconds).toString().padStart(7)} requests/s`);
}

function rawPost(agent: http.Agent, port: number, body: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/internal/batch', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString());
          resolve();
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const worker = new Worker(NODE_SOURCE, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const client = new NodeClient({ baseUrl: `http://127.0.0.1:${port}`, maxSockets: 4 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    for (const size of [1, 64]) {
      const ops: InternalOp[] = Array.from({ length: size }, (_, i) => ['s', `key-${i}`, 'x'.repeat(100), VERSION]);
      const body = encodeInternalBatch(ops);
      // Two rounds: the first also warms up the JIT of both sides.
      for (const round of [1, 2]) {
        await run(`[${round}] NodeClient.batchSerialized, ${size} op(s)`, 4, () => client.batchSerialized(body, size));
        await run(`[${round}] http.request baseline, ${size} op(s)`, 4, () => rawPost(agent, port, body));
      }
    }
  } finally {
    client.close();
    agent.destroy();
    worker.postMessage('stop');
  }
}

void main();
