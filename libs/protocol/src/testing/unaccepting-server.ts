import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';

/** A listener whose connects hang: see {@link startUnacceptingServer}. */
export interface UnacceptingServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Ends the child process and the sockets that fill its queue. */
  close(): Promise<void>;
}

/**
 * Longest wait for one filling connect, in ms: a connect to 127.0.0.1 completes in well under 1 ms when it can; the margin
 * is for a loaded machine, where a slow connect taken for a hanging one would make the test fail, not pass.
 */
const FILL_CONNECT_WAIT_MS = 500;
/** Most connects tried to fill the queue: with a backlog of 1, Linux queues 2 and drops the SYN of the third. */
const FILL_CONNECTS_MAX = 16;
/** Longest wait for the child to print its port, in ms. */
const CHILD_START_MS_MAX = 10_000;

// Listens with a backlog of 1, prints the port, then blocks its only thread without spinning: libuv never accepts, so
// the kernel's accept queue stays full once filled.
const CHILD_SCRIPT = `
const net = require('node:net');
const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
});
`;

/**
 * Starts, in a child process, a TCP listener on 127.0.0.1 that never accepts, and fills its accept queue, so that a
 * new connect to it hangs (its SYN is dropped) instead of being refused or completed: the way a host that drops packets
 * looks to a client.
 * @throws Error when connects still complete after {@link FILL_CONNECTS_MAX} tries (a kernel that queues more than
 * asked), or when one fails (refused) instead of hanging: a test relying on a hanging connect must fail then, not pass by
 * accident.
 */
export async function startUnacceptingServer(): Promise<UnacceptingServer> {
  const child = spawn(process.execPath, ['-e', CHILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: net.Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    await stopChild(child);
  };
  try {
    const port = await readPort(child);
    for (let i = 0; i < FILL_CONNECTS_MAX; i++) {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      fillers.push(socket);
      const outcome = await connectOutcome(socket, FILL_CONNECT_WAIT_MS);
      if (outcome === 'hung') return { url: `http://127.0.0.1:${port}`, close };
      if (outcome instanceof Error) {
        throw new Error(`a connect to a listener that never accepts failed instead of hanging: ${outcome.message}`);
      }
    }
    throw new Error(
      `connects to a listener that never accepts still complete after ${FILL_CONNECTS_MAX} tries: ` +
        'cannot make a connect hang here',
    );
  } catch (err) {
    await close();
    throw err;
  }
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('the unaccepting server did not start')), CHILD_START_MS_MAX);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the unaccepting server exited with ${code}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /^(\d+)\n/.exec(text);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
}

function connectOutcome(socket: net.Socket, waitMs: number): Promise<'connected' | 'hung' | Error> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('hung'), waitMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve('connected');
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    // Its thread is blocked: only a signal's default action ends it.
    child.kill('SIGKILL');
  });
}
