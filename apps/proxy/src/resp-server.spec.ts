import net from 'node:net';
import type { RespBackend, RespEntry } from '@kv/resp';
import { createLogger } from '@kv/service';
import { Registry } from 'prom-client';
import { RespServer } from './resp-server';

/** A backend over a map that counts its reads. */
class MapBackend implements RespBackend {
  readonly capabilities = { ttl: false, compareAndSet: false };
  readonly entries = new Map<string, string>();
  reads = 0;
  async get(key: string): Promise<RespEntry | undefined> {
    this.reads++;
    const value = this.entries.get(key);
    return value === undefined ? undefined : { value, version: '1' };
  }
  async set(key: string, value: string): Promise<{ version: string }> {
    this.entries.set(key, value);
    return { version: '1' };
  }
  async del(key: string): Promise<{ version: string }> {
    this.entries.delete(key);
    return { version: '1' };
  }
  mget(keys: string[]): Promise<(RespEntry | undefined | Error)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }
  async mset(entries: { key: string; value: string }[]): Promise<{ version: string }[]> {
    return Promise.all(entries.map(({ key, value }) => this.set(key, value)));
  }
  info() {
    return { replicas: 3, writeQuorum: 2, readQuorum: 2, nodes: [], version: '0.1.0', proxyId: 'proxy' };
  }
  now(): number {
    return Date.now();
  }
}

const servers: RespServer[] = [];
const sockets: net.Socket[] = [];

async function start(options: { connectionsMax?: number; idleTimeoutMs?: number } = {}): Promise<{ backend: MapBackend; port: number; server: RespServer; registry: Registry }> {
  const backend = new MapBackend();
  const registry = new Registry();
  const server = new RespServer({
    backend,
    maxValueBytes: 1024 * 1024,
    idleTimeoutMs: options.idleTimeoutMs ?? 0,
    connectionsMax: options.connectionsMax,
    logger: createLogger({ level: 'error', service: 'proxy' }),
    registry,
  });
  servers.push(server);
  const port = await server.listen(0, '127.0.0.1');
  return { backend, port, server, registry };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** Reads from `socket` until `done(received)` holds or the socket closes; resolves with what came and whether it closed. */
function readUntil(socket: net.Socket, done: (received: string) => boolean, timeoutMs = 5000): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let received = '';
    const timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(received.slice(0, 200))}`)), timeoutMs);
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ received, closed });
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (done(received)) finish(false);
    };
    socket.on('data', onData);
    socket.once('close', () => finish(true));
  });
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close(100)));
});

describe('RespServer', () => {
  test('answers commands and counts them in kv_resp_commands_total', async () => {
    const { port, registry } = await start();
    const socket = await connect(port);
    socket.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\nNOPE\r\n');
    const { received } = await readUntil(socket, (r) => r.includes("'NOPE'") || r.includes('NOPE'));
    expect(received).toBe("+OK\r\n$1\r\nv\r\n-ERR unknown command 'NOPE', with args beginning with: \r\n");
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^kv_resp_commands_total\{command="set",status="ok"\} 1$/m);
    expect(metrics).toMatch(/^kv_resp_commands_total\{command="unknown",status="err"\} 1$/m);
    expect(metrics).toMatch(/^kv_resp_connections 1$/m);
  });

  test('a connection over the limit gets Redis refusal and is closed', async () => {
    const { port, registry } = await start({ connectionsMax: 1 });
    await connect(port);
    const second = await connect(port);
    const { received, closed } = await readUntil(second, () => false);
    expect(received).toBe('-ERR max number of clients reached\r\n');
    expect(closed).toBe(true);
    expect(await registry.metrics()).toMatch(/^kv_resp_connections_rejected_total 1$/m);
  });

  test('an idle connection is closed after RESP_IDLE_TIMEOUT_MS', async () => {
    const { port } = await start({ idleTimeoutMs: 150 });
    const socket = await connect(port);
    socket.write('PING\r\n');
    const started = Date.now();
    const { received, closed } = await readUntil(socket, () => false);
    expect(received).toBe('+PONG\r\n');
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  test('a client that does not read: the server stops reading its commands, and goes on once it reads', async () => {
    const { port, backend } = await start();
    backend.entries.set('big', 'x'.repeat(64 * 1024));
    const socket = await connect(port);
    socket.pause();
    const commands = 4000;
    socket.write('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(commands));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // 4000 replies are 256 MiB: the server ran only what fits in the socket buffers, its 1 MiB of output and the
    // commands in flight.
    expect(backend.reads).toBeLessThan(commands / 4);
    const reply = `$${64 * 1024}\r\n${'x'.repeat(64 * 1024)}\r\n`;
    let replies = 0;
    let partial = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        partial += chunk.length;
        replies += Math.floor(partial / reply.length);
        partial %= reply.length;
        if (replies === commands) resolve();
      });
      socket.resume();
    });
    expect(backend.reads).toBe(commands);
  }, 30_000);

  test('close: stops reading, lets replies in flight out, then closes connections', async () => {
    const { port, server } = await start();
    const socket = await connect(port);
    socket.write('PING\r\n');
    await readUntil(socket, (r) => r === '+PONG\r\n');
    const closing = server.close(2000);
    const { closed } = await readUntil(socket, () => false);
    expect(closed).toBe(true);
    await closing;
  });
});
