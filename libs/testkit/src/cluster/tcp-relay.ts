import net from 'node:net';

/** What a relay does with the traffic between a client and its target. */
export type RelayMode =
  /** Forwards everything (after `latencyMs`, when set). */
  | 'pass'
  /** Accepts connections and forwards nothing, both ways: requests hang until the client's deadline (a cut link). */
  | 'hang'
  /** Resets every connection, open and new (a link that refuses). */
  | 'reset';

/**
 * A TCP relay in front of one server, so that tests can cut, slow or reset the link between a client (the proxy) and
 * that server (a data node) without touching either process. Listens on 127.0.0.1 on a free port.
 */
export class TcpRelay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private modeNow: RelayMode = 'pass';
  private latency = 0;
  /** Port the relay listens on. */
  port = 0;
  /** Bytes forwarded from clients to the target, and from the target back to clients, since the relay was made. */
  bytesToTarget = 0;
  bytesFromTarget = 0;

  constructor(private targetPort: number) {}

  get mode(): RelayMode {
    return this.modeNow;
  }

  /** Starts listening (on `port`, or a free one). */
  async start(port = 0): Promise<number> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Points the relay at another target port (a restarted server); open connections are closed. */
  retarget(targetPort: number): void {
    this.targetPort = targetPort;
    this.closeConnections();
  }

  /** Forwards nothing from now on: open connections stall, new ones are accepted and stall. */
  cut(): void {
    this.modeNow = 'hang';
  }

  /** Resets open connections and every new one. */
  reset(): void {
    this.modeNow = 'reset';
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  /** Adds `latencyMs` to every chunk forwarded, both ways. */
  slow(latencyMs: number): void {
    this.latency = latencyMs;
  }

  /** Back to forwarding at full speed; connections stalled by a cut are closed, so clients reconnect. */
  heal(): void {
    if (this.modeNow === 'hang') this.closeConnections();
    this.modeNow = 'pass';
    this.latency = 0;
  }

  /** Stops listening and closes every connection. */
  async stop(): Promise<void> {
    this.closeConnections();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private closeConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private accept(client: net.Socket): void {
    this.track(client);
    if (this.modeNow === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.track(upstream);
    const forward = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (this.modeNow !== 'pass') return; // a cut link drops what it carries
        if (from === client) this.bytesToTarget += chunk.length;
        else this.bytesFromTarget += chunk.length;
        if (this.latency <= 0) to.write(chunk);
        else setTimeout(() => to.destroyed || to.write(chunk), this.latency);
      });
      from.once('end', () => {
        if (this.modeNow === 'pass') to.end();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }
}
