#!/usr/bin/env node
// Measures the resident memory (VmRSS from /proc/<pid>/status, so Linux only) of one proxy and three data nodes, for
// the resource requests and limits of deploy/kubernetes (docs/kubernetes.md#sizing):
//  1. idle, after start;
//  2. with CONNECTIONS (default 2000) idle RESP connections and as many idle HTTP keep-alive connections open on the
//     proxy (closed again after the reading);
//  3. after writing KEYS keys (default 100000) of VALUE_BYTES bytes (default 100) through the proxy;
//  4. after deleting TOMBSTONES more keys (default KEYS; 0 skips it), never written: each leaves a tombstone (its key
//     and version, no value) on every data node until anti-entropy collects it, TOMBSTONE_GRACE_MS later at least.
// Each data node keeps the range digests anti-entropy compares up to date as writes apply (a fixed 1.25 MiB of cells,
// counted in the idle figure; nothing per key but the key's version in the index).
// Run after `npx nx run-many -t build -p proxy datanode`:  node scripts/measure-memory.mjs
// It uses loopback ports 18000..18003 and 16379 and a temporary data directory, and stops everything at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEYS = Number(process.env.KEYS ?? 100_000);
const VALUE_BYTES = Number(process.env.VALUE_BYTES ?? 100);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 2000);
const TOMBSTONES = Number(process.env.TOMBSTONES ?? KEYS);
const CONCURRENCY = 32;
const dir = mkdtempSync(path.join(os.tmpdir(), 'kv-memory-'));
const nodes = [1, 2, 3].map((i) => ({ id: `node${i}`, port: 18000 + i }));
const proxy = { port: 18000, respPort: 16379 };
const children = [];

function start(app, env) {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'apps', app, 'main.js')], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', CLUSTER_TOKEN: 'measure-memory-token', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

function rssMb(child) {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
  return kb / 1024;
}

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      http.get(url, (res) => { res.resume(); resolve(res.statusCode === 200); }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered 200`);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
/** PUT of `value` to `key` through the proxy, or DELETE of `key` when `value` is undefined. */
function put(key, value) {
  return new Promise((resolve, reject) => {
    const method = value === undefined ? 'DELETE' : 'PUT';
    const body = value === undefined ? '' : JSON.stringify({ value });
    const req = http.request(
      { host: '127.0.0.1', port: proxy.port, method, path: `/kv/${key}`, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => { res.resume(); res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${key}: ${res.statusCode}`)))); },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What data node `port` tells of itself on GET /health (its keys, tombstones included). */
function health(port) {
  return new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/health`, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text)));
    }).on('error', reject);
  });
}

function report(label, proxyChild, nodeChildren) {
  const nodeMb = nodeChildren.map(rssMb);
  console.log(`${label}: proxy ${rssMb(proxyChild).toFixed(1)} MB, data nodes ${nodeMb.map((mb) => mb.toFixed(1)).join(' / ')} MB`);
  return { proxy: rssMb(proxyChild), node: Math.max(...nodeMb), nodes: nodeMb };
}

/** Each data node's growth between two readings, in bytes per item, and their median. */
function perNode(before, after, items) {
  const each = after.nodes.map((mb, i) => ((mb - before.nodes[i]) * 1024 * 1024) / items);
  const median = [...each].sort((a, b) => a - b)[1];
  return `${each.map((b) => b.toFixed(0)).join(' / ')} (median ${median.toFixed(0)})`;
}

async function main() {
  const nodeChildren = nodes.map((node) => start('datanode', { NODE_ID: node.id, PORT: String(node.port), DATA_DIR: path.join(dir, node.id) }));
  for (const node of nodes) await waitFor(`http://127.0.0.1:${node.port}/health`);
  const proxyChild = start('proxy', {
    PORT: String(proxy.port),
    RESP_PORT: String(proxy.respPort),
    DATA_DIR: path.join(dir, 'proxy'),
    NODES: nodes.map((node) => `${node.id}=http://127.0.0.1:${node.port}`).join(','),
  });
  await waitFor(`http://127.0.0.1:${proxy.port}/health/ready`);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idle = report('idle', proxyChild, nodeChildren);

  const sockets = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    sockets.push(await new Promise((resolve, reject) => {
      const socket = net.connect(proxy.respPort, '127.0.0.1', () => { socket.write('*1\r\n$4\r\nPING\r\n'); socket.once('data', () => resolve(socket)); });
      socket.once('error', reject);
    }));
    sockets.push(await new Promise((resolve, reject) => {
      const socket = net.connect(proxy.port, '127.0.0.1', () => { socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n'); socket.once('data', () => resolve(socket)); });
      socket.once('error', reject);
    }));
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const connected = report(`${CONNECTIONS} RESP + ${CONNECTIONS} HTTP connections`, proxyChild, nodeChildren);
  for (const socket of sockets) socket.destroy();

  const value = 'v'.repeat(VALUE_BYTES);
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < KEYS) await put(`key-${String(next++).padStart(8, '0')}`, value);
  }));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const loaded = report(`${KEYS} keys of ${VALUE_BYTES} B`, proxyChild, nodeChildren);

  const perKey = ((loaded.node - connected.node) * 1024 * 1024) / KEYS;
  console.log(`data nodes, each: ${perNode(connected, loaded, KEYS)} B per key`);
  const perConnection = ((connected.proxy - idle.proxy) * 1024 * 1024) / (2 * CONNECTIONS);
  console.log(`data node: ${perKey.toFixed(0)} B per key (value ${VALUE_BYTES} B, key about 12 B); proxy: ${(perConnection / 1024).toFixed(1)} KB per connection`);

  if (TOMBSTONES > 0) {
    next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOMBSTONES) await put(`gone-${String(next++).padStart(8, '0')}`, undefined);
    }));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const deleted = report(`and ${TOMBSTONES} tombstones`, proxyChild, nodeChildren);
    const held = await health(nodes[0].port);
    const perTombstone = ((deleted.node - loaded.node) * 1024 * 1024) / TOMBSTONES;
    console.log(`data nodes, each: ${perNode(loaded, deleted, TOMBSTONES)} B per tombstone`);
    console.log(`data node: ${perTombstone.toFixed(0)} B per tombstone (key about 13 B); node1 holds ${held.keys} keys and ${held.tombstones} tombstones`);
  }
  agent.destroy();
}

try {
  await main();
} finally {
  for (const child of children.reverse()) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  rmSync(dir, { recursive: true, force: true });
}
