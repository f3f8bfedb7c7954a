import net from 'node:net';
import { TcpRelay } from './tcp-relay';

test('a relay counts the bytes it forwards each way', async () => {
  // An echo server that answers each chunk twice, so that the two directions carry different byte counts.
  const server = net.createServer((socket) => socket.on('data', (chunk) => socket.write(Buffer.concat([chunk, chunk]))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const relay = new TcpRelay((server.address() as net.AddressInfo).port);
  try {
    const port = await relay.start();
    expect([relay.bytesToTarget, relay.bytesFromTarget]).toEqual([0, 0]);
    const client = net.connect(port, '127.0.0.1');
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      client.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received === 2000) resolve();
      });
      client.write(Buffer.alloc(1000, 7));
    });
    client.destroy();
    expect([relay.bytesToTarget, relay.bytesFromTarget]).toEqual([1000, 2000]);
  } finally {
    await relay.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
