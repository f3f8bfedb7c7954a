import { encodeVersion } from '@kv/protocol';
import type { ReplicaEntry, Transport } from '../transport';

/** What the transport compliance suite runs against: a transport to some nodes, and ways to fail and inspect them. */
export interface TransportFixture {
  transport: Transport;
  /** At least two nodes reachable through `transport`, all empty. */
  nodeIds: readonly string[];
  /** Makes a node unreachable (calls fail within their deadline, nothing is applied). */
  takeDown(nodeId: string): Promise<void>;
  /** Undoes {@link TransportFixture.takeDown}. */
  bringUp(nodeId: string): Promise<void>;
  /** Deadline to pass to calls, in ms. */
  timeoutMs: number;
  /** Releases what the fixture started. */
  close(): Promise<void>;
}

const version = (ms: number, clockId = 't'): string => encodeVersion({ ms: 1_700_000_000_000 + ms, counter: 0, clockId });

/**
 * The behaviour every {@link Transport} must have, run against each implementation (the in-memory cluster, the
 * batching transport over the in-memory cluster, the batching transport over HTTP to real data nodes): the contract of
 * `transport.ts`, observed from the coordinator's side.
 */
export function describeTransportCompliance(name: string, setup: () => Promise<TransportFixture>): void {
  describe(`${name} (Transport compliance)`, () => {
    let fixture: TransportFixture;
    beforeEach(async () => {
      fixture = await setup();
    });
    afterEach(async () => {
      await fixture?.close();
    });

    it('writes and reads a value, a tombstone, and reports a key never written as undefined', async () => {
      const { transport, nodeIds, timeoutMs } = fixture;
      const [a] = nodeIds;
      await expect(transport.write(a, { key: 'k', value: 'v', version: version(1) }, timeoutMs)).resolves.toEqual({ applied: true, version: version(1) });
      await expect(transport.read(a, 'k', timeoutMs)).resolves.toEqual<ReplicaEntry>({ value: 'v', version: version(1) });
      await expect(transport.write(a, { key: 'k', value: null, version: version(2) }, timeoutMs)).resolves.toEqual({ applied: true, version: version(2) });
      await expect(transport.read(a, 'k', timeoutMs)).resolves.toEqual<ReplicaEntry>({ value: null, version: version(2) });
      await expect(transport.read(a, 'never', timeoutMs)).resolves.toBeUndefined();
    });

    it('applies a write only if it is newer; resending is harmless; the reply names the version held', async () => {
      const { transport, nodeIds, timeoutMs } = fixture;
      const [a] = nodeIds;
      await transport.write(a, { key: 'k', value: 'new', version: version(5) }, timeoutMs);
      await expect(transport.write(a, { key: 'k', value: 'old', version: version(4) }, timeoutMs)).resolves.toEqual({
        applied: false,
        version: version(5),
      });
      await expect(transport.write(a, { key: 'k', value: 'new', version: version(5) }, timeoutMs)).resolves.toEqual({
        applied: false,
        version: version(5),
      });
      await expect(transport.read(a, 'k', timeoutMs)).resolves.toEqual({ value: 'new', version: version(5) });
    });

    it('keeps nodes apart, and carries any key and value text unchanged', async () => {
      const { transport, nodeIds, timeoutMs } = fixture;
      const [a, b] = nodeIds;
      const key = 'ключ/with spaces?&=%2F 😀';
      const value = 'line\nbreak "quoted" \\ \u0000 é 😀';
      await transport.write(a, { key, value, version: version(1) }, timeoutMs);
      await expect(transport.read(a, key, timeoutMs)).resolves.toEqual({ value, version: version(1) });
      await expect(transport.read(b, key, timeoutMs)).resolves.toBeUndefined();
    });

    it('runs concurrent calls to several nodes, each with its own answer', async () => {
      const { transport, nodeIds, timeoutMs } = fixture;
      const writes = nodeIds.flatMap((nodeId, n) =>
        Array.from({ length: 20 }, (_, i) => transport.write(nodeId, { key: `k${i}`, value: `${nodeId}-${i}`, version: version(n * 100 + i) }, timeoutMs)),
      );
      await Promise.all(writes);
      const reads = await Promise.all(nodeIds.map((nodeId) => transport.read(nodeId, 'k7', timeoutMs)));
      expect(reads.map((entry) => entry?.value)).toEqual(nodeIds.map((nodeId) => `${nodeId}-7`));
    });

    it('writes many to one node, one reply per request in order', async () => {
      const { transport, nodeIds, timeoutMs } = fixture;
      const [a] = nodeIds;
      await transport.write(a, { key: 'held', value: 'x', version: version(9) }, timeoutMs);
      const requests = [
        { key: 'm1', value: 'one', version: version(1) },
        { key: 'held', value: 'older', version: version(2) },
        { key: 'm2', value: null, version: version(3) },
      ];
      const replies = transport.writeMany
        ? await transport.writeMany(a, requests, timeoutMs)
        : await Promise.all(requests.map((request) => transport.write(a, request, timeoutMs)));
      expect(replies).toEqual([
        { applied: true, version: version(1) },
        { applied: false, version: version(9) },
        { applied: true, version: version(3) },
      ]);
    });

    it('fails calls to an unreachable node within about their deadline, and recovers when it is back', async () => {
      const { transport, nodeIds, timeoutMs } = fixture;
      const [a, b] = nodeIds;
      await fixture.takeDown(a);
      const started = Date.now();
      await expect(transport.write(a, { key: 'k', value: 'v', version: version(1) }, timeoutMs)).rejects.toBeInstanceOf(Error);
      await expect(transport.read(a, 'k', timeoutMs)).rejects.toBeInstanceOf(Error);
      expect(Date.now() - started).toBeLessThan(4 * timeoutMs + 2000);
      // Another node is not affected.
      await expect(transport.write(b, { key: 'k', value: 'v', version: version(1) }, timeoutMs)).resolves.toMatchObject({ applied: true });
      await fixture.bringUp(a);
      await expect(transport.write(a, { key: 'k', value: 'v2', version: version(2) }, timeoutMs)).resolves.toMatchObject({ applied: true });
    });
  });
}
