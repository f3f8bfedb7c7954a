import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeVersion } from '@kv/protocol';
import { DurableHintStore, Replicator, type Transport, type WriteRequest } from '@kv/quorum';
import { HashRing } from '@kv/ring';
import { stopCoordinator } from './shutdown';

describe('stopCoordinator', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kv-proxy-shutdown-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a write in flight at shutdown, answered at W while one replica has not answered, gets its hint recorded before the hint log closes', async () => {
    const hints = await DurableHintStore.open(dir, { store: { sync: 'none' } });
    let failLate: (error: Error) => void = () => undefined;
    const transport: Transport = {
      write: (nodeId: string, request: WriteRequest) =>
        nodeId === 'c'
          ? new Promise((_resolve, reject) => {
              failLate = reject;
            })
          : Promise.resolve({ applied: true, version: request.version }),
      read: async () => undefined,
    };
    let counter = 0;
    const replicator = new Replicator({
      transport,
      versions: { next: () => encodeVersion({ ms: 1_700_000_000_000 + ++counter, counter: 0, clockId: 't' }), observe: () => true },
      ring: new HashRing(['a', 'b', 'c'], { vnodes: 8 }),
      replicas: 3,
      writeQuorum: 2,
      hints,
    });
    const written = await replicator.set('k', 'v');
    expect(written.acks).toBe(2);

    const order: string[] = [];
    const stopped = stopCoordinator({
      drain: async () => void order.push('drain'),
      stopCoordinator: async () => void order.push('coordinator'),
      replicasSettled: () => replicator.settled(),
      closeNodeClients: () => order.push('clients'),
      closeHints: async () => {
        order.push('hints');
        await hints.close();
      },
    });
    await new Promise((resolve) => setImmediate(resolve));
    // The write to c is still in flight: nothing is closed yet.
    expect(order).toEqual(['drain', 'coordinator']);
    failLate(new Error('timed out'));
    await stopped;
    expect(order).toEqual(['drain', 'coordinator', 'clients', 'hints']);

    const reopened = await DurableHintStore.open(dir, { store: { sync: 'none' } });
    try {
      expect(reopened.pending('c', 10)).toEqual([{ nodeId: 'c', key: 'k', value: 'v', version: written.version }]);
    } finally {
      await reopened.close();
    }
  });
});
