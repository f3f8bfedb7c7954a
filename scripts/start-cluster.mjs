#!/usr/bin/env node
// `npm start`: builds what is missing and runs the local cluster of docs/configuration.md, the topology of
// docker-compose.yml as local processes: data nodes node1..node3 on 8001..8003, the proxy on 8000, data under ./data/.
// `npm start -- --proxies 2` adds proxies on 8010, 8020, ... (RESP on 6380, 6381, ...), each with its own data
// directory and clock id. Each line a process writes is prefixed with its name; Ctrl-C or SIGTERM stops everything
// (data nodes after the proxies).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(root, process.env.KV_DATA_DIR ?? 'data');
const host = '127.0.0.1';
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, port: 8000 + i }));
const proxyPort = 8000;
// The Redis protocol beside HTTP, as in docker-compose.yml.
const respPort = 6379;
const proxiesArg = process.argv.indexOf('--proxies');
const proxyCount = proxiesArg >= 0 ? Number(process.argv[proxiesArg + 1]) : 1;
if (!Number.isInteger(proxyCount) || proxyCount < 1 || proxyCount > 9) {
  process.stderr.write('usage: npm start -- [--proxies N]   (N from 1 to 9)\n');
  process.exit(2);
}
const proxies = Array.from({ length: proxyCount }, (_, i) => ({
  name: i === 0 ? 'proxy' : `proxy${i + 1}`,
  port: i === 0 ? proxyPort : proxyPort + 10 * i,
  respPort: i === 0 ? respPort : respPort + i,
}));
const color = process.stdout.isTTY ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
const colors = { proxy: 36, proxy2: 34, proxy3: 96, node1: 32, node2: 33, node3: 35, start: 1 };

function say(name, line) {
  process.stdout.write(`${color(colors[name] ?? 0, name.padEnd(6))} | ${line}\n`);
}

function build() {
  const apps = ['proxy', 'datanode', 'client'];
  say('start', `building ${apps.join(', ')} (cached when nothing changed)...`);
  const result = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...apps, '--output-style=static'], {
    cwd: root,
    env: { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false' },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    say('start', 'the build failed: run "npm ci" first, then "npm start" again');
    process.exit(1);
  }
}

const children = new Map();
let stopping = false;

function run(name, app, env) {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'apps', app, 'main.js')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(name, child);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => say(name, line));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      say('start', `${name} exited (${signal ?? `code ${code}`}); stopping the cluster`);
      stop(1);
    } else if (children.size === 0) {
      say('start', 'stopped');
      process.exit(process.exitCode ?? 0);
    }
  });
  return child;
}

async function waitHealthy(name, port) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!children.has(name)) throw new Error(`${name} exited while starting`);
    try {
      const res = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not become healthy on port ${port} within 30 s`);
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  // The proxies first, so no request reaches a data node that is going away.
  const isProxy = (name) => name.startsWith('proxy');
  const running = [...children].filter(([name]) => isProxy(name)).map(([, child]) => child);
  const stopNodes = () => {
    for (const [name, child] of children) if (!isProxy(name)) child.kill('SIGTERM');
  };
  if (running.length > 0) {
    let left = running.length;
    for (const proxy of running) {
      proxy.once('exit', () => {
        left -= 1;
        if (left === 0) stopNodes();
      });
      proxy.kill('SIGTERM');
    }
  } else {
    stopNodes();
  }
  if (children.size === 0) process.exit(code);
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 15_000).unref();
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

build();
mkdirSync(dataDir, { recursive: true });
for (const node of nodes) {
  run(node.name, 'datanode', {
    PORT: String(node.port),
    HOST: host,
    NODE_ID: node.name,
    DATA_DIR: path.join(dataDir, node.name),
  });
}
try {
  await Promise.all(nodes.map((node) => waitHealthy(node.name, node.port)));
  for (const proxy of proxies) {
    run(proxy.name, 'proxy', {
      PORT: String(proxy.port),
      HOST: host,
      NODES: nodes.map((node) => `${node.name}=http://${host}:${node.port}`).join(','),
      DATA_DIR: path.join(dataDir, proxy.name),
      RESP_PORT: String(proxy.respPort),
    });
  }
  await Promise.all(proxies.map((proxy) => waitHealthy(proxy.name, proxy.port)));
} catch (error) {
  say('start', error.message);
  stop(1);
}
if (!stopping) {
  const where = proxies.map((proxy) => `http://localhost:${proxy.port} (RESP ${proxy.respPort})`).join(', ');
  say('start', `kv is up: ${proxies.length === 1 ? 'proxy' : 'proxies'} on ${where}, data nodes on 8001-8003, data in ${dataDir}`);
  say('start', 'try it in another terminal:  bin/kv set hello world  &&  bin/kv get hello  &&  bin/kv status');
  if (proxies.length > 1) say('start', `with every proxy:  bin/kv --server ${proxies.map((proxy) => `http://localhost:${proxy.port}`).join(',')} status`);
  say('start', `or with a Redis client:        redis-cli -p ${respPort} set hello world  &&  redis-cli -p ${respPort} get hello`);
  say('start', `watch it in a browser:         http://localhost:${proxies[0].port}/ui`);
  say('start', 'press Ctrl-C to stop');
}
