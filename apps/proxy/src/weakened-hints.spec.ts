import { MemoryHintStore } from '@kv/quorum';
import { hintsWithoutExpiry } from './weakened-hints';

test('the weakened hint store records hints without their expiry, and passes everything else through', async () => {
  const inner = new MemoryHintStore({ hintsMax: 10 });
  const weakened = hintsWithoutExpiry(inner);
  await weakened.add({ nodeId: 'node3', key: 'a', value: 'v', version: '000000000001-0000-p1', expiresAt: 5000 });
  await weakened.add({ nodeId: 'node3', key: 'b', value: null, version: '000000000002-0000-p1' });
  expect(weakened.pending('node3', 10)).toEqual([
    { nodeId: 'node3', key: 'a', value: 'v', version: '000000000001-0000-p1' },
    { nodeId: 'node3', key: 'b', value: null, version: '000000000002-0000-p1' },
  ]);
  expect([weakened.count, weakened.nodes(), weakened.bytes > 0, weakened.dropped, weakened.diskDropped]).toEqual([2, ['node3'], true, 0, 0]);
  await weakened.remove(weakened.pending('node3', 1)[0]);
  expect(inner.count).toBe(1);
  await weakened.close();
});
